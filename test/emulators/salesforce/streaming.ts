/**
 * The Streaming API's CometD endpoint (`/cometd/<version>`), as Salesforce speaks Bayeux 1.0 over
 * long-polling: `/meta/handshake` (session from the `Authorization: OAuth <token>` header, answering
 * `ext.replay: true`), `/meta/connect` (the first answers at once with `advice`, later ones wait until
 * an event is due or `timeout` passes), `/meta/subscribe` and `/meta/unsubscribe` (with the replay
 * extension: `ext.replay = { channel: replayId }`, -1 new events only, -2 every retained event, N the
 * events after N), `/meta/disconnect`. Platform events published to the org (`org.events`) are
 * delivered on `/event/<Name__e>` as `{ channel, data: { schema, payload, event: { replayId, EventUuid } } }`.
 * Only platform event channels exist here (no PushTopics, generic or change-data-capture channels).
 * Error strings are Salesforce's (`403::Unknown client`, `400::The channel you requested to subscribe
 * to does not exist {...}`, `403::Handshake denied` with `ext.sfdc.failureReason`).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Sessions } from './auth.js';
import { authenticate } from './oauth.js';
import type { Org } from './org.js';

/** Salesforce's long-poll timeout, sent as `advice.timeout` and used when a client does not say. */
export const CONNECT_TIMEOUT_MS = 110_000;
/** How often a waiting connect looks for newly published events. */
const POLL_MS = 20;
/** A client that has not connected for this long is forgotten (Salesforce: about 40 s after a poll). */
const CLIENT_TTL_MS = 10 * 60_000;

interface BayeuxMessage {
  channel?: string;
  id?: string;
  clientId?: string;
  subscription?: string;
  connectionType?: string;
  advice?: { timeout?: number };
  ext?: { replay?: Record<string, unknown> };
}

interface StreamingClient {
  id: string;
  userId: string;
  /** channel -> the replay id of the last event delivered (or the point to replay after). */
  subscriptions: Map<string, number>;
  connected: boolean;
  lastSeen: number;
}

type Reply = Record<string, unknown>;

export interface StreamingDeps {
  org: Org;
  sessions: Sessions;
}

function eventObjectName(channel: string): string | undefined {
  return /^\/event\/([A-Za-z0-9_]+__e)$/.exec(channel)?.[1];
}

/** The server's state: the org, its sessions, the handshaken clients, and whether it is closing. */
interface Bayeux {
  readonly org: Org;
  readonly sessions: Sessions;
  readonly clients: Map<string, StreamingClient>;
  closing: boolean;
}

export function registerStreaming(app: FastifyInstance, deps: StreamingDeps): void {
  const server: Bayeux = { org: deps.org, sessions: deps.sessions, clients: new Map(), closing: false };
  app.addHook('preClose', (done) => {
    server.closing = true; // releases every waiting connect so the server can close
    done();
  });
  const endpoint = async (request: FastifyRequest<{ Body: unknown }>) => {
    const userId = authenticate(server.sessions, request);
    const body = request.body;
    const messages = (Array.isArray(body) ? body : [body]).filter(
      (m): m is BayeuxMessage => typeof m === 'object' && m !== null,
    );
    const replies: Reply[] = [];
    // Connect last: a batch that subscribes and connects gets its subscription before the wait.
    const ordered = [
      ...messages.filter((m) => m.channel !== '/meta/connect'),
      ...messages.filter((m) => m.channel === '/meta/connect'),
    ];
    for (const message of ordered) replies.push(...(await handle(server, message, userId)));
    return replies;
  };
  app.post<{ Body: unknown }>('/cometd/:version', endpoint);
  app.post<{ Body: unknown }>('/cometd/:version/*', endpoint);
}

const lastReplayId = (org: Org): number => org.events.at(-1)?.replayId ?? org.eventsDroppedThrough;
const schemaOf = (objectName: string) =>
  createHash('sha256').update(objectName).digest('base64url').slice(0, 22);

/** Events due to a client, advancing its cursors. */
function due(org: Org, client: StreamingClient): Reply[] {
  const out: Reply[] = [];
  for (const [channel, after] of client.subscriptions) {
    const objectName = eventObjectName(channel);
    let last = after;
    for (const event of org.events) {
      if (event.replayId <= after || event.object.toLowerCase() !== objectName?.toLowerCase()) continue;
      out.push({
        channel,
        data: {
          schema: schemaOf(event.object),
          payload: event.payload,
          event: { replayId: event.replayId, EventUuid: event.uuid, EventApiName: event.object },
        },
      });
      last = Math.max(last, event.replayId);
    }
    client.subscriptions.set(channel, last);
  }
  return out;
}

