/**
 * The HTTP face of the emulator: Cliniko's /v1 routes with its transport rules (Basic auth with the
 * key as user name, shard suffix, User-Agent with a contact e-mail, Accept, per-key rate limit), plus
 * fault injection and a request log that tests use to check client behaviour.
 */
import Fastify from 'fastify';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { FILTERS } from './filters.js';
import type { Kind } from './ids.js';
import { fromId, KIND, toId } from './ids.js';
import { validatePatientPatch } from './patch.js';
import type { FieldValue, Filter, FilterType, SortKey } from './query.js';
import { compareValues, parseFilters, parsePaging, parseSort, QueryError } from './query.js';
import * as R from './resources.js';
import type { Json, RenderContext, ResourceDef } from './resources.js';
import type { EmulatorState } from './state.js';
import { MutationError } from './state.js';
import type { Appointment, Invoice, Practice } from './practice.js';

export interface TransportOptions {
  shard: string;
  apiKey: string;
  rateLimitPerMinute: number;
  rateLimitWindowSeconds: number;
}

export type FaultKind = '429' | '500' | '502' | '503' | '504' | 'slow' | 'malformed' | 'drop';
export interface FaultSpec {
  /** Request path to match, e.g. `/v1/patients`; a trailing `*` matches a prefix; `*` alone matches all. */
  path: string;
  method?: string;
  kind: FaultKind;
  /** How many matching requests fail (default 1). */
  count?: number;
  /** For `slow`: delay before the normal response (default 2000 ms). */
  delayMs?: number;
  /** For `429`: seconds until X-RateLimit-Reset (default 1). */
  resetSeconds?: number;
}
export interface Fault extends Required<Omit<FaultSpec, 'method'>> {
  id: number;
  method: string | null;
  remaining: number;
}

export interface RequestLogEntry {
  seq: number;
  at: string; // real wall-clock time, ISO
  method: string;
  url: string;
  status: number | null; // null when the connection was dropped
  key: string | null; // the Basic-auth user name (API key) presented, if any
  userAgent: string | null;
  fault: FaultKind | null;
  durationMs: number | null;
}

export interface ServerRuntime {
  faults: Fault[];
  nextFaultId: number;
  log: RequestLogEntry[];
  logLimit: number;
  seq: number;
  rate: Map<string, { windowStart: number; count: number }>;
  base: string;
}

const SOFT_COLUMNS = ['archived_at', 'cancelled_at', 'deleted_at'] as const;
// A contact e-mail somewhere in the User-Agent, e.g. "GovernedSync/1.0 (ops@clinic.example)".
const UA_EMAIL = /[^\s()<>@,;:]+@[^\s()<>@,;:]+\.[A-Za-z]{2,}/;

declare module 'fastify' {
  interface FastifyRequest {
    logEntry?: RequestLogEntry;
    startedAt?: number;
  }
}

