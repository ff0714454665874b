/**
 * Test controls: the same operations in process (`emulator.controls`) and over HTTP under `/__control/`
 * (registered only when the emulator starts with `controls: true` / `--controls`). They change the
 * practice the way activity in Cliniko would (book, reschedule, cancel, arrive, consent changes,
 * archive, merge), move the clock, inject faults and expose the request log.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { PatientFields } from './practice.js';
import { parseDateTime } from './query.js';
import * as R from './resources.js';
import type { Json, RenderContext } from './resources.js';
import type { Fault, FaultSpec } from './faults.js';
import type { EmulatorState } from './state.js';
import { emptyPatientFields, MutationError } from './state.js';
import type { RequestLogEntry, ServerRuntime } from './transport.js';

const FAULT_KINDS = ['429', '500', '502', '503', '504', 'slow', 'malformed', 'drop'] as const;
const PATIENT_FIELD_NAMES = new Set(Object.keys(emptyPatientFields()));

export interface BookInput {
  patient_id: string;
  starts_at: string;
  ends_at?: string;
  practitioner_id?: string;
  appointment_type_id?: string;
  business_id?: string;
  patient_case_id?: string;
  notes?: string;
}

export interface Controls {
  now(): string;
  setClock(input: { now?: string; advanceSeconds?: number; frozen?: boolean }): string;
  createPatient(fields: Partial<PatientFields> & { first_name: string; last_name: string }): Json;
  updatePatient(id: string, fields: Partial<PatientFields>): Json;
  archivePatient(id: string): Json;
  unarchivePatient(id: string): Json;
  mergePatient(id: string, intoId: string): Json;
  book(input: BookInput): Json;
  reschedule(id: string, startsAt: string, endsAt?: string): Json;
  cancel(id: string, reason?: number | string, note?: string): Json;
  markArrived(id: string): Json;
  markDidNotArrive(id: string): Json;
  touch(resource: 'patients' | 'individual_appointments', ids: readonly string[]): number;
  /**
   * A late commit: the rows' next writes stay invisible to every read until `release()`, then appear
   * with the `updated_at` those writes stamped (state.ts, `held`).
   */
  hold(resource: 'patients' | 'individual_appointments', ids: readonly string[]): number;
  release(): number;
  injectFault(spec: FaultSpec): Fault;
  faults(): readonly Fault[];
  clearFaults(): void;
  requestLog(): readonly RequestLogEntry[];
  clearRequestLog(): void;
  resetRateLimit(): void;
  /** Changes the requests allowed per window from now on (a benchmark lifts it, then restores 200). */
  setRateLimit(perMinute: number): void;
}

export function createControls(state: EmulatorState, runtime: ServerRuntime): Controls {
  const ctx = (): RenderContext => state.context(runtime.base);
  return {
    ...clockControls(state),
    ...patientControls(state, ctx),
    ...appointmentControls(state, ctx),
    touch: (resource, ids) => state.touch(resource, ids),
    hold: (resource, ids) => state.hold(resource, ids),
    release: () => state.release(),
    ...transportControls(runtime),
  };
}

