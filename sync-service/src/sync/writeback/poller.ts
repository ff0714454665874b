import { SyncError } from '../../errors.js';
import type { DataMap } from '../../governance/data-map.js';
import { poll } from './poll.js';
import {
  CONSENT_SOURCES,
  DEFAULT_OVERLAP_SECONDS,
  type PollerContext,
  type ReverseDeps,
  type ReversePoller,
} from './types.js';

/**
 * The reverse direction: Contacts changed in Salesforce by anyone but the integration user are read
 * with SOQL, and the fields the signed data map marks `direction: both` are PATCHed onto the Cliniko
 * patient. Nothing else flows back:
 * - consent travels only as an opt-out, only when ContactHistory records a person (not the integration
 *   user) changing a consent field, through governance's consentOptOutPatch; an opt-in never does;
 * - Salesforce never creates or deletes Cliniko patients (only Contacts already linked by
 *   Cliniko_Patient_Id__c are read, and the only call made is a PATCH);
 * - Cliniko stays the source of truth: a patient changed in Cliniko after the Salesforce edit is left
 *   alone (the forward sync overwrites Salesforce), and a field is written only when the Contact's
 *   value differs from what Cliniko's current values project to, so an echo of the forward sync's own
 *   write is never written back.
 *
 * Loop safety: the forward cycle that follows a write-back re-reads the patient (Cliniko bumps
 * updated_at) and projects the values Salesforce already holds; it writes at most once (as the
 * integration user, whose changes this poller never reads), and the cycle after that is quiet.
 *
 * The steps live beside this file: queries.ts (SOQL reads), contact.ts (one Contact: decide, patch,
 * audit), poll.ts (batches, outcomes and the watermark).
 */

const SALESFORCE_ID = /^[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?$/;

/** The integration user's id: from the session when jsforce knows it, else from the identity URL. */
export async function resolveIntegrationUserId(connection: {
  userInfo?: { id?: string } | null | undefined;
  identity(): Promise<{ user_id: string }>;
}): Promise<string> {
  const known = connection.userInfo?.id;
  if (typeof known === 'string' && known !== '') return known;
  const identity = await connection.identity();
  return identity.user_id;
}

/** The fields the poller reads and why (exported for tests and the docs). */
export function reverseFields(map: DataMap): { both: string[]; consent: string[] } {
  const both = new Set<string>();
  const consent = new Set<string>();
  for (const e of map.entries) {
    if (e.resource !== 'patients' || e.target?.object !== 'Contact') continue;
    if (e.direction === 'both') both.add(e.target.field);
    const source = e.sources.length === 1 ? e.sources[0] : undefined;
    if (source !== undefined && CONSENT_SOURCES.has(source)) consent.add(e.target.field);
  }
  return { both: [...both].sort(), consent: [...consent].sort() };
}

export function createReversePoller(deps: ReverseDeps): ReversePoller {
  if (!SALESFORCE_ID.test(deps.integrationUserId)) {
    throw new SyncError('CONFIG_INVALID', 'the integration user id is not a Salesforce id', {
      record: { system: 'salesforce', object: 'User', field: 'Id' },
    });
  }
  const fields = reverseFields(deps.dataMap);
  const ctx: PollerContext = {
    deps,
    log: deps.logger.child({ module: 'reverse' }),
    fields,
    selectList: [
      ...new Set([
        'Id',
        'LastModifiedById',
        'LastModifiedDate',
        'Cliniko_Patient_Id__c',
        ...fields.both,
        ...fields.consent,
      ]),
    ],
    seen: new Map(),
    overlapMs: (deps.overlapSeconds ?? DEFAULT_OVERLAP_SECONDS) * 1000,
  };
  return { poll: () => poll(ctx) };
}