export function buildServer(
  state: EmulatorState,
  transport: TransportOptions,
  runtime: ServerRuntime,
  controls: boolean,
  registerControls: (app: FastifyInstance) => void,
): FastifyInstance {
  const app = Fastify({ logger: false, forceCloseConnections: true });
  // Clients often send `Content-Type: application/json` with an empty body on POST .../archive;
  // Cliniko accepts that, Fastify's default parser would not.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') {
      done(null, undefined);
      return;
    }
    try {
      done(null, JSON.parse(text) as unknown);
    } catch {
      done(Object.assign(new Error('Request body is not valid JSON'), { statusCode: 400 }), undefined);
    }
  });

  // Cliniko's Date header and its updated_at values come from one clock; clients take the header as
  // the server's "now" (a sync's signpost), so it must follow the emulated clock, not the wall.
  app.addHook('onSend', async (_req, reply, payload) => {
    reply.header('date', new Date(state.clock.now() * 1000).toUTCString());
    return payload;
  });

  app.addHook('onRequest', async (req, reply) => {
    if (!req.url.startsWith('/v1/') && req.url !== '/v1') return;
    const entry: RequestLogEntry = {
      seq: ++runtime.seq,
      at: new Date().toISOString(),
      method: req.method,
      url: req.url,
      status: null,
      key: basicUser(req.headers.authorization),
      userAgent: req.headers['user-agent'] ?? null,
      fault: null,
      durationMs: null,
    };
    req.logEntry = entry;
    req.startedAt = performance.now();
    runtime.log.push(entry);
    if (runtime.log.length > runtime.logLimit) runtime.log.splice(0, runtime.log.length - runtime.logLimit);

    const fault = takeFault(runtime, req);
    if (fault) {
      entry.fault = fault.kind;
      const done = await applyFault(fault, req, reply);
      if (done) return reply;
    }

    // Auth first: a bad key or a key for another shard is a plain 401, as Cliniko's Rails stack sends it.
    const key = entry.key;
    if (!key || !keyValid(key, transport)) {
      return reply
        .code(401)
        .header('www-authenticate', 'Basic realm="Application"')
        .type('text/plain; charset=utf-8')
        .send('HTTP Basic: Access denied.\n');
    }
    const ua = req.headers['user-agent'];
    if (!ua || !UA_EMAIL.test(ua)) {
      return reply.code(403).send({
        message:
          "A User-Agent header naming your application and a contact e-mail is required, e.g. 'MyApp (me@example.com)'.",
      });
    }
    const accept = req.headers.accept;
    if (!accept || !/(application\/json|application\/\*|\*\/\*)/.test(accept)) {
      return reply.code(406).send({ message: 'Send Accept: application/json' });
    }
    const limited = rateLimit(runtime, transport, key);
    if (limited !== null) {
      return reply
        .code(429)
        .header('x-ratelimit-reset', String(limited))
        .send({ message: 'Too many requests. Retry after X-RateLimit-Reset.' });
    }
    return undefined;
  });

  app.addHook('onResponse', async (req, reply) => {
    if (req.logEntry) {
      req.logEntry.status = reply.statusCode;
      req.logEntry.durationMs = Math.round(performance.now() - (req.startedAt ?? performance.now()));
    }
  });

  app.setErrorHandler((err: Error & { statusCode?: number }, _req, reply) => {
    if (err instanceof QueryError || err instanceof MutationError) {
      const body = err instanceof MutationError ? err.body : { message: err.message };
      return reply.code(err.status).send(body);
    }
    const status = err.statusCode ?? 500;
    return reply.code(status).send({ message: status >= 500 ? 'Internal Server Error' : err.message });
  });
  app.setNotFoundHandler((_req, reply) => reply.code(404).send({ message: 'Not found' }));

  registerApiRoutes(app, state, runtime);
  if (controls) registerControls(app);
  return app;
}

// ------------------------------------------------------------------ transport helpers
function basicUser(header: string | undefined): string | null {
  if (!header?.startsWith('Basic ')) return null;
  const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const user = colon < 0 ? decoded : decoded.slice(0, colon);
  return user === '' ? null : user;
}

/** The shard is the suffix after the key's last `-`; keys without one belong to au1. */
export function shardOfKey(key: string): string {
  const dash = key.lastIndexOf('-');
  return dash < 0 ? 'au1' : key.slice(dash + 1);
}

function keyValid(key: string, t: TransportOptions): boolean {
  if (shardOfKey(key) !== t.shard) return false;
  const token = (k: string): string => (k.lastIndexOf('-') < 0 ? k : k.slice(0, k.lastIndexOf('-')));
  return token(key) === token(t.apiKey);
}

/** Fixed window per key; returns the reset time (UNIX seconds) when over the limit, else null. */
function rateLimit(runtime: ServerRuntime, t: TransportOptions, key: string): number | null {
  const nowMs = Date.now();
  const windowMs = t.rateLimitWindowSeconds * 1000;
  let w = runtime.rate.get(key);
  if (!w || nowMs - w.windowStart >= windowMs) {
    w = { windowStart: nowMs, count: 0 };
    runtime.rate.set(key, w);
  }
  if (w.count >= t.rateLimitPerMinute) return Math.ceil((w.windowStart + windowMs) / 1000);
  w.count++;
  return null;
}

