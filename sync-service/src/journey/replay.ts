import type { JourneyConfig } from './config.js';
import { addDays, startOfLocalDay, localDate, dayNumber } from './time.js';
import type { Stage, TimelineTransition, TriggerCode } from './types.js';
import { compareIds, hasFutureBookingAt, type Visit } from './history.js';

/**
 * The journey state machine, replayed from a patient's whole appointment history up to `now`.
 *
 * Replaying from scratch every time (instead of stepping from the stored stage) makes the result a
 * pure function of history + config + now: a late "arrived" mark or a back-dated booking is simply
 * folded in on the next run, and two runs over the same history give the same transitions. What has
 * already been emitted is tracked by transition key in the persisted state (see engine.ts).
 *
 * Every transition is keyed `<patient>:<trigger>:<appointment id>`: the booking, visit, no-show or
 * cancellation it is about, or for the time-based triggers (T5, T6, T8, T9) the appointment the gap
 * is measured from. A gap can therefore fire each trigger once, however often the daily pass runs.
 *
 * docs/journey.md describes every rule below with examples.
 */

/** Stages that count as being in care for the gap triggers. */
const IN_CARE_LIKE: ReadonlySet<Stage> = new Set<Stage>(['Started Care', 'In Care', 'Reactivated']);
/** Stages a new booking reactivates (T7). */
const FUNNEL_STAGES: ReadonlySet<Stage> = new Set<Stage>([
  'Lapsed',
  'Drop-Off Risk',
  'Long-Term Lead Nurture',
]);

interface GapRef {
  /** Appointment the gap is measured from (the last visit, or the booking that reactivated). */
  readonly id: string;
  readonly date: string;
}

interface ReplayState {
  stage: Stage;
  sinceMs: number | null;
  booked: number;
  attended: Visit[];
  lastNoShow: Visit | null;
  reactivation: { visit: Visit; atMs: number } | null;
  /** `<trigger>:<appointment id>` of every transition so far. */
  fired: Set<string>;
}

interface TimedCandidate {
  readonly code: 'T5' | 'T6' | 'T8' | 'T9';
  readonly dueMs: number;
  readonly anchorId: string;
  readonly to: Stage;
}

type HistoryEvent =
  | { kind: 'book'; atMs: number; visit: Visit }
  | { kind: 'cancel'; atMs: number; visit: Visit }
  | { kind: 'start'; atMs: number; visit: Visit };

const KIND_ORDER = { book: 0, cancel: 1, start: 2 } as const;
/** Time-based triggers due at the same instant fire in this order. */
const TIMED_ORDER = { T9: 0, T5: 1, T6: 2, T8: 3 } as const;

export interface ReplayOptions {
  readonly patientId: string;
  readonly visits: readonly Visit[];
  readonly config: JourneyConfig;
  readonly zone: string;
  readonly nowMs: number;
}

export interface ReplayResult {
  readonly stage: Stage;
  readonly sinceMs: number | null;
  readonly timeline: TimelineTransition[];
}

/** Name matching is exact (case and spaces), as Cliniko shows the name; excluded types never match. */
export function isInitialConsultType(name: string | null, config: JourneyConfig): boolean {
  if (name === null) return false;
  return config.initialConsultTypes.includes(name) && !config.excludedTypes.includes(name);
}

/**
 * Days after the gap reference at which T5 fires, from the average visit interval expressed exactly
 * as spanDays / gaps (no floating point at the tier boundaries).
 */
export function dropOffAfterDays(spanDays: number, gaps: number, config: JourneyConfig): number {
  const { tiers, longer, singleVisitDays } = config.thresholds.dropOff;
  if (gaps <= 0) return singleVisitDays;
  for (const tier of tiers) {
    // average <= bound  <=>  span <= bound * gaps; bounds may have decimals, so compare in hundredths.
    if (spanDays * 100 <= Math.round(tier.maxAverageIntervalDays * 100) * gaps) return tier.afterDays;
  }
  // round_half_up(multiplier * span / gaps) with the multiplier in hundredths.
  const m = Math.round(longer.multiplier * 100);
  const rounded = Math.floor((2 * m * spanDays + 100 * gaps) / (200 * gaps));
  return Math.min(longer.maxDays, Math.max(longer.minDays, rounded));
}

