/**
 * Test controls under /__emulator/ (registered only when the emulator starts with `controls: true`):
 * the request log with bodies, a record dump per object, published platform events, permission-set
 * assignment, the clock, and fault injection. None of this exists in a real org.
 */
import type { FastifyInstance } from 'fastify';
import type { Sessions } from './auth.js';
import { ApiError } from './errors.js';
import type { Clock, Org, UserDef } from './org.js';

export interface RequestLogEntry {
  seq: number;
  at: string;
  method: string;
  /** The path as routed (runs of slashes collapsed, see collapseSlashes in http.ts). */
  url: string;
  /** The path exactly as the client sent it, only when it differs from `url` (e.g. `//services/...`). */
  sentUrl?: string;
  headers: Record<string, unknown>;
  /** The raw request body as received (UTF-8). */
  body: string;
  status: number;
}

export interface Faults {
  /** Requests under /services/data to answer 503 (-1: until cleared). */
  http503: number;
  latencyMs: number;
  /** Requests to delay (-1: until cleared). */
  latencyTimes: number;
}

export interface ControlDeps {
  org: Org;
  sessions: Sessions;
  requestLog: RequestLogEntry[];
  faults: Faults;
  clock: Clock;
  clientId: string;
  /** Requests answered by method and route pattern (http.ts, countRoutes). */
  routeCounts: ReadonlyMap<string, number>;
}

type FaultBody =
  | { kind: 'lockRow'; object: string; field: string; value: string; times?: number }
  | { kind: 'http503'; times?: number }
  | { kind: 'latency'; ms: number; times?: number }
  | { kind: 'expireSessions' }
  | { kind: 'exhaustLimit' };

export function registerControls(app: FastifyInstance, deps: ControlDeps): void {
  const { org, clock } = deps;
  registerLogControls(app, deps);
  app.get('/__emulator/stats', () => stats(deps));
  // `?field=F&value=V`: only the live records whose F equals V (through the external-id index when F
  // is one), so a benchmark can watch one record without dumping a table of a million.
  app.get<{ Params: { object: string }; Querystring: { field?: string; value?: string } }>(
    '/__emulator/records/:object',
    (request) => {
      const object = org.schema.objects.get(request.params.object.toLowerCase());
      if (!object) throw new ApiError(404, 'NOT_FOUND', `No object named ${request.params.object}`);
      const { field: fieldName, value } = request.query;
      if (fieldName === undefined) return [...org.records(object.name)];
      const field = object.fields.get(fieldName.toLowerCase());
      if (!field) throw new ApiError(400, 'INVALID_FIELD', `No field ${fieldName} on ${object.name}`);
      return org.matchByField(object, field, value ?? '');
    },
  );

  app.get<{ Querystring: { object?: string } }>('/__emulator/events', (request) =>
    org.events.filter(
      (e) => !request.query.object || e.object.toLowerCase() === request.query.object.toLowerCase(),
    ),
  );
  app.delete('/__emulator/events', () => {
    org.clearEvents();
    return { cleared: true };
  });
  registerUserControls(app, deps);
  app.get('/__emulator/clock', () => ({ now: clock.now().toISOString() }));
  app.post<{ Body: { now?: string; advanceSeconds?: number; freeze?: boolean } | undefined }>(
    '/__emulator/clock',
    (request) => {
      const body = request.body ?? {};
      if (body.now !== undefined) {
        const d = new Date(body.now);
        if (Number.isNaN(d.getTime()))
          throw new ApiError(400, 'INVALID_FIELD', `clock: not a date: ${body.now}`);
        clock.set(d, body.freeze === true);
      }
      if (body.advanceSeconds !== undefined) clock.advance(body.advanceSeconds * 1000);
      return { now: clock.now().toISOString() };
    },
  );
  registerFaultControls(app, deps);
  registerSessionControls(app, deps);
}

/**
 * Counters for benchmarks: API requests counted against the daily allowance, requests by route, records
 * a client asked to save or publish by object, records held by object (business data; field history
 * rows, which the org writes itself, as one total) and platform events published.
 */
function stats(deps: ControlDeps): Record<string, unknown> {
  const { org } = deps;
  const records: Record<string, number> = {};
  let historyRows = 0;
  for (const object of org.schema.objects.values()) {
    if (object.category !== 'custom' && object.category !== 'standard' && object.category !== 'history')
      continue;
    const size = org.store.table(object.name).size;
    if (size === 0) continue;
    if (object.category === 'history') historyRows += size;
    else records[object.name] = size;
  }
  return {
    apiUsed: org.api.used,
    requests: Object.fromEntries(deps.routeCounts),
    writes: Object.fromEntries(org.writeCounts),
    records,
    historyRows,
    events: org.eventsPublished,
    eventsRetained: org.events.length,
  };
}

const userNamed = (org: Org, username: string | undefined): UserDef => {
  const user = username ? org.userByUsername(username) : undefined;
  if (!user) throw new ApiError(404, 'NOT_FOUND', `No user named ${username ?? '(missing)'}`);
  return user;
};

/** The request log, with the bodies as received. */
function registerLogControls(app: FastifyInstance, deps: ControlDeps): void {
  const { requestLog } = deps;
  app.get<{ Querystring: { since?: string } }>('/__emulator/requests', (request) => {
    const since = Number(request.query.since ?? 0);
    // The request for the log itself is left out.
    return requestLog.filter((e) => e.seq > since && !e.url.startsWith('/__emulator/'));
  });
  app.delete('/__emulator/requests', () => {
    requestLog.length = 0;
    return { cleared: true };
  });
}