function takeFault(runtime: ServerRuntime, req: FastifyRequest): Fault | null {
  const path = req.url.split('?')[0] ?? '';
  const i = runtime.faults.findIndex(
    (f) =>
      f.remaining > 0 &&
      (f.method === null || f.method === req.method) &&
      (f.path === '*' || (f.path.endsWith('*') ? path.startsWith(f.path.slice(0, -1)) : path === f.path)),
  );
  const f = runtime.faults[i];
  if (!f) return null;
  f.remaining--;
  if (f.remaining <= 0) runtime.faults.splice(i, 1);
  return f;
}

/** Returns true when the fault produced the response (or dropped the connection). */
async function applyFault(f: Fault, req: FastifyRequest, reply: FastifyReply): Promise<boolean> {
  switch (f.kind) {
    case 'slow':
      await new Promise((r) => setTimeout(r, f.delayMs));
      return false;
    case '429':
      reply
        .code(429)
        .header('x-ratelimit-reset', String(Math.ceil(Date.now() / 1000) + f.resetSeconds))
        .send({ message: 'Too many requests. Retry after X-RateLimit-Reset.' });
      return true;
    case '500':
      reply.code(500).send({ message: 'Internal Server Error' });
      return true;
    case '502':
    case '503':
    case '504':
      // Gateway errors come from the load balancer as HTML, not from the API as JSON.
      reply
        .code(Number(f.kind))
        .type('text/html; charset=utf-8')
        .send(`<html><body><h1>${f.kind} ${gatewayText(f.kind)}</h1></body></html>\n`);
      return true;
    case 'malformed':
      reply
        .code(200)
        .type('application/json; charset=utf-8')
        .send('{"patients":[{"id":"1100000000000000001","fir');
      return true;
    case 'drop':
      reply.hijack();
      req.raw.socket.destroy();
      return true;
  }
}

function gatewayText(kind: '502' | '503' | '504'): string {
  return kind === '502' ? 'Bad Gateway' : kind === '503' ? 'Service Unavailable' : 'Gateway Timeout';
}

// ------------------------------------------------------------------ API routes
type Source<R> = (params: Record<string, string>, p: Practice) => readonly R[];

interface ListRoute<R> {
  path: string; // spec path template
  def: ResourceDef<R>;
  source?: Source<R>;
  /** Extra visibility rule of the endpoint (e.g. /practitioners/inactive, /patient_cases/active). */
  where?: (row: R) => boolean;
}

