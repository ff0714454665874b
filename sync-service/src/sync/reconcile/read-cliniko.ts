import type { StreamEvent } from '../../cliniko/index.js';
import { storedSurvivors } from '../common/merges.js';
import { patientRefOf, survivorOf } from '../payloads.js';
import type { References } from '../cycle/references.js';
import type { ReconcileContext } from './context.js';
import { RECONCILED_OBJECTS, type Row } from './types.js';

/** What Cliniko says now, as the payloads the runner would write. */
export interface ClinikoSide {
  /** object -> external id -> expected fields (external id included). */
  readonly expected: Map<string, Map<string, Row>>;
  readonly consent: Map<string, { email: boolean; sms: boolean }>;
  /** resource -> ids read but not projectable (quarantined): in Cliniko, so never orphans. */
  readonly unprojectableIds: Map<string, Set<string>>;
  /** Resources whose read did not finish cleanly: orphans cannot be told from records not read. */
  readonly incomplete: Set<string>;
  unprojectable: number;
}

type Resource = (typeof RECONCILED_OBJECTS)[number]['resource'];

/** Reads every synced Cliniko resource and builds the payloads a cycle would write for each record. */
export async function readCliniko(ctx: ReconcileContext, refs: References): Promise<ClinikoSide> {
  const side: ClinikoSide = {
    expected: new Map(RECONCILED_OBJECTS.map((o) => [o.object, new Map<string, Row>()])),
    consent: new Map(),
    unprojectableIds: new Map(RECONCILED_OBJECTS.map((o) => [o.resource, new Set<string>()])),
    incomplete: new Set(),
    unprojectable: 0,
  };
  /** Merged-away patient -> survivor, as Cliniko says now (patients are read first). */
  const survivors = new Map<string, string>();
  for (const { resource, stream } of RECONCILED_OBJECTS) {
    const events = ctx.deps.cliniko.streams[stream].read() as AsyncGenerator<StreamEvent<Row>>;
    for await (const ev of events) {
      if (ev.kind === 'page') await ctx.renewLease();
      else if (ev.kind === 'record') addRecord(ctx, side, survivors, resource, ev, refs);
      else noteEvent(side, resource, ev);
    }
  }
  await reparentToSurvivors(ctx, side, survivors);
  return side;
}

/** A quarantined record (in Cliniko, never an orphan) or the end of a read that may not be complete. */
function noteEvent(side: ClinikoSide, resource: Resource, ev: StreamEvent<Row>): void {
  if (ev.kind === 'quarantine') {
    side.unprojectable += 1;
    side.unprojectableIds.get(resource)?.add(ev.item.id);
    if (ev.item.id === '(unknown)') side.incomplete.add(resource);
  }
  if (ev.kind === 'end' && !ev.complete) side.incomplete.add(resource);
}

function addRecord(
  ctx: ReconcileContext,
  side: ClinikoSide,
  survivors: Map<string, string>,
  resource: Resource,
  ev: Extract<StreamEvent<Row>, { kind: 'record' }>,
  refs: References,
): void {
  if (resource === 'patients') {
    // Consent is read from Cliniko's own fields: no answer counts as no.
    side.consent.set(ev.id, {
      email: ev.raw.accepted_email_marketing === true,
      sms: ev.raw.accepted_sms_marketing === true,
    });
    const survivor = survivorOf(ev.raw, ev.id);
    if (survivor) survivors.set(ev.id, survivor);
  }
  const built = ctx.rules.recordPayloads(resource, ev.raw, ev.record, refs);
  if (!built.ok) {
    side.unprojectable += 1;
    side.unprojectableIds.get(resource)?.add(ev.id);
    return;
  }
  for (const payload of built.payloads) {
    let byKey = side.expected.get(payload.object);
    if (!byKey) side.expected.set(payload.object, (byKey = new Map<string, Row>()));
    byKey.set(payload.key, payload.fields);
  }
}

/**
 * As the runner does (merged patients): a child that still points at a merged-away patient is written
 * against the survivor. Merges come from Cliniko's patient list and, like the runner, from the
 * `merged-patient` facts it stored, so reconciliation never points a child back at the old Contact.
 */
async function reparentToSurvivors(
  ctx: ReconcileContext,
  side: ClinikoSide,
  survivors: Map<string, string>,
): Promise<void> {
  const children = RECONCILED_OBJECTS.filter((o) => o.object !== 'Contact').flatMap((o) => [
    ...(side.expected.get(o.object)?.values() ?? []),
  ]);
  const refs = new Set(children.map(patientRefOf).filter((id): id is string => id !== undefined));
  const unknown = [...refs].filter((id) => !survivors.has(id)).sort();
  for (const [id, survivor] of await storedSurvivors(ctx.deps.store, unknown)) {
    if (!survivors.has(id)) survivors.set(id, survivor);
  }
  for (const fields of children) {
    const survivor = survivors.get(patientRefOf(fields) ?? '');
    if (survivor) fields.Contact__r = { Cliniko_Patient_Id__c: survivor };
  }
}
