/**
 * The HTTP face of the emulator: Cliniko's /v1 routes with its transport rules (`transport.ts`), fault
 * injection (`faults.ts`) and a request log that tests use to check client behaviour. Each resource
 * family registers its own routes (`resources/*.ts`) through the list / get kit in `listing.ts`.
 */
import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import { applyFault, takeFault } from './faults.js';
import { createApiRoutes } from './listing.js';
import { QueryError } from './query.js';
import { registerAppointmentRoutes } from './resources/appointments.js';
import { registerCaseRoutes } from './resources/cases.js';
import { registerClinicalRoutes } from './resources/clinical.js';
import { registerContactRoutes } from './resources/contacts.js';
import { registerInvoiceRoutes } from './resources/invoices.js';
import { registerPatientRoutes } from './resources/patients.js';
import { registerSetupRoutes } from './resources/setup.js';
import type { EmulatorState } from './state.js';
import { MutationError } from './state.js';
import type { RequestLogEntry, ServerRuntime, TransportOptions } from './transport.js';
import { basicUser, refuse } from './transport.js';

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
  acceptEmptyJsonBodies(app);
  // Cliniko's Date header and its updated_at values come from one clock; clients take the header as
  // the server's "now" (a sync's signpost), so it must follow the emulated clock, not the wall.
  app.addHook('onSend', async (_req, reply, payload) => {
    reply.header('date', new Date(state.clock.now() * 1000).toUTCString());
    return payload;
  });
  addTransportHooks(app, transport, runtime);
  setErrorHandlers(app);
  const api = createApiRoutes(app, state, () => runtime.base);
  registerPatientRoutes(api);
  registerAppointmentRoutes(api);
  registerSetupRoutes(api);
  registerContactRoutes(api);
  registerCaseRoutes(api);
  registerInvoiceRoutes(api);
  registerClinicalRoutes(api);
  if (controls) registerControls(app);
  return app;
}

/**
 * Clients often send `Content-Type: application/json` with an empty body on POST .../archive;
 * Cliniko accepts that, Fastify's default parser would not.
 */
function acceptEmptyJsonBodies(app: FastifyInstance): void {
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
}

/** Request log, fault injection, then the transport rules, for every `/v1` request. */
function addTransportHooks(app: FastifyInstance, transport: TransportOptions, runtime: ServerRuntime): void {
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
      const done = await applyFault(fault, req, reply, runtime);
      if (done) return reply;
    }
    return refuse(req, reply, entry.key, transport, runtime);
  });
  app.addHook('onResponse', async (req, reply) => {
    if (req.logEntry) {
      req.logEntry.status = reply.statusCode;
      req.logEntry.durationMs = Math.round(performance.now() - (req.startedAt ?? performance.now()));
    }
  });
}

function setErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((err: Error & { statusCode?: number }, _req, reply) => {
    if (err instanceof QueryError || err instanceof MutationError) {
      const body = err instanceof MutationError ? err.body : { message: err.message };
      return reply.code(err.status).send(body);
    }
    const status = err.statusCode ?? 500;
    return reply.code(status).send({ message: status >= 500 ? 'Internal Server Error' : err.message });
  });
  app.setNotFoundHandler((_req, reply) => reply.code(404).send({ message: 'Not found' }));
}