function registerApiRoutes(app: FastifyInstance, state: EmulatorState, runtime: ServerRuntime): void {
  const ctx = (): RenderContext => state.context(runtime.base);
  const parent = (kind: Kind, rows: readonly unknown[], id: string | undefined): number => {
    const idx = fromId(kind, id ?? '');
    if (idx < 0 || idx >= rows.length) throw new MutationError(404, { message: 'Not found' });
    return idx;
  };

  const cache: ListCache = { version: state, entries: new Map() };
  const list = <R>(route: ListRoute<R>): void => {
    const allowed = FILTERS[route.path];
    if (!allowed) throw new Error(`no filter table for ${route.path}`);
    app.get(`/v1${toFastifyPath(route.path)}`, async (req, reply) => {
      const c = ctx();
      const rows = route.source
        ? route.source(req.params as Record<string, string>, state.practice)
        : route.def.rows(state.practice);
      const body = listResponse(route.def, rows, req.url, allowed, c, route.where, cache);
      return reply.send(body);
    });
  };

  const get = <R>(path: string, def: ResourceDef<R>): void => {
    const allowed = FILTERS[path] ?? {};
    app.get(`/v1${toFastifyPath(path)}`, async (req, reply) => {
      const c = ctx();
      const row = findVisible(def, (req.params as { id: string }).id, req.url, allowed, c);
      return reply.send(def.render(row, c));
    });
  };

  // Patients
  list({ path: '/patients', def: R.patients });
  get('/patients/{id}', R.patients);
  const patchPatient = async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const c = ctx();
    const p = findVisible(R.patients, (req.params as { id: string }).id, '', {}, c);
    const result = validatePatientPatch(req.body, state.practice);
    if (!result.ok) return reply.code(422).send({ message: 'Validation Failed', errors: result.errors });
    state.applyPatientFields(p, result.patch.changes, {
      concessionType: result.patch.concessionType,
      referringDoctor: result.patch.referringDoctor,
    });
    return reply.send(R.patients.render(p, state.context(runtime.base)));
  };
  app.patch('/v1/patients/:id', patchPatient);
  const archive = async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const p = findVisible(R.patients, (req.params as { id: string }).id, '', {}, ctx());
    state.archivePatient(p);
    return reply.code(204).send();
  };
  app.post('/v1/patients/:id/archive', archive);
  app.delete('/v1/patients/:id', archive);
  app.post('/v1/patients/:id/unarchive', async (req, reply) => {
    const p = state.patient((req.params as { id: string }).id);
    state.unarchivePatient(p);
    return reply.send(R.patients.render(p, ctx()));
  });

  // Appointments and their views
  list({ path: '/individual_appointments', def: R.individualAppointments });
  get('/individual_appointments/{id}', R.individualAppointments);
  list({ path: '/bookings', def: R.bookings });
  get('/bookings/{id}', R.bookings);
  list({ path: '/attendees', def: R.attendees });
  get('/attendees/{id}', R.attendees);
  list({
    path: '/individual_appointments/{individual_appointment_id}/attendees',
    def: R.attendees,
    source: (params, p) => {
      const idx = parent(KIND.appointment, p.appointments, params.individual_appointment_id);
      return p.appointments.slice(idx, idx + 1);
    },
  });
  const caseAppointments: Source<Appointment> = (params, p) => {
    const idx = parent(KIND.patientCase, p.patientCases, params.patient_case_id);
    const c = p.patientCases[idx];
    return (c?.appointments ?? []).map((a) => p.appointments[a]).filter((a) => a !== undefined);
  };
  list({ path: '/patient_cases/{patient_case_id}/attendees', def: R.attendees, source: caseAppointments });
  list({ path: '/patient_cases/{patient_case_id}/bookings', def: R.bookings, source: caseAppointments });

  // Configuration
  list({ path: '/appointment_types', def: R.appointmentTypes });
  get('/appointment_types/{id}', R.appointmentTypes);
  list({
    path: '/practitioners/{practitioner_id}/appointment_types',
    def: R.appointmentTypes,
    source: (params, p) => (
      parent(KIND.practitioner, p.practitioners, params.practitioner_id),
      p.appointmentTypes
    ),
  });
  list({ path: '/practitioners', def: R.practitioners, where: (pr) => pr.active });
  list({ path: '/practitioners/inactive', def: R.practitioners, where: (pr) => !pr.active });
  get('/practitioners/{id}', R.practitioners);
  list({
    path: '/businesses/{business_id}/practitioners',
    def: R.practitioners,
    where: (pr) => pr.active,
    source: (params, p) => {
      const idx = parent(KIND.business, p.businesses, params.business_id);
      return p.practitioners.filter((pr) => pr.business === idx);
    },
  });
  list({
    path: '/appointment_types/{appointment_type_id}/practitioners',
    def: R.practitioners,
    where: (pr) => pr.active,
    source: (params, p) => (
      parent(KIND.appointmentType, p.appointmentTypes, params.appointment_type_id),
      p.practitioners
    ),
  });
  list({ path: '/businesses', def: R.businesses });
  get('/businesses/{id}', R.businesses);
  list({ path: '/concession_types', def: R.concessionTypes });
  get('/concession_types/{id}', R.concessionTypes);
  list({ path: '/contacts', def: R.contacts });
  get('/contacts/{id}', R.contacts);
  list({ path: '/users', def: R.users });
  get('/users/{id}', R.users);
  // The key belongs to the practice's administrator.
  app.get('/v1/user', async (_req, reply) => {
    const admin = state.practice.users.find((u) => u.role === 'administrator');
    if (!admin) throw new MutationError(404, { message: 'Not found' });
    return reply.send(R.users.render(admin, ctx()));
  });
  app.get('/v1/settings/public', async (_req, reply) => reply.send(publicSettings(state)));

  // Cases
  list({ path: '/patient_cases', def: R.patientCases });
  list({ path: '/patient_cases/active', def: R.patientCases, where: (c) => c.closedAt === null });
  get('/patient_cases/{id}', R.patientCases);

  // Billing
  list({ path: '/invoices', def: R.invoices });
  get('/invoices/{id}', R.invoices);
  const invoicesWhere =
    (
      kind: Kind,
      param: string,
      rowsOf: (p: Practice) => readonly unknown[],
      test: (inv: Invoice, idx: number, p: Practice) => boolean,
    ): Source<Invoice> =>
    (params, p) => {
      const idx = parent(kind, rowsOf(p), params[param]);
      return p.invoices.filter((inv) => test(inv, idx, p));
    };
  list({
    path: '/patients/{patient_id}/invoices',
    def: R.invoices,
    source: invoicesWhere(
      KIND.patient,
      'patient_id',
      (p) => p.patients,
      (inv, idx, p) => p.appointments[inv.appointment]?.patient === idx,
    ),
  });
  list({
    path: '/appointments/{appointment_id}/invoices',
    def: R.invoices,
    source: invoicesWhere(
      KIND.appointment,
      'appointment_id',
      (p) => p.appointments,
      (inv, idx) => inv.appointment === idx,
    ),
  });
  list({
    path: '/attendees/{attendee_id}/invoices',
    def: R.invoices,
    source: invoicesWhere(
      KIND.attendee,
      'attendee_id',
      (p) => p.appointments,
      (inv, idx) => inv.appointment === idx,
    ),
  });
  list({
    path: '/patient_cases/{patient_case_id}/invoices',
    def: R.invoices,
    source: invoicesWhere(
      KIND.patientCase,
      'patient_case_id',
      (p) => p.patientCases,
      (inv, idx, p) => p.appointments[inv.appointment]?.patientCase === idx,
    ),
  });
  list({
    path: '/practitioners/{practitioner_id}/invoices',
    def: R.invoices,
    source: invoicesWhere(
      KIND.practitioner,
      'practitioner_id',
      (p) => p.practitioners,
      (inv, idx, p) => p.appointments[inv.appointment]?.practitioner === idx,
    ),
  });
  list({ path: '/invoice_items', def: R.invoiceItems });
  get('/invoice_items/{id}', R.invoiceItems);
  list({
    path: '/invoices/{invoice_id}/invoice_items',
    def: R.invoiceItems,
    source: (params, p) => {
      const idx = parent(KIND.invoice, p.invoices, params.invoice_id);
      return p.invoices.slice(idx, idx + 1);
    },
  });

  // Clinical records (served so that tests can prove the sync never copies them)
  list({ path: '/treatment_notes', def: R.treatmentNotes });
  get('/treatment_notes/{id}', R.treatmentNotes);
  list({
    path: '/patients/{patient_id}/treatment_notes',
    def: R.treatmentNotes,
    source: (params, p) => {
      const idx = parent(KIND.patient, p.patients, params.patient_id);
      return p.treatmentNotes.filter((t) => p.appointments[t.appointment]?.patient === idx);
    },
  });
  list({ path: '/medical_alerts', def: R.medicalAlerts });
  get('/medical_alerts/{id}', R.medicalAlerts);
  list({
    path: '/patients/{patient_id}/medical_alerts',
    def: R.medicalAlerts,
    source: (params, p) => {
      const idx = parent(KIND.patient, p.patients, params.patient_id);
      return p.medicalAlerts.filter((m) => m.patient === idx);
    },
  });
}

