import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONSENT_SOURCES } from '../../sync-service/src/sync/writeback/types.js';
import { loadDataMap } from './metadata-datamap.js';
import { CONTACT_TRACKED_FIELDS } from './metadata-generate.js';
import { COMPOUND_OF } from './metadata-project.js';
import { REPO_ROOT } from './metadata-test-support.js';
import {
  checkTrackedFieldCapacity,
  checkTrackedFieldHeadroom,
  orgSetupTrackedFields,
  parseTrackedFields,
  SALESFORCE_TRACKED_FIELDS_MESSAGE,
  sfQueryResult,
  TrackedFieldsError,
  trackedFieldsQuery,
} from './tracked-fields-check.js';

/** A query answer shaped as the REST query resource returns it. */
function answer(names: readonly string[]) {
  return {
    totalSize: names.length,
    done: true,
    records: names.map((n) => ({ attributes: { type: 'FieldDefinition' }, QualifiedApiName: n })),
  };
}

const OTHER = (n: number) => Array.from({ length: n }, (_, i) => `Org_Field_${i + 1}__c`);

describe('the org-setup folder', () => {
  it('tracks exactly CONTACT_TRACKED_FIELDS on Contact, leaving headroom under 20', () => {
    const tracked = orgSetupTrackedFields(REPO_ROOT);
    expect([...tracked.keys()]).toEqual(['Contact']);
    expect(tracked.get('Contact')).toEqual([...CONTACT_TRACKED_FIELDS].sort());
    expect(CONTACT_TRACKED_FIELDS.length).toBeLessThanOrEqual(15);
  });

  it('tracks every Contact field whose history the write-back poller reads', () => {
    // The poller (sync-service/src/sync/writeback) finds a person's edits in ContactHistory: the
    // `both` fields and the consent fields. Address parts are tracked by Salesforce as the compound
    // MailingAddress, which we leave untracked (docs/data-map.md, "History tracking").
    const map = loadDataMap(path.join(REPO_ROOT, 'config/data-map.yaml'));
    const needed = map.entries
      .filter((e) => e.resource === 'patients' && e.target?.startsWith('Contact.') === true)
      .filter(
        (e) => e.direction === 'both' || (e.sources.length === 1 && CONSENT_SOURCES.has(e.sources[0] ?? '')),
      )
      .map((e) => e.target ?? '')
      .filter((t) => !COMPOUND_OF.has(t))
      .map((t) => t.slice('Contact.'.length));
    expect(needed.length).toBeGreaterThanOrEqual(8);
    expect(needed.filter((f) => !CONTACT_TRACKED_FIELDS.includes(f))).toEqual([]);
  });
});

describe('checkTrackedFieldCapacity', () => {
  const ours = [...CONTACT_TRACKED_FIELDS];
  const headroom = 20 - ours.length;

  it('accepts an org whose own tracked fields fit beside ours (the control)', () => {
    const v = checkTrackedFieldCapacity({
      object: 'Contact',
      alreadyTracked: OTHER(headroom),
      toTrack: ours,
    });
    expect(v).toMatchObject({ ok: true, total: 20, limit: 20 });
    expect(v.message).toBeUndefined();
  });

  it("refuses one field more, with Salesforce's message and the numbers", () => {
    const v = checkTrackedFieldCapacity({
      object: 'Contact',
      alreadyTracked: OTHER(headroom + 1),
      toTrack: ours,
    });
    expect(v.ok).toBe(false);
    expect(v.total).toBe(21);
    expect(v.message).toContain(SALESFORCE_TRACKED_FIELDS_MESSAGE);
    expect(v.message).toContain('21 of 20');
    expect(v.message).toContain('Org_Field_1__c');
  });

  it('refuses an org that already tracks 20 Contact fields', () => {
    const v = checkTrackedFieldCapacity({ object: 'Contact', alreadyTracked: OTHER(20), toTrack: ours });
    expect(v.ok).toBe(false);
    expect(v.total).toBe(20 + ours.length);
  });

  it('counts a field the org already tracks once, whatever its case', () => {
    // The org tracks our own fields (a redeploy) and 7 others: still 20.
    const already = [...ours.map((f) => f.toUpperCase()), ...OTHER(headroom)];
    const v = checkTrackedFieldCapacity({ object: 'Contact', alreadyTracked: already, toTrack: ours });
    expect(v).toMatchObject({ ok: true, total: 20, adding: [] });
  });
});

describe('parseTrackedFields', () => {
  it('reads the names out of a complete answer', () => {
    expect(parseTrackedFields('Contact', answer(['Email', 'Phone']))).toEqual(['Email', 'Phone']);
  });

  it('never reads an error answer or a partial page as "nothing tracked"', () => {
    expect(() => parseTrackedFields('Contact', [{ errorCode: 'INVALID_FIELD', message: 'x' }])).toThrow(
      /no records list/,
    );
    expect(() => parseTrackedFields('Contact', { ...answer(['Email']), done: false })).toThrow(/incomplete/);
    expect(() => parseTrackedFields('Contact', { ...answer(['Email']), totalSize: 3 })).toThrow(/incomplete/);
    expect(() => parseTrackedFields('Contact', { totalSize: 1, done: true, records: [{}] })).toThrow(
      /record 0 has no QualifiedApiName/,
    );
    expect(() => parseTrackedFields('Contact', null)).toThrow(/not an object/);
  });
});

describe('sfQueryResult (scripts/check-tracked-fields.ts reads `sf data query --json`)', () => {
  it('unwraps a successful answer and refuses a failed one', () => {
    const ok = JSON.stringify({ status: 0, result: answer(['Email']) });
    expect(parseTrackedFields('Contact', sfQueryResult(ok))).toEqual(['Email']);
    const failed = JSON.stringify({
      status: 1,
      name: 'INVALID_TYPE',
      message: "sObject type 'FieldDefinition' is not supported.",
    });
    expect(() => sfQueryResult(failed)).toThrow(/sf data query failed: sObject type/);
    expect(() => sfQueryResult('Warning: update available')).toThrow(/did not print JSON/);
  });
});

describe('checkTrackedFieldHeadroom (what scripts/deploy.ts calls)', () => {
  it('asks the org with one FieldDefinition query per object and passes when there is room', async () => {
    const asked: string[] = [];
    const verdicts = await checkTrackedFieldHeadroom(REPO_ROOT, (soql) => {
      asked.push(soql);
      return Promise.resolve(answer(['Title']));
    });
    expect(asked).toEqual([trackedFieldsQuery('Contact')]);
    expect(asked[0]).toBe(
      "SELECT QualifiedApiName FROM FieldDefinition WHERE EntityDefinition.QualifiedApiName = 'Contact' AND IsFieldHistoryTracked = true",
    );
    expect(verdicts).toMatchObject([
      { object: 'Contact', ok: true, total: CONTACT_TRACKED_FIELDS.length + 1 },
    ]);
  });

  it("throws Salesforce's message when the org already tracks 20 Contact fields", async () => {
    const run = checkTrackedFieldHeadroom(REPO_ROOT, () => Promise.resolve(answer(OTHER(20))));
    await expect(run).rejects.toBeInstanceOf(TrackedFieldsError);
    await expect(run).rejects.toThrow(SALESFORCE_TRACKED_FIELDS_MESSAGE);
  });

  it('refuses an object name that would not be safe in SOQL', () => {
    expect(() => trackedFieldsQuery("Contact' OR Id != null")).toThrow(/not an object API name/);
  });
});
