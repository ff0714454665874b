import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSalesforceEmulator, type SalesforceEmulator } from '../server.js';

/**
 * Field-level security is answered from a cache (a Bulk job asks for every cell of every row): what a
 * user may do with a field must still follow every change of what they are granted, however it is
 * made, right after an answer was cached.
 */
let sf: SalesforceEmulator;
beforeAll(async () => {
  sf = await startSalesforceEmulator({});
});
afterAll(async () => {
  await sf.close();
});

function carePlanCaseId() {
  const object = sf.org.schema.objects.get('care_plan__c');
  const field = object?.fields.get('cliniko_case_id__c');
  if (!object || !field) throw new Error('no Care_Plan__c.Cliniko_Case_Id__c in the emulated org');
  return { object, field };
}

describe("a field's access follows the user's grants", () => {
  it('through assignments made by the controls and through PermissionSetAssignment records', () => {
    const { object, field } = carePlanCaseId();
    const user = sf.org.createUser('mia.fls@example.org', 'Mia', 'Marketing');
    const access = () => sf.org.fieldAccess(user.id, object, field);
    expect(access()).toEqual({ read: false, edit: false });
    expect(access()).toEqual({ read: false, edit: false });

    sf.org.assignPermissionSet(user.id, 'Cliniko_Sync_Marketing');
    expect(access()).toEqual({ read: true, edit: false });
    sf.org.assignPermissionSet(user.id, 'Cliniko_Sync_Integration');
    expect(access()).toEqual({ read: true, edit: true });

    sf.org.unassignPermissionSet(user.id, 'Cliniko_Sync_Integration');
    sf.org.unassignPermissionSet(user.id, 'Cliniko_Sync_Marketing');
    expect(access()).toEqual({ read: false, edit: false });

    // An administrator's insert of the assignment record, as through the API.
    const [set] = sf.org.findRecords('PermissionSet', (r) => r.Name === 'Cliniko_Sync_Marketing');
    const assignments = sf.org.schema.objects.get('permissionsetassignment')!;
    const [result] = sf.org.saveBatch(
      sf.org.adminUser.id,
      [
        {
          operation: 'insert',
          object: assignments,
          values: { AssigneeId: user.id, PermissionSetId: set!.Id },
        },
      ],
      false,
    );
    expect(result?.success, JSON.stringify(result)).toBe(true);
    expect(access()).toEqual({ read: true, edit: false });
  });

  it('through a change of profile, and per user', () => {
    const { object, field } = carePlanCaseId();
    const one = sf.org.createUser('one.fls@example.org', 'One', 'User');
    const two = sf.org.createUser('two.fls@example.org', 'Two', 'User');
    sf.org.assignPermissionSet(one.id, 'Cliniko_Sync_Marketing');
    expect(sf.org.fieldAccess(one.id, object, field).read).toBe(true);
    expect(sf.org.fieldAccess(two.id, object, field).read).toBe(false);
    // System Administrator: View All Data, and View All Fields on every object.
    sf.org.setProfile(two.id, 'System Administrator');
    expect(sf.org.fieldAccess(two.id, object, field).read).toBe(true);
  });
});