const LIST_CACHE_SIZE = 16;
interface ListCache {
  version: { readonly version: number };
  entries: Map<string, { version: number; rows: readonly unknown[] }>;
}

function toFastifyPath(specPath: string): string {
  return specPath.replace(/\{(\w+)\}/g, ':$1');
}

function searchParams(url: string): URLSearchParams {
  const q = url.indexOf('?');
  // URLSearchParams decodes keys, so `q%5B%5D=` and `q[]=` both arrive as `q[]`.
  return new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
}

/** Soft-deleted rows (archived, cancelled, deleted) are hidden unless the request filters on that column. */
function visibility<R>(
  def: ResourceDef<R>,
  allowed: Readonly<Record<string, FilterType>>,
  filters: readonly Filter[],
  c: RenderContext,
): (row: R) => boolean {
  const mentioned = new Set(filters.map((f) => f.field));
  const hidden = SOFT_COLUMNS.filter((col) => Object.hasOwn(allowed, col) && !mentioned.has(col));
  return (row) =>
    hidden.every((col) => def.field(row, col, c) === null) &&
    filters.every((f) => f.test(def.field(row, f.field, c)));
}

function findVisible<R>(
  def: ResourceDef<R>,
  id: string,
  url: string,
  allowed: Readonly<Record<string, FilterType>>,
  c: RenderContext,
): R {
  const filters = parseFilters(searchParams(url).getAll('q[]'), allowed);
  const row = def.rows(c.practice)[fromId(def.kind, id)];
  // Archived (and, for appointments, cancelled) records 404 unless the request filters on the column.
  const soft = ['archived_at', 'cancelled_at', 'deleted_at'];
  const mentioned = new Set(filters.map((f) => f.field));
  const hiddenBySoft =
    row !== undefined && soft.some((col) => !mentioned.has(col) && def.field(row, col, c) !== null);
  if (!row || hiddenBySoft || !filters.every((f) => f.test(def.field(row, f.field, c)))) {
    throw new MutationError(404, { message: 'Not found' });
  }
  return row;
}

