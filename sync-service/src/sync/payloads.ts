import { idFromLink } from '../cliniko/index.js';
import type { ClinikoIndividualAppointment, ClinikoInvoice, ClinikoPatientCase } from '../cliniko/index.js';
import type { DataMap } from '../governance/data-map.js';
import { projectRecord, type ProjectionProblem } from '../governance/project.js';
import { canonicalJson, sha256Hex } from '../governance/canonical.js';
import { suppressInactiveMarketing } from '../governance/suppression.js';
import { outstandingCents } from '../journey/aggregates.js';
import { isInitialConsultType, type JourneyConfig } from '../journey/index.js';
import { formatCents } from '../journey/money.js';
import type { FactInput, OutboxInput } from '../store/index.js';
import { appointmentFact, caseFact, invoiceFact } from './cycle/facts.js';
import { PRIORITY } from './objects.js';
import type { References } from './cycle/references.js';

/**
 * What a Cliniko record becomes in Salesforce, built one way for every caller (the runner, the
 * reconciler, the dry run), so that they always agree on the payload and its hash:
 * projection through the signed map, the external id, marketing suppression for inactive patients,
 * and the derived fields computed from the record itself, only where the map lists them under `derived`.
 */
export interface PayloadCandidate {
  readonly object: string;
  /** The outbox and record-state key: the external id, plus `#slot` for derived slots. */
  readonly key: string;
  readonly fields: Record<string, unknown>;
  readonly operation: OutboxInput['operation'];
}

export type RecordPayloads =
  | { readonly ok: true; readonly payloads: PayloadCandidate[]; readonly fact: FactInput | undefined }
  | { readonly ok: false; readonly problems: readonly ProjectionProblem[] };

/** Facts record which patient a merged-away patient became (see runner.ts, merged patients). */
export const MERGED_FACT = 'merged-patient';

export function createPayloadRules(rules: {
  dataMap: DataMap;
  journeyConfig: JourneyConfig;
  now: () => number;
}) {
  const derivedTargets = new Set(rules.dataMap.derived.map((d) => d.target.path));
  const isDerived = (object: string, field: string): boolean => derivedTargets.has(`${object}.${field}`);

  function factOf(resource: string, record: unknown, refs: References): FactInput | undefined {
    if (resource === 'individual_appointments')
      return appointmentFact(record as ClinikoIndividualAppointment, refs);
    if (resource === 'patient_cases') return caseFact(record as ClinikoPatientCase);
    if (resource === 'invoices') return invoiceFact(record as ClinikoInvoice);
    return undefined;
  }

  function addRecordDerivations(
    object: string,
    fields: Record<string, unknown>,
    fact: FactInput | undefined,
  ): void {
    if (!fact) return;
    if (object === 'Cliniko_Appointment__c' && isDerived(object, 'Is_Initial_Consult__c')) {
      const data = JSON.parse(fact.data) as { appointment_type_name?: string | null };
      fields.Is_Initial_Consult__c = isInitialConsultType(
        data.appointment_type_name ?? null,
        rules.journeyConfig,
      );
    }
    if (object === 'Cliniko_Invoice__c' && isDerived(object, 'Amount_Outstanding__c')) {
      fields.Amount_Outstanding__c = formatCents(outstandingCents(JSON.parse(fact.data) as never));
    }
  }

  return {
    isDerived,

    /** Keeps the upsert key and the derived fields the map allows; drops everything else. */
    allowDerived(object: string, keyField: string, fields: Record<string, unknown>): Record<string, unknown> {
      const out: Record<string, unknown> = {};
      for (const [field, value] of Object.entries(fields)) {
        const lookup = field.endsWith('__r') ? `${field.slice(0, -3)}__c` : field;
        if (field === keyField || isDerived(object, lookup)) out[field] = value;
      }
      return out;
    },

    /** The payloads of one Cliniko record, and the journey facts it carries. */
    recordPayloads(resource: string, raw: unknown, record: unknown, refs: References): RecordPayloads {
      const projection = projectRecord(resource, raw, rules.dataMap, refs.context);
      if (!projection.ok) return { ok: false, problems: projection.problems };
      const fact = factOf(resource, record, refs);
      const payloads = projection.payloads.map((payload): PayloadCandidate => {
        const fields = suppressInactiveMarketing(payload.object, {
          ...payload.fields,
          [payload.externalIdField]: payload.externalId,
        });
        addRecordDerivations(payload.object, fields, fact);
        return { object: payload.object, key: payload.externalId, fields, operation: 'upsert' };
      });
      return { ok: true, payloads, fact };
    },

    /**
     * The outbox item for a payload: hashed for change detection, then stamped with when the sync wrote
     * the Contact (after hashing, so the stamp never causes a write by itself).
     */
    outboxItem(candidate: PayloadCandidate, runId: string): OutboxInput {
      // The canonical text is the payload itself unless stamped (issue #16: one encoding instead of
      // two, and the drain's audit hashes a payload read back from it without sorting it again).
      const text = canonicalJson(candidate.fields);
      const payloadHash = sha256Hex(text);
      const stamped =
        candidate.object === 'Contact' &&
        !candidate.key.includes('#') &&
        isDerived('Contact', 'Last_Synced_At__c')
          ? { ...candidate.fields, Last_Synced_At__c: new Date(rules.now()).toISOString() }
          : undefined;
      return {
        object: candidate.object,
        externalId: candidate.key,
        operation: candidate.operation,
        payload: stamped === undefined ? text : JSON.stringify(stamped),
        payloadHash,
        runId,
        priority: PRIORITY[candidate.object] ?? 100,
      };
    },
  };
}

export type PayloadRules = ReturnType<typeof createPayloadRules>;

/** The survivor a merged-away patient record points at, if any. */
export function survivorOf(raw: Readonly<Record<string, unknown>>, patientId: string): string | undefined {
  const link = raw.merged_with_patient as { links?: { self?: string } } | null | undefined;
  const survivor = idFromLink(link?.links?.self, 'patients');
  return survivor && survivor !== patientId ? survivor : undefined;
}

/** The Cliniko patient a child payload is written against (`Contact__r`). */
export function patientRefOf(fields: Record<string, unknown>): string | undefined {
  const ref = fields.Contact__r as { Cliniko_Patient_Id__c?: unknown } | undefined;
  return typeof ref?.Cliniko_Patient_Id__c === 'string' ? ref.Cliniko_Patient_Id__c : undefined;
}
