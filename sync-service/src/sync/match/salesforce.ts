import type { Connection } from 'jsforce';
import { callFailure, classifySalesforceCode, catalogueCode } from '../../salesforce/classify.js';
import { SyncError } from '../../errors.js';
import { soqlString } from '../common/soql.js';
import type { Candidate } from './decide.js';

/**
 * What matching and deletion checks ask of Salesforce, over a jsforce connection: the candidates for a
 * list of emails, which held Contact ids still exist, and the writes matching makes (setting the
 * patient's id on a Contact or a Lead chosen by Id). Each call is one REST request per chunk; SOQL
 * values are quoted by `soqlString` only.
 */
export interface MatchSalesforce {
  /**
   * Contacts and open Leads with these emails (SOQL `=` on Email is case-insensitive). With
   * `leads: false` (SYNC_LEAD_MATCH=ignore) Leads are not queried at all and none are returned.
   */
  candidatesByEmail(
    emails: readonly string[],
    options?: { readonly leads?: boolean },
  ): Promise<{ contacts: Candidate[]; leads: Candidate[] }>;
  /** Contacts by Id, deleted ones included (queryAll): which exist, and which are in the recycle bin. */
  contactsById(
    ids: readonly string[],
  ): Promise<Array<{ id: string; deleted: boolean; externalId: string | null }>>;
  /** Sets `Cliniko_Patient_Id__c` on Contacts chosen by Id; a SyncError per failed record, else null. */
  linkContacts(links: ReadonlyArray<{ id: string; patientId: string }>): Promise<Array<SyncError | null>>;
  /** The same on Leads (`Lead.Cliniko_Patient_Id__c`, SYNC_LEAD_MATCH=link). */
  linkLeads(links: ReadonlyArray<{ id: string; patientId: string }>): Promise<Array<SyncError | null>>;
}

/** Emails per SOQL query: keeps the query well under the 100,000-character limit. */
const CHUNK = 100;

type Row = Record<string, unknown>;
const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

function candidateOf(row: Row): Candidate {
  return {
    id: String(row.Id),
    email: str(row.Email),
    firstName: str(row.FirstName),
    lastName: str(row.LastName),
    phones: [row.Phone, row.MobilePhone, row.HomePhone].map(str).filter((p): p is string => p !== null),
    externalId: str(row.Cliniko_Patient_Id__c),
  };
}

/** Runs one SOQL query and returns every record; `all` includes deleted records (queryAll). */
export type MatchQuery = (object: string, soql: string, all?: boolean) => Promise<Row[]>;

async function chunked(values: readonly string[], run: (list: string) => Promise<Row[]>): Promise<Row[]> {
  const out: Row[] = [];
  for (let i = 0; i < values.length; i += CHUNK) {
    out.push(
      ...(await run(
        values
          .slice(i, i + CHUNK)
          .map(soqlString)
          .join(', '),
      )),
    );
  }
  return out;
}

/**
 * The candidates for these emails: Contacts (any owner) and, unless `leads` is false, open Leads. Read
 * only; the dry run uses it too.
 */
export async function candidatesByEmail(
  query: MatchQuery,
  emails: readonly string[],
  options: { readonly leads?: boolean } = {},
): Promise<{ contacts: Candidate[]; leads: Candidate[] }> {
  const contacts = await chunked(emails, (list) =>
    query(
      'Contact',
      `SELECT Id, FirstName, LastName, Email, Phone, MobilePhone, HomePhone, Cliniko_Patient_Id__c FROM Contact WHERE Email IN (${list})`,
    ),
  );
  if (options.leads === false) return { contacts: contacts.map(candidateOf), leads: [] };
  const leads = await chunked(emails, (list) =>
    query(
      'Lead',
      `SELECT Id, FirstName, LastName, Email, Phone, MobilePhone, Cliniko_Patient_Id__c FROM Lead WHERE IsConverted = false AND Email IN (${list})`,
    ),
  );
  return { contacts: contacts.map(candidateOf), leads: leads.map(candidateOf) };
}

/** A jsforce query whose failure never carries the query text (it holds emails). */
function connectionQuery(connection: Connection): MatchQuery {
  return async (object, soql, all = false) => {
    try {
      const result = all
        ? await connection.query<Row>(soql, { autoFetch: true, scanAll: true })
        : await connection.query<Row>(soql, { autoFetch: true });
      return result.records;
    } catch (err) {
      const e = callFailure(err, object);
      throw new SyncError(e.code, `${object}: the matching query failed (${e.upstreamCode ?? e.code})`, {
        ...(e.upstreamCode ? { upstreamCode: e.upstreamCode } : {}),
        record: { system: 'salesforce', object },
        retryable: e.retryable,
      });
    }
  };
}

export function matchSalesforceOf(connection: Connection): MatchSalesforce {
  const query = connectionQuery(connection);
  return {
    candidatesByEmail: (emails, options) => candidatesByEmail(query, emails, options),
    async contactsById(ids) {
      const rows = await chunked(ids, (list) =>
        query(
          'Contact',
          `SELECT Id, IsDeleted, Cliniko_Patient_Id__c FROM Contact WHERE Id IN (${list})`,
          true,
        ),
      );
      return rows.map((row) => ({
        id: String(row.Id),
        deleted: row.IsDeleted === true,
        externalId: str(row.Cliniko_Patient_Id__c),
      }));
    },
    linkContacts: (links) => setPatientIds(connection, 'Contact', links),
    linkLeads: (links) => setPatientIds(connection, 'Lead', links),
  };
}

/**
 * Sets the patient's id on Contacts or Leads chosen by Id: one sObject Collections update, never
 * all-or-none. Errors name the patient and the record, never Salesforce's message (it may quote a value).
 */
async function setPatientIds(
  connection: Connection,
  object: 'Contact' | 'Lead',
  links: ReadonlyArray<{ id: string; patientId: string }>,
): Promise<Array<SyncError | null>> {
  if (links.length === 0) return [];
  let raw: Array<{ success?: boolean; errors?: Array<{ statusCode?: string; message?: string }> }>;
  try {
    raw = await connection.sobject(object).update(
      links.map((l) => ({ Id: l.id, Cliniko_Patient_Id__c: l.patientId })),
      { allOrNone: false },
    );
  } catch (err) {
    throw callFailure(err, object);
  }
  return links.map((link, i) => {
    const r = raw[i];
    if (r?.success) return null;
    const code = r?.errors?.[0]?.statusCode ?? 'UNKNOWN_EXCEPTION';
    return new SyncError(
      catalogueCode(classifySalesforceCode(code), code),
      `Contact ${link.patientId}: linking the existing ${object} ${link.id} failed: ${code}`,
      { upstreamCode: code, record: { system: 'salesforce', object: 'Contact', id: link.patientId } },
    );
  });
}