/** Days after the gap reference at which T9 fires: ceil(percent% of the average), at least 1. */
export function maintenanceAfterDays(spanDays: number, gaps: number, config: JourneyConfig): number {
  const p = config.thresholds.maintenanceReminderPercent;
  return Math.max(1, Math.ceil((p * spanDays) / (100 * gaps)));
}

function buildEvents(visits: readonly Visit[], nowMs: number): HistoryEvent[] {
  const events: HistoryEvent[] = [];
  for (const visit of visits) {
    events.push({ kind: 'book', atMs: visit.bookedMs, visit });
    if (visit.cancelledMs !== null) events.push({ kind: 'cancel', atMs: visit.cancelledMs, visit });
    else events.push({ kind: 'start', atMs: visit.startMs, visit });
  }
  return events
    .filter((e) => e.atMs <= nowMs)
    .sort(
      (a, b) =>
        a.atMs - b.atMs ||
        KIND_ORDER[a.kind] - KIND_ORDER[b.kind] ||
        a.visit.startMs - b.visit.startMs ||
        compareIds(a.visit.id, b.visit.id),
    );
}

export function replayJourney(options: ReplayOptions): ReplayResult {
  const replay: Replay = {
    ...options,
    state: {
      stage: 'Lead',
      sinceMs: null,
      booked: 0,
      attended: [],
      lastNoShow: null,
      reactivation: null,
      fired: new Set(),
    },
    timeline: [],
  };
  let lastMs = Number.NEGATIVE_INFINITY;
  for (const event of buildEvents(options.visits, options.nowMs)) {
    if (Number.isFinite(lastMs)) runTimed(replay, lastMs, event.atMs);
    applyEvent(replay, event);
    settleInCare(replay, event.atMs);
    lastMs = event.atMs;
  }
  if (Number.isFinite(lastMs)) runTimed(replay, lastMs, options.nowMs);

  const { state, timeline } = replay;
  return { stage: state.stage, sinceMs: state.sinceMs, timeline };
}

/** One replay in progress: its inputs, the state machine and the transitions recorded so far. */
interface Replay extends ReplayOptions {
  readonly state: ReplayState;
  readonly timeline: TimelineTransition[];
}

/** The transitions a booking, a cancellation or an appointment's start causes. */
function applyEvent(replay: Replay, event: HistoryEvent): void {
  const { state, config } = replay;
  const { visit } = event;
  switch (event.kind) {
    case 'book': {
      const firstEver = state.booked === 0;
      state.booked += 1;
      if (firstEver && state.stage === 'Lead' && isInitialConsultType(visit.typeName, config)) {
        record(replay, 'T1', visit.id, event.atMs, 'New Patient Booked');
      } else if (FUNNEL_STAGES.has(state.stage)) {
        record(replay, 'T7', visit.id, event.atMs, 'Reactivated');
        state.reactivation = { visit, atMs: event.atMs };
      }
      break;
    }
    case 'cancel':
      record(replay, 'T4', visit.id, event.atMs, state.stage);
      break;
    case 'start':
      if (visit.outcome === 'arrived') {
        state.attended.push(visit);
        if (state.attended.length === 1) record(replay, 'T2', visit.id, event.atMs, 'Started Care');
      } else if (visit.outcome === 'dna') {
        state.lastNoShow = visit;
        record(replay, 'T3', visit.id, event.atMs, state.stage);
      }
      break;
  }
}

function record(replay: Replay, code: TriggerCode, anchorId: string, atMs: number, to: Stage): void {
  const { state } = replay;
  const from = state.stage;
  state.fired.add(`${code}:${anchorId}`);
  replay.timeline.push({
    key: `${replay.patientId}:${code}:${anchorId}`,
    trigger: code,
    appointmentId: anchorId,
    from,
    to,
    occurredAt: new Date(atMs).toISOString(),
  });
  if (to !== from) {
    state.stage = to;
    state.sinceMs = atMs;
  }
}

/** Fire every time-based trigger due by `untilMs`; conditions were met from `fromMs` on. */
function runTimed(replay: Replay, fromMs: number, untilMs: number): void {
  for (;;) {
    const next = nextTimed(replay, fromMs);
    if (!next) return;
    // A threshold that passed while the patient still held a booking fires when the booking goes.
    const atMs = Math.max(next.dueMs, fromMs);
    if (atMs > untilMs) return;
    record(replay, next.code, next.anchorId, atMs, next.to);
  }
}