const iso = (s: number): string => new Date(s * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');

function clockControls(state: EmulatorState): Pick<Controls, 'now' | 'setClock'> {
  return {
    now: () => iso(state.clock.now()),
    setClock(input) {
      if (input.now !== undefined) {
        let ms: number;
        try {
          ms = parseDateTime(input.now);
        } catch {
          throw new MutationError(400, { message: 'now must be an ISO 8601 date-time' });
        }
        state.clock.set(Math.floor(ms / 1000));
      }
      if (input.advanceSeconds !== undefined) {
        if (!Number.isFinite(input.advanceSeconds))
          throw new MutationError(400, { message: 'advanceSeconds must be a number' });
        state.clock.advance(input.advanceSeconds);
      }
      if (input.frozen !== undefined) state.clock.freeze(input.frozen);
      return iso(state.clock.now());
    },
  };
}

type PatientControls = Pick<
  Controls,
  'createPatient' | 'updatePatient' | 'archivePatient' | 'unarchivePatient' | 'mergePatient'
>;

function patientControls(state: EmulatorState, ctx: () => RenderContext): PatientControls {
  return {
    createPatient(fields) {
      checkPatientFields(fields);
      if (typeof fields.first_name !== 'string' || typeof fields.last_name !== 'string') {
        throw new MutationError(400, { message: 'first_name and last_name are required' });
      }
      return R.patients.render(state.createPatient(fields), ctx());
    },
    updatePatient(id, fields) {
      checkPatientFields(fields);
      const p = state.patient(id);
      state.applyPatientFields(p, fields);
      return R.patients.render(p, ctx());
    },
    archivePatient(id) {
      const p = state.patient(id);
      state.archivePatient(p);
      return R.patients.render(p, ctx());
    },
    unarchivePatient(id) {
      const p = state.patient(id);
      state.unarchivePatient(p);
      return R.patients.render(p, ctx());
    },
    mergePatient(id, intoId) {
      const from = state.patient(id);
      state.mergePatients(from, state.patient(intoId));
      return R.patients.render(from, ctx());
    },
  };
}

type AppointmentControls = Pick<
  Controls,
  'book' | 'reschedule' | 'cancel' | 'markArrived' | 'markDidNotArrive'
>;

function appointmentControls(state: EmulatorState, ctx: () => RenderContext): AppointmentControls {
  return {
    book(input) {
      return R.individualAppointments.render(state.book(input), ctx());
    },
    reschedule(id, startsAt, endsAt) {
      const a = state.appointment(id);
      state.reschedule(a, startsAt, endsAt);
      return R.individualAppointments.render(a, ctx());
    },
    cancel(id, reason, note) {
      const a = state.appointment(id);
      state.cancel(a, reason, note);
      return R.individualAppointments.render(a, ctx());
    },
    markArrived(id) {
      const a = state.appointment(id);
      state.markArrived(a, true);
      return R.individualAppointments.render(a, ctx());
    },
    markDidNotArrive(id) {
      const a = state.appointment(id);
      state.markArrived(a, false);
      return R.individualAppointments.render(a, ctx());
    },
  };
}

type TransportControls = Pick<
  Controls,
  | 'injectFault'
  | 'faults'
  | 'clearFaults'
  | 'requestLog'
  | 'clearRequestLog'
  | 'resetRateLimit'
  | 'setRateLimit'
>;

function transportControls(runtime: ServerRuntime): TransportControls {
  return {
    injectFault(spec) {
      if (!(FAULT_KINDS as readonly string[]).includes(spec.kind)) {
        throw new MutationError(400, { message: `kind must be one of ${FAULT_KINDS.join(', ')}` });
      }
      if (typeof spec.path !== 'string' || spec.path === '')
        throw new MutationError(400, { message: 'path is required' });
      const count = spec.count ?? 1;
      if (!Number.isInteger(count) || count < 1)
        throw new MutationError(400, { message: 'count must be a positive integer' });
      const fault: Fault = {
        id: runtime.nextFaultId++,
        path: spec.path,
        method: spec.method?.toUpperCase() ?? null,
        kind: spec.kind,
        count,
        remaining: count,
        delayMs: spec.delayMs ?? 2000,
        resetSeconds: spec.resetSeconds ?? 1,
      };
      runtime.faults.push(fault);
      return fault;
    },
    faults: () => runtime.faults,
    clearFaults() {
      runtime.faults.length = 0;
    },
    requestLog: () => runtime.log,
    clearRequestLog() {
      runtime.log.length = 0;
    },
    resetRateLimit() {
      runtime.rate.clear();
    },
    setRateLimit(perMinute) {
      if (!Number.isInteger(perMinute) || perMinute < 1)
        throw new MutationError(400, { message: 'perMinute must be a positive integer' });
      runtime.rateLimitPerMinute = perMinute;
      runtime.rate.clear();
    },
  };
}

function checkPatientFields(fields: unknown): void {
  if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) {
    throw new MutationError(400, { message: 'body must be a JSON object of patient fields' });
  }
  const unknown = Object.keys(fields).filter((k) => !PATIENT_FIELD_NAMES.has(k));
  if (unknown.length > 0)
    throw new MutationError(400, { message: `unknown patient fields: ${unknown.join(', ')}` });
}

const body = (req: FastifyRequest): Record<string, unknown> => {
  const b = req.body;
  return typeof b === 'object' && b !== null && !Array.isArray(b) ? (b as Record<string, unknown>) : {};
};
const id = (req: FastifyRequest): string => (req.params as { id: string }).id;
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const ok = (reply: FastifyReply, payload: unknown, code = 200): FastifyReply =>
  reply.code(code).send(payload);

/** HTTP routes for the controls; no auth (they exist only in test processes). */
export function registerControlRoutes(app: FastifyInstance, controls: Controls, state: EmulatorState): void {
  app.get('/__control/clock', async (_req, reply) =>
    ok(reply, { now: controls.now(), frozen: state.clock.isFrozen }),
  );
  app.post('/__control/clock', async (req, reply) => {
    const b = body(req);
    const now = controls.setClock({
      now: str(b.now),
      advanceSeconds: typeof b.advanceSeconds === 'number' ? b.advanceSeconds : undefined,
      frozen: typeof b.frozen === 'boolean' ? b.frozen : undefined,
    });
    return ok(reply, { now, frozen: state.clock.isFrozen });
  });

  registerPatientControlRoutes(app, controls);
  registerAppointmentControlRoutes(app, controls);
  registerTransportControlRoutes(app, controls);
  app.get('/__control/canaries', async (_req, reply) =>
    ok(reply, { canaries: [...R.allCanaries(state.practice)] }),
  );
}