function listResponse<R>(
  def: ResourceDef<R>,
  rows: readonly R[],
  url: string,
  allowed: Readonly<Record<string, FilterType>>,
  c: RenderContext,
  where: ((row: R) => boolean) | undefined,
  cache: ListCache,
): Json {
  const sp = searchParams(url);
  const filters = parseFilters(sp.getAll('q[]'), allowed);
  const sort = parseSort(sp.get('sort'), sp.get('order'), allowed);
  const paging = parsePaging(sp.get('page'), sp.get('per_page'));
  const path = url.split('?')[0] ?? '';

  // Consecutive pages of one query share the filtered, sorted rows until the next write. Reminder
  // flags depend on the clock, so queries on them are never cached.
  const key = `${path}?${[...sp]
    .filter(([k]) => k !== 'page' && k !== 'per_page')
    .map(([k, v]) => `${k}=${v}`)
    .join('&')}`;
  const cacheable = !filters.some((f) => f.field.endsWith('_reminder_sent'));
  const hit = cacheable ? cache.entries.get(key) : undefined;
  let matched: R[];
  if (hit && hit.version === cache.version.version) {
    matched = hit.rows as R[];
  } else {
    const visible = visibility(def, allowed, filters, c);
    matched = [];
    for (const row of rows) if ((!where || where(row)) && visible(row)) matched.push(row);
    sortRows(def, matched, sort, c);
    if (cacheable) {
      cache.entries.delete(key);
      cache.entries.set(key, { version: cache.version.version, rows: matched });
      if (cache.entries.size > LIST_CACHE_SIZE) cache.entries.delete(cache.entries.keys().next().value ?? '');
    }
  }

  const start = (paging.page - 1) * paging.perPage;
  const page = matched.slice(start, start + paging.perPage).map((row) => def.render(row, c));
  const linkFor = (n: number): string => {
    const params = new URLSearchParams();
    for (const [k, v] of sp) if (k !== 'page') params.append(k, v);
    params.set('page', String(n));
    return `${c.base}${path.replace(/^\/v1/, '')}?${params.toString()}`;
  };
  const links: Record<string, string> = { self: linkFor(paging.page) };
  if (start + paging.perPage < matched.length) links.next = linkFor(paging.page + 1);
  if (paging.page > 1) links.previous = linkFor(paging.page - 1);
  return { [def.plural]: page, total_entries: matched.length, links };
}

