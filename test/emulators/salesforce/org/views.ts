/**
 * How records leave the org: as the REST API returns them (visible fields only, with `attributes`)
 * and as the SOQL engine reads them (through the contract in ../model.ts, with the user's security).
 */
import { ApiError } from '../errors.js';
import type { SoqlContext } from '../model.js';
import type { ObjectDef } from '../schema.js';
import type { OrgCore } from './core.js';
import type { Rec } from './types.js';

/**
 * A record as the REST API returns it. Without a field list, every field the user can read (Salesforce
 * leaves out the ones field-level security hides); a named field the user cannot see is INVALID_FIELD,
 * as unknown ones are.
 */
export function present(
  core: OrgCore,
  userId: string,
  object: ObjectDef,
  record: Rec,
  apiVersion: string,
  fields?: string[],
): Rec {
  const out: Rec = {
    attributes: {
      type: object.name,
      url: `/services/data/v${apiVersion}/sobjects/${object.name}/${String(record.Id)}`,
    },
  };
  const wanted =
    fields ??
    [...object.fields.values()]
      .filter((f) => core.security.fieldAccess(userId, object, f).read)
      .map((f) => f.name);
  for (const name of wanted) {
    const f = object.fields.get(name.toLowerCase());
    if (!f || !core.security.fieldAccess(userId, object, f).read) {
      throw new ApiError(
        400,
        'INVALID_FIELD',
        `No such column '${name}' on entity '${object.name}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.`,
      );
    }
    out[f.name] = record[f.name] ?? null;
  }
  return out;
}

export function soqlContext(
  core: OrgCore,
  userId: string,
  includeDeleted: boolean,
  apiVersion: string,
): SoqlContext {
  return {
    describe: (name) => core.security.visibleObject(userId, name),
    records: (name) => core.store.table(name).values(),
    byId: (id) => {
      const hit = core.store.byId(id);
      return hit ? { objectName: hit.object.name, record: hit.record } : undefined;
    },
    canRead: (objectName, fieldName) => {
      const object = core.schema.objects.get(objectName.toLowerCase());
      const f = object?.fields.get(fieldName.toLowerCase());
      return object !== undefined && f !== undefined && core.security.fieldAccess(userId, object, f).read;
    },
    now: core.clock.now(),
    includeDeleted,
    apiVersion,
  };
}