function unknownClient(message: BayeuxMessage): Reply {
  return {
    channel: message.channel,
    id: message.id,
    clientId: message.clientId,
    successful: false,
    error: '403::Unknown client',
    advice: { reconnect: 'handshake', interval: 0 },
  };
}

function handshake(server: Bayeux, message: BayeuxMessage, userId: string | undefined): Reply {
  if (!userId) {
    return {
      channel: '/meta/handshake',
      id: message.id,
      successful: false,
      error: '403::Handshake denied',
      ext: { sfdc: { failureReason: '401::Authentication invalid' }, replay: true },
      advice: { reconnect: 'none' },
    };
  }
  const now = Date.now();
  for (const [id, c] of server.clients) if (now - c.lastSeen > CLIENT_TTL_MS) server.clients.delete(id);
  const client: StreamingClient = {
    id: randomBytes(16).toString('base64url'),
    userId,
    subscriptions: new Map(),
    connected: false,
    lastSeen: now,
  };
  server.clients.set(client.id, client);
  return {
    channel: '/meta/handshake',
    id: message.id,
    clientId: client.id,
    version: '1.0',
    minimumVersion: '1.0',
    supportedConnectionTypes: ['long-polling'],
    successful: true,
    ext: { replay: true, 'payload.format': true },
  };
}

function subscribe(org: Org, client: StreamingClient, message: BayeuxMessage): Reply {
  const channel = message.subscription ?? '';
  const base = { channel: '/meta/subscribe', id: message.id, clientId: client.id, subscription: channel };
  const objectName = eventObjectName(channel);
  const object = objectName ? org.visibleObject(client.userId, objectName) : undefined;
  if (!object || object.category !== 'event') {
    return {
      ...base,
      successful: false,
      error: `400::The channel you requested to subscribe to does not exist {${channel}}`,
    };
  }
  const requested = message.ext?.replay?.[channel];
  const replay = requested === undefined || requested === null ? -1 : Number(requested);
  org.retainEvents();
  const newest = lastReplayId(org);
  // A replay id older than the retention window (its successor was dropped) is invalid, as in Salesforce.
  const dropped = replay >= 0 && replay < org.eventsDroppedThrough;
  if (!Number.isInteger(replay) || replay < -2 || replay > newest || dropped) {
    return {
      ...base,
      successful: false,
      error: `400::The replayId {${String(requested)}} you provided was invalid.  Please provide a valid ID, -2 to replay all events, or -1 to replay only new events.`,
    };
  }
  client.subscriptions.set(channel, replay === -1 ? newest : replay === -2 ? 0 : replay);
  return { ...base, successful: true };
}

/** The first connect answers at once with advice; later ones wait (long poll) until an event is due. */
async function connect(server: Bayeux, client: StreamingClient, message: BayeuxMessage): Promise<Reply[]> {
  const reply = { channel: '/meta/connect', id: message.id, clientId: client.id, successful: true };
  client.lastSeen = Date.now();
  if (!client.connected) {
    client.connected = true;
    return [
      ...due(server.org, client),
      { ...reply, advice: { interval: 0, timeout: CONNECT_TIMEOUT_MS, reconnect: 'retry' } },
    ];
  }
  const timeout = Math.min(message.advice?.timeout ?? CONNECT_TIMEOUT_MS, CONNECT_TIMEOUT_MS);
  const deadline = Date.now() + timeout;
  let events = due(server.org, client);
  while (events.length === 0 && !server.closing && server.clients.has(client.id) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    events = due(server.org, client);
  }
  client.lastSeen = Date.now();
  return [...events, reply];
}

async function handle(server: Bayeux, message: BayeuxMessage, userId: string | undefined): Promise<Reply[]> {
  if (message.channel === '/meta/handshake') return [handshake(server, message, userId)];
  const client = server.clients.get(message.clientId ?? '');
  if (!client || client.userId !== userId) return [unknownClient(message)];
  const base = { id: message.id, clientId: client.id };
  switch (message.channel) {
    case '/meta/connect':
      return connect(server, client, message);
    case '/meta/subscribe':
      return [subscribe(server.org, client, message)];
    case '/meta/unsubscribe':
      client.subscriptions.delete(message.subscription ?? '');
      return [
        { channel: '/meta/unsubscribe', ...base, subscription: message.subscription, successful: true },
      ];
    case '/meta/disconnect':
      server.clients.delete(client.id);
      return [{ channel: '/meta/disconnect', ...base, successful: true }];
    default:
      // Publishing over CometD is not something Salesforce allows for platform events.
      return [{ channel: message.channel, ...base, successful: false, error: '403::Publish denied' }];
  }
}
