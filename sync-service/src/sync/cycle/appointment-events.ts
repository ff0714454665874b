import {
  appointmentEventKey,
  appointmentEventPayload,
  lifecycleKinds,
  type Appointment,
  type AppointmentEventKind,
} from '../../journey/index.js';
import type { FactInput, OutboxInput } from '../../store/index.js';
import { APPOINTMENT_EVENT } from '../objects.js';
import type { PayloadCandidate } from '../payloads.js';
import type { CycleContext } from './context.js';
import { slotKey } from '../outbox/keys.js';

/**
 * Appointment lifecycle events (issue #19; docs/marketing.md "Appointment events"): which events a
 * page of appointments announces (the rules are pure, journey/appointment-events.ts), and the outbox
 * items that announce them. The clock's `upcoming` events come from the reminder job (reminders.ts).
 *
 * Exactly once per appointment, kind and start: each event's key (`<id>:<kind>`,
 * `<id>:rescheduled:<start>`, `<id>:upcoming:<hours>:<start>`; journey `appointmentEventKey`) is
 * recorded in the store's `announced_events` in the same transaction that queues the event (the
 * caller commits `announced` with `outbox`), and a key already recorded is never queued again. One
 * runner job (cycle or reminder job) runs at a time (the PostgreSQL cycle lease; SQLite serves one
 * process), so the check and the commit cannot interleave with another instance's; and the outbox
 * worker publishes a key at most once besides (its ledger, sync/outbox/write.ts `settleEvents`).
 *
 * Go-live: the first complete read of appointments (a first backfill, or the first cycle after this
 * feature was installed) records the `GO_LIVE` signpost, its read's signpost (Cliniko's clock when the
 * read began). A read that starts without it, and every backfill, records facts but announces
 * nothing; the signpost is set once and never moves (a re-backfill leaves it).
 */
export const APPOINTMENTS = 'individual_appointments';
export const GO_LIVE = 'appointment-events:go-live';

export interface Announcement {
  readonly fact: Appointment;
  readonly patientId: string;
  readonly kind: AppointmentEventKind;
  readonly occurredAtMs: number;
  readonly offsetHours?: number;
}

export interface Announced {
  readonly outbox: OutboxInput[];
  readonly announced: string[];
}

const NOTHING: Announced = { outbox: [], announced: [] };

/** The lifecycle events of a page of appointment facts, judged against the facts stored before it. */
export async function pageAnnouncements(
  ctx: CycleContext,
  facts: readonly FactInput[],
  goLiveMs: number,
  runId: string,
): Promise<Announced> {
  const current = facts.filter((f) => f.resource === APPOINTMENTS);
  if (current.length === 0) return NOTHING;
  const stored = await ctx.deps.store.getFacts(
    APPOINTMENTS,
    current.map((f) => f.id),
  );
  const previous = new Map(stored.map((f) => [f.id, JSON.parse(f.data) as Appointment]));
  const now = ctx.deps.now();
  const list: Announcement[] = [];
  for (const f of current) {
    const fact = JSON.parse(f.data) as Appointment;
    for (const kind of lifecycleKinds(previous.get(f.id), fact, goLiveMs))
      list.push({ fact, patientId: f.patientId, kind, occurredAtMs: now });
  }
  return announce(ctx, list, runId);
}

/**
 * The outbox items for the announcements not announced before: one Appointment_Event__e each, and per
 * appointment its `#event` slot on Cliniko_Appointment__c (Last_Event__c, Last_Event_At__c: the last
 * of them), if the signed map lists those fields under `derived`. The slot names the appointment's
 * Contact as the base record does, so it waits for a Contact not written yet instead of creating a
 * record without one.
 */
export async function announce(
  ctx: CycleContext,
  list: readonly Announcement[],
  runId: string,
): Promise<Announced> {
  if (list.length === 0) return NOTHING;
  const keyOf = (a: Announcement) => appointmentEventKey(a.fact, a.kind, a.offsetHours);
  const done = await ctx.deps.store.announcedEvents([...new Set(list.map(keyOf))]);
  const fresh: Announcement[] = [];
  for (const a of list) {
    if (done.has(keyOf(a))) continue;
    done.add(keyOf(a));
    fresh.push(a);
  }
  if (fresh.length === 0) return NOTHING;
  const contacts = await ctx.deps.store.getRecordStates('Contact', [
    ...new Set(fresh.map((a) => a.patientId)),
  ]);
  const candidates: PayloadCandidate[] = [];
  const last = new Map<string, Announcement>();
  for (const a of fresh) {
    const payload = appointmentEventPayload(
      a.fact,
      { ...a, contactId: contacts.get(a.patientId)?.salesforceId ?? null },
      ctx.deps.journeyConfig,
    );
    candidates.push({
      object: APPOINTMENT_EVENT,
      key: payload.Event_Key__c,
      fields: { ...payload },
      operation: 'publish',
    });
    last.set(a.fact.id, a);
  }
  for (const [id, a] of last) {
    const fields = ctx.rules.allowDerived('Cliniko_Appointment__c', 'Cliniko_Appointment_Id__c', {
      Cliniko_Appointment_Id__c: id,
      Last_Event__c: a.kind,
      Last_Event_At__c: new Date(a.occurredAtMs).toISOString(),
    });
    if (Object.keys(fields).length < 2) continue;
    candidates.push({
      object: 'Cliniko_Appointment__c',
      key: slotKey('Cliniko_Appointment__c', id, 'event'),
      fields: { ...fields, Contact__r: { Cliniko_Patient_Id__c: a.patientId } },
      operation: 'upsert',
    });
  }
  return { outbox: candidates.map((c) => ctx.rules.outboxItem(c, runId)), announced: fresh.map(keyOf) };
}