/** Users and their permission-set assignments. */
function registerUserControls(app: FastifyInstance, deps: ControlDeps): void {
  const { org } = deps;
  app.get('/__emulator/users', () =>
    [...org.users.values()].map((u) => ({ ...u, permissionSets: org.permissionSetNames(u.id) })),
  );
  app.post<{
    Body:
      | {
          username?: string;
          firstName?: string;
          lastName?: string;
          profile?: string;
          permissionSets?: string[];
          permissionSetGroups?: string[];
        }
      | undefined;
  }>('/__emulator/users', async (request, reply) => {
    const body = request.body ?? {};
    if (!body.username) throw new ApiError(400, 'MISSING_ARGUMENT', 'username is required');
    const user = org.createUser(
      body.username,
      body.firstName ?? 'Test',
      body.lastName ?? 'User',
      body.profile,
    );
    for (const name of body.permissionSets ?? []) org.assignPermissionSet(user.id, name);
    for (const name of body.permissionSetGroups ?? []) org.assignPermissionSetGroup(user.id, name);
    return reply.code(201).send({ ...user, permissionSets: org.permissionSetNames(user.id) });
  });
  app.post<{ Body: { username?: string; permissionSet?: string } | undefined }>(
    '/__emulator/permission-sets/assign',
    (request) => {
      const user = userNamed(org, request.body?.username);
      org.assignPermissionSet(user.id, request.body?.permissionSet ?? '');
      return { username: user.username, permissionSets: org.permissionSetNames(user.id) };
    },
  );
  app.post<{ Body: { username?: string; profile?: string; isActive?: boolean } | undefined }>(
    '/__emulator/users/update',
    (request) => {
      const user = userNamed(org, request.body?.username);
      if (request.body?.profile !== undefined) org.setProfile(user.id, request.body.profile);
      if (request.body?.isActive !== undefined) org.setActive(user.id, request.body.isActive);
      return { username: user.username, permissionSets: org.permissionSetNames(user.id) };
    },
  );
  app.post<{ Body: { username?: string; permissionSet?: string } | undefined }>(
    '/__emulator/permission-sets/unassign',
    (request) => {
      const user = userNamed(org, request.body?.username);
      org.unassignPermissionSet(user.id, request.body?.permissionSet ?? '');
      return { username: user.username, permissionSets: org.permissionSetNames(user.id) };
    },
  );
}

/** Lock faults, 503s, latency, expired sessions and the API budget. */
function registerFaultControls(app: FastifyInstance, deps: ControlDeps): void {
  const { org, sessions, faults } = deps;
  app.post<{ Body: FaultBody | undefined }>('/__emulator/faults', (request) => {
    const body = request.body;
    switch (body?.kind) {
      case 'lockRow':
        if (!body.object || !body.field || body.value === undefined) {
          throw new ApiError(400, 'MISSING_ARGUMENT', 'lockRow needs object, field and value');
        }
        org.lockFaults.push({
          object: body.object,
          field: body.field,
          value: String(body.value),
          ...(body.times !== undefined ? { times: body.times } : {}),
        });
        break;
      case 'http503':
        faults.http503 = body.times ?? -1;
        break;
      case 'latency':
        faults.latencyMs = body.ms;
        faults.latencyTimes = body.times ?? -1;
        break;
      case 'expireSessions':
        return { expired: sessions.expireAll() };
      case 'exhaustLimit':
        org.countRequest(); // roll the day over first so the exhaustion sticks to today
        org.api.used = org.api.max;
        break;
      default:
        throw new ApiError(
          400,
          'INVALID_FIELD',
          'kind must be lockRow, http503, latency, expireSessions or exhaustLimit',
        );
    }
    return { ok: true };
  });
  app.delete('/__emulator/faults', () => {
    org.lockFaults.length = 0;
    faults.http503 = 0;
    faults.latencyMs = 0;
    faults.latencyTimes = 0;
    return { cleared: true };
  });

  app.post<{ Body: { used?: number; max?: number } | undefined }>('/__emulator/limits', (request) => {
    org.countRequest();
    if (request.body?.max !== undefined) org.api.max = request.body.max;
    if (request.body?.used !== undefined) org.api.used = request.body.used;
    return { used: org.api.used, max: org.api.max };
  });
}

/** Refresh tokens and the access-token lifetime. */
function registerSessionControls(app: FastifyInstance, deps: ControlDeps): void {
  const { org, sessions } = deps;
  // A refresh token as if the user had completed the web-server flow earlier (the emulator has no login UI).
  app.post<{ Body: { username?: string } | undefined }>('/__emulator/refresh-tokens', (request) => {
    const user = userNamed(org, request.body?.username);
    return { refresh_token: sessions.mintRefreshToken(user.id), client_id: deps.clientId };
  });

  app.post<{ Body: { seconds?: number } | undefined }>('/__emulator/token-lifetime', (request) => {
    if (typeof request.body?.seconds !== 'number')
      throw new ApiError(400, 'MISSING_ARGUMENT', 'seconds is required');
    sessions.lifetimeSeconds = request.body.seconds;
    return { seconds: sessions.lifetimeSeconds };
  });
}
