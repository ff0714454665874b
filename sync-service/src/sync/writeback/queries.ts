import { soqlDateTime, soqlString } from '../common/soql.js';
import { timeOf, type Contact, type PollerContext, type QueryPage } from './types.js';

/** Runs a query and hands every page's records to `each`, following nextRecordsUrl. */
export async function eachPage(
  ctx: PollerContext,
  soql: string,
  each: (records: QueryPage['records']) => Promise<void> | void,
): Promise<void> {
  let page = await ctx.deps.connection.query(soql);
  for (;;) {
    await each(page.records);
    if (page.done || !page.nextRecordsUrl) break;
    page = await ctx.deps.connection.queryMore(page.nextRecordsUrl);
  }
}

/** Linked Contacts changed by anyone but the integration user since `since`, oldest first. */
export function contactQuery(ctx: PollerContext, since: number | null): string {
  const where = [
    'Cliniko_Patient_Id__c != null',
    `LastModifiedById != ${soqlString(ctx.deps.integrationUserId)}`,
    ...(since === null ? [] : [`LastModifiedDate >= ${soqlDateTime(since)}`]),
  ];
  return `SELECT ${ctx.selectList.join(', ')} FROM Contact WHERE ${where.join(' AND ')} ORDER BY LastModifiedDate, Id`;
}

/**
 * Consent fields a person changed, per Contact, from ContactHistory (the recorded path): a consent
 * value that merely differs from Cliniko (say, the forward sync has not yet carried a fresh Cliniko
 * opt-in across) must not be read as an opt-out.
 */
export async function consentChanges(
  ctx: PollerContext,
  contactIds: readonly string[],
  since: number | null,
): Promise<Map<string, Set<string>>> {
  const byContact = new Map<string, Set<string>>();
  if (ctx.fields.consent.length === 0 || contactIds.length === 0) return byContact;
  for (let i = 0; i < contactIds.length; i += 200) {
    const ids = contactIds.slice(i, i + 200);
    const where = [
      `ContactId IN (${ids.map(soqlString).join(', ')})`,
      `Field IN (${ctx.fields.consent.map(soqlString).join(', ')})`,
      `CreatedById != ${soqlString(ctx.deps.integrationUserId)}`,
      ...(since === null ? [] : [`CreatedDate >= ${soqlDateTime(since)}`]),
    ];
    await eachPage(
      ctx,
      `SELECT ContactId, Field FROM ContactHistory WHERE ${where.join(' AND ')}`,
      (records) => {
        for (const row of records) {
          const id = row.ContactId;
          const field = row.Field;
          if (typeof id !== 'string' || typeof field !== 'string') continue;
          const set = byContact.get(id) ?? new Set<string>();
          set.add(field);
          byContact.set(id, set);
        }
      },
    );
  }
  return byContact;
}

interface PersonEdit {
  by: string;
  at: string;
  readonly fields: Set<string>;
}

/**
 * Contacts a person changed that the main query cannot see because the integration user wrote them
 * afterwards (say, a journey field), found through ContactHistory rows of `both` and consent fields.
 * Their LastModifiedBy/Date are replaced by the person's edit, for the audit actor and the
 * Cliniko-newer check.
 */
export async function overwrittenEdits(
  ctx: PollerContext,
  since: number | null,
  handled: ReadonlySet<string>,
): Promise<{ contacts: Map<string, Contact>; fields: Map<string, Set<string>> }> {
  const edits = await personEdits(ctx, since, handled);
  const contacts = new Map<string, Contact>();
  const ids = [...edits.keys()];
  for (let i = 0; i < ids.length; i += 200) {
    const chunk = ids.slice(i, i + 200);
    const soql = `SELECT ${ctx.selectList.join(', ')} FROM Contact WHERE Id IN (${chunk.map(soqlString).join(', ')}) AND Cliniko_Patient_Id__c != null`;
    await eachPage(ctx, soql, (records) => {
      for (const record of records) {
        const edit = typeof record.Id === 'string' ? edits.get(record.Id) : undefined;
        if (!edit || typeof record.Id !== 'string') continue;
        if (ctx.seen.get(record.Id) === timeOf(edit.at)) continue;
        contacts.set(record.Id, { ...record, LastModifiedById: edit.by, LastModifiedDate: edit.at });
      }
    });
  }
  return { contacts, fields: new Map([...edits].map(([id, e]) => [id, e.fields])) };
}

/** The latest person's edit of a tracked field per Contact not handled yet, with every field edited. */
async function personEdits(
  ctx: PollerContext,
  since: number | null,
  handled: ReadonlySet<string>,
): Promise<Map<string, PersonEdit>> {
  const tracked = [...new Set([...ctx.fields.both, ...ctx.fields.consent])];
  const where = [
    `Field IN (${tracked.map(soqlString).join(', ')})`,
    `CreatedById != ${soqlString(ctx.deps.integrationUserId)}`,
    ...(since === null ? [] : [`CreatedDate >= ${soqlDateTime(since)}`]),
  ];
  const edits = new Map<string, PersonEdit>();
  const soql = `SELECT ContactId, Field, CreatedById, CreatedDate FROM ContactHistory WHERE ${where.join(' AND ')} ORDER BY CreatedDate`;
  await eachPage(ctx, soql, (records) => {
    for (const row of records) {
      const { ContactId: id, Field: field, CreatedById: by, CreatedDate: at } = row;
      if (typeof id !== 'string' || typeof field !== 'string') continue;
      if (typeof by !== 'string' || typeof at !== 'string' || handled.has(id)) continue;
      const edit = edits.get(id) ?? { by, at, fields: new Set<string>() };
      if (timeOf(at) >= timeOf(edit.at)) Object.assign(edit, { by, at });
      edit.fields.add(field);
      edits.set(id, edit);
    }
  });
  return edits;
}