function registerPatientControlRoutes(app: FastifyInstance, controls: Controls): void {
  app.post('/__control/patients', async (req, reply) =>
    ok(
      reply,
      controls.createPatient(body(req) as Partial<PatientFields> & { first_name: string; last_name: string }),
      201,
    ),
  );
  app.patch('/__control/patients/:id', async (req, reply) =>
    ok(reply, controls.updatePatient(id(req), body(req) as Partial<PatientFields>)),
  );
  app.post('/__control/patients/:id/archive', async (req, reply) =>
    ok(reply, controls.archivePatient(id(req))),
  );
  app.post('/__control/patients/:id/unarchive', async (req, reply) =>
    ok(reply, controls.unarchivePatient(id(req))),
  );
  app.post('/__control/patients/:id/merge', async (req, reply) => {
    const into = str(body(req).into);
    if (!into) throw new MutationError(400, { message: 'into (the surviving patient id) is required' });
    return ok(reply, controls.mergePatient(id(req), into));
  });
}

function registerAppointmentControlRoutes(app: FastifyInstance, controls: Controls): void {
  app.post('/__control/appointments', async (req, reply) => {
    const b = body(req);
    const patient = str(b.patient_id);
    const startsAt = str(b.starts_at);
    if (!patient || !startsAt)
      throw new MutationError(400, { message: 'patient_id and starts_at are required' });
    return ok(
      reply,
      controls.book({
        patient_id: patient,
        starts_at: startsAt,
        ends_at: str(b.ends_at),
        practitioner_id: str(b.practitioner_id),
        appointment_type_id: str(b.appointment_type_id),
        business_id: str(b.business_id),
        patient_case_id: str(b.patient_case_id),
        notes: str(b.notes),
      }),
      201,
    );
  });
  app.post('/__control/appointments/:id/reschedule', async (req, reply) => {
    const b = body(req);
    const startsAt = str(b.starts_at);
    if (!startsAt) throw new MutationError(400, { message: 'starts_at is required' });
    return ok(reply, controls.reschedule(id(req), startsAt, str(b.ends_at)));
  });
  app.post('/__control/appointments/:id/cancel', async (req, reply) => {
    const b = body(req);
    const reason = typeof b.reason === 'number' || typeof b.reason === 'string' ? b.reason : undefined;
    return ok(reply, controls.cancel(id(req), reason, str(b.note)));
  });
  app.post('/__control/appointments/:id/arrived', async (req, reply) =>
    ok(reply, controls.markArrived(id(req))),
  );
  app.post('/__control/appointments/:id/did-not-arrive', async (req, reply) =>
    ok(reply, controls.markDidNotArrive(id(req))),
  );
  app.post('/__control/touch', async (req, reply) => {
    const b = body(req);
    const resource = b.resource;
    const ids = b.ids;
    if ((resource !== 'patients' && resource !== 'individual_appointments') || !Array.isArray(ids)) {
      throw new MutationError(400, {
        message: "resource ('patients' | 'individual_appointments') and ids[] are required",
      });
    }
    return ok(reply, { touched: controls.touch(resource, ids.map(String)) });
  });
  app.post('/__control/hold', async (req, reply) => {
    const { resource, ids } = body(req);
    if ((resource !== 'patients' && resource !== 'individual_appointments') || !Array.isArray(ids)) {
      throw new MutationError(400, {
        message: "resource ('patients' | 'individual_appointments') and ids[] are required",
      });
    }
    return ok(reply, { held: controls.hold(resource, ids.map(String)) });
  });
  app.post('/__control/release', async (_req, reply) => ok(reply, { released: controls.release() }));
}

function registerTransportControlRoutes(app: FastifyInstance, controls: Controls): void {
  app.get('/__control/faults', async (_req, reply) => ok(reply, { faults: controls.faults() }));
  app.post('/__control/faults', async (req, reply) =>
    ok(reply, controls.injectFault(body(req) as unknown as FaultSpec), 201),
  );
  app.delete('/__control/faults', async (_req, reply) => {
    controls.clearFaults();
    return reply.code(204).send();
  });
  // `?since=N`: only entries after sequence number N (a benchmark counts a phase's requests).
  app.get('/__control/requests', async (req, reply) => {
    const since = Number((req.query as { since?: string }).since ?? 0);
    if (!Number.isInteger(since) || since < 0)
      return reply.code(400).send({ message: 'since must be a non-negative integer' });
    return ok(reply, { requests: controls.requestLog().filter((e) => e.seq > since) });
  });
  app.delete('/__control/requests', async (_req, reply) => {
    controls.clearRequestLog();
    return reply.code(204).send();
  });
  app.post('/__control/rate-limit', async (req, reply) => {
    controls.setRateLimit(Number(body(req).perMinute));
    return reply.code(204).send();
  });
  app.post('/__control/rate-limit/reset', async (_req, reply) => {
    controls.resetRateLimit();
    return reply.code(204).send();
  });
}