/**
 * Rows are stored in (created_at, id) order, so the default sort usually needs no work; rows created
 * through the controls after the clock was moved back are the exception, hence the check.
 */
function sortRows<R>(def: ResourceDef<R>, rows: R[], keys: readonly SortKey[], c: RenderContext): void {
  const isDefault = keys.length === 1 && keys[0]?.field === 'created_at' && !keys[0].desc;
  if (isDefault) {
    let ordered = true;
    for (let i = 1; i < rows.length && ordered; i++) {
      ordered =
        (def.field(rows[i - 1] as R, 'created_at', c) as number) <=
        (def.field(rows[i] as R, 'created_at', c) as number);
    }
    if (ordered) return;
  }
  // Columns of sort keys; timestamps and counts compare as plain numbers (the hot path: the sync sorts
  // a million appointments by `updated_at,id`). Rows arrive in id order, so equal keys fall back to
  // input position, which is id order.
  const cols = keys.map((k) => rows.map((row) => def.field(row, k.field, c)));
  const numeric = cols.map((col) => col.every((v) => v === null || typeof v === 'number'));
  const order = rows.map((_, i) => i);
  order.sort((a, b) => {
    for (let i = 0; i < keys.length; i++) {
      const col = cols[i] as FieldValue[];
      const x = col[a] as FieldValue;
      const y = col[b] as FieldValue;
      let cmp: number;
      if (numeric[i]) cmp = x === y ? 0 : x === null ? 1 : y === null ? -1 : (x as number) - (y as number);
      else cmp = compareValues(x, y);
      if (cmp !== 0) return keys[i]?.desc ? -cmp : cmp;
    }
    return a - b;
  });
  const copy = rows.slice();
  order.forEach((from, to) => (rows[to] = copy[from] as R));
}

function publicSettings(state: EmulatorState): Json {
  return {
    account: {
      country: 'Australia',
      country_code: 'AU',
      currency_symbol: '$',
      has_time_travelers: false,
      id: toId(KIND.account, 0),
      name: 'Northside Chiropractic Group',
      subdomain: 'northside-chiro',
      time_zone_support: true,
    },
    calendar: {
      end_hour: 19,
      multiple_appointments_gap: false,
      show_current_time_indicator: true,
      start_hour: 7,
      timeslot_height_in_pixels: 24,
      timeslot_size_in_minutes: 15,
    },
    online_bookings: {
      allow_bookings_days_in_advance: 60,
      allow_online_bookings_time_zone_choice: false,
      booking_reservation_minutes: 10,
      calendar_info: null,
      daily_bookings_limit: 0,
      disabled_text: null,
      disabled_title: null,
      enabled: true,
      logo_url: null,
      max_appointments_per_day_segment: 0,
      min_hours_advance_required_to_book: 2,
      min_hours_notice_for_patient_cancellation: 24,
      notice_enabled: false,
      notice_text: null,
      notice_title: null,
      notify_practitioner_by_email: true,
      notify_practitioner_by_sms: false,
      policy: null,
      practitioner_order: state.practice.practitioners.map((p) => state.idOf('practitioner', p.idx)),
      privacy_policy_url: null,
      require_patient_address: false,
      show_appointment_duration: true,
      show_prices: true,
    },
    online_payments: { activated: false },
  };
}