/** The next time-based trigger given the state at `atMs` (constant until the next history event). */
function nextTimed(replay: Replay, atMs: number): TimedCandidate | null {
  const { state } = replay;
  if (hasFutureBookingAt(replay.visits, atMs)) return null;
  const lastVisit = state.attended.at(-1);
  let candidates: TimedCandidate[] = [];
  if (lastVisit) candidates = gapCandidates(replay, lastVisit);
  else if (state.lastNoShow && state.stage !== 'Long-Term Lead Nurture') {
    candidates = noShowCandidates(replay, state.lastNoShow);
  }
  candidates.sort((a, b) => a.dueMs - b.dueMs || TIMED_ORDER[a.code] - TIMED_ORDER[b.code]);
  return candidates[0] ?? null;
}

/** The gap triggers (T9, T5, T6) of a patient who has attended. */
function gapCandidates(replay: Replay, lastVisit: Visit): TimedCandidate[] {
  const { state, config } = replay;
  const candidates: TimedCandidate[] = [];
  // The gap runs from the last visit, or from a later reactivating booking that never became one.
  const ref = gapRef(replay, lastVisit);
  const first = state.attended[0] as Visit;
  const gaps = state.attended.length - 1;
  const spanDays = dayNumber(lastVisit.localDate) - dayNumber(first.localDate);
  const stage = state.stage;
  const due = (days: number): number => dueAfter(replay, ref.date, days);
  if (
    gaps >= 1 &&
    (IN_CARE_LIKE.has(stage) || stage === 'Drop-Off Risk') &&
    !state.fired.has(`T9:${ref.id}`)
  ) {
    candidates.push({
      code: 'T9',
      dueMs: due(maintenanceAfterDays(spanDays, gaps, config)),
      anchorId: ref.id,
      to: stage,
    });
  }
  if (IN_CARE_LIKE.has(stage) && !state.fired.has(`T5:${ref.id}`)) {
    const days = dropOffAfterDays(spanDays, gaps, config);
    candidates.push({ code: 'T5', dueMs: due(days), anchorId: ref.id, to: 'Drop-Off Risk' });
  }
  if ((IN_CARE_LIKE.has(stage) || stage === 'Drop-Off Risk') && !state.fired.has(`T6:${ref.id}`)) {
    const days = config.thresholds.lapsedAfterDays;
    candidates.push({ code: 'T6', dueMs: due(days), anchorId: ref.id, to: 'Lapsed' });
  }
  return candidates;
}

/**
 * Never attended and did not arrive: nurture (T8) unless re-booked within the window. After a
 * reactivation from nurture whose booking never happened, the window runs from that booking.
 */
function noShowCandidates(replay: Replay, noShow: Visit): TimedCandidate[] {
  const ref = gapRef(replay, noShow);
  if (replay.state.fired.has(`T8:${ref.id}`)) return [];
  const days = replay.config.thresholds.noShowNurtureDays;
  return [
    { code: 'T8', dueMs: dueAfter(replay, ref.date, days), anchorId: ref.id, to: 'Long-Term Lead Nurture' },
  ];
}

/** The appointment a gap is measured from: `visit`, or a later reactivating booking. */
function gapRef(replay: Replay, visit: Visit): GapRef {
  const { reactivation } = replay.state;
  return reactivation && reactivation.atMs > visit.startMs
    ? { id: reactivation.visit.id, date: localDate(reactivation.atMs, replay.zone) }
    : { id: visit.id, date: visit.localDate };
}

function dueAfter(replay: Replay, date: string, days: number): number {
  return startOfLocalDay(addDays(date, days), replay.zone);
}

/** In Care: attending (a second visit, or a visit since reactivating), future bookings, no gap. */
function settleInCare(replay: Replay, atMs: number): void {
  const { state } = replay;
  if (state.stage !== 'Started Care' && state.stage !== 'Reactivated') return;
  const lastVisit = state.attended.at(-1);
  if (
    state.attended.length < 2 ||
    !lastVisit ||
    state.sinceMs === null ||
    lastVisit.startMs <= state.sinceMs
  ) {
    return;
  }
  if (!hasFutureBookingAt(replay.visits, atMs)) return;
  state.stage = 'In Care';
  state.sinceMs = atMs;
}
