import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isSyncError, type SyncError } from '../errors.js';
import { createLogger } from '../logger.js';
import { createClinikoClient, type ClinikoClientDeps } from './client.js';
import type { StreamEvent } from './stream.js';
import { ClinikoValidationError } from './transport.js';

/*
 * The client against a scripted stub of Cliniko on loopback: exact wire details (headers, query encoding)
 * and every failure path, one at a time. The emulator-level suites live in test/integration/.
 */

/** A watermark older than every row: an incremental read of everything. */
const EPOCH = '2000-01-01T00:00:00Z';
const API_KEY = 'MS0xLTEyMzQ1Njc4OTAtc3R1Yi1rZXktZm9yLXRlc3Rz-au1';
const EMAIL = 'ops@clinic.example';

interface Row {
  id: string;
  updated_at: string;
  [key: string]: unknown;
}

function patient(n: number, updatedAt: string, extra: Record<string, unknown> = {}): Row {
  const id = String(1_000_000_000_000_000_000n + BigInt(n));
  return {
    id,
    created_at: '2026-01-01T00:00:00Z',
    updated_at: updatedAt,
    first_name: `First${n}`,
    last_name: `Last${n}`,
    archived_at: null,
    accepted_email_marketing: true,
    links: { self: `https://example.invalid/v1/patients/${id}` },
    ...extra,
  };
}

type Fault = (req: IncomingMessage, res: ServerResponse) => boolean;

/** A minimal Cliniko lookalike: sorted, paginated /patients; PATCH; scripted faults consumed in order. */
class Stub {
  rows: Row[] = [];
  faults: Fault[] = [];
  log: Array<{ method: string; url: string; headers: IncomingMessage['headers'] }> = [];
  /** Runs after a list page is served; lets a test change the data between pages. */
  afterPage: ((page: number) => void) | undefined;
  server: Server;
  baseUrl = '';

  constructor() {
    this.server = createServer((req, res) => {
      this.log.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
      const fault = this.faults.shift();
      if (fault?.(req, res)) return;
      this.handle(req, res);
    });
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.baseUrl = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1`;
  }

  reset(): void {
    this.rows = [];
    this.faults = [];
    this.log = [];
    this.afterPage = undefined;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', this.baseUrl);
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.headers.authorization !== `Basic ${Buffer.from(`${API_KEY}:`).toString('base64')}`) {
      send(401, { message: 'Unauthorized' });
      return;
    }
    if (url.pathname === '/v1/businesses') {
      send(200, { businesses: [], total_entries: 0, links: { self: url.toString() } });
      return;
    }
    const single = /^\/v1\/patients\/(\d+)$/.exec(url.pathname);
    if (single && req.method === 'PATCH') {
      let text = '';
      req.on('data', (c: Buffer) => (text += c.toString()));
      req.on('end', () => {
        const body = JSON.parse(text) as Record<string, unknown>;
        if (body.email === 'not-an-email') {
          send(422, { message: 'Validation Failed', errors: { email: 'not-an-email is invalid' } });
          return;
        }
        const row = this.rows.find((r) => r.id === single[1]);
        if (!row) return send(404, { message: 'Not found' });
        Object.assign(row, body, { updated_at: '2026-02-01T00:00:00Z' });
        send(200, row);
      });
      return;
    }
    if (url.pathname !== '/v1/patients') {
      send(404, { message: 'Not found' });
      return;
    }
    const perPage = Number(url.searchParams.get('per_page') ?? 50);
    const page = Number(url.searchParams.get('page') ?? 1);
    const filters = url.searchParams.getAll('q[]');
    const since = filters.find((q) => q.startsWith('updated_at:>='))?.slice('updated_at:>='.length);
    const afterId = filters.find((q) => q.startsWith('id:>'))?.slice('id:>'.length);
    const byId = (a: Row, b: Row) => (BigInt(a.id) < BigInt(b.id) ? -1 : BigInt(a.id) > BigInt(b.id) ? 1 : 0);
    const visible = this.rows
      .filter((r) => since === undefined || Date.parse(r.updated_at) >= Date.parse(since))
      .filter((r) => afterId === undefined || BigInt(r.id) > BigInt(afterId))
      .sort(
        url.searchParams.get('sort') === 'id'
          ? byId
          : (a, b) => Date.parse(a.updated_at) - Date.parse(b.updated_at) || byId(a, b),
      );
    const slice = visible.slice((page - 1) * perPage, page * perPage);
    const next = new URL(url);
    next.searchParams.set('page', String(page + 1));
    send(200, {
      patients: slice,
      total_entries: visible.length,
      links: { self: url.toString(), ...(page * perPage < visible.length ? { next: next.toString() } : {}) },
    });
    this.afterPage?.(page);
  }
}

const stub = new Stub();
const logLines: string[] = [];
const logger = createLogger({
  level: 'debug',
  destination: new Writable({
    write(chunk: Buffer, _enc, done) {
      logLines.push(chunk.toString());
      done();
    },
  }),
});

/** Virtual time: sleeping advances the clock at once and is recorded, so no test waits for real. */
function deps(overrides: Partial<ClinikoClientDeps> = {}) {
  const sleeps: number[] = [];
  let offset = 0;
  const d: ClinikoClientDeps = {
    clock: () => Date.now() + offset,
    sleep: (ms) => {
      sleeps.push(ms);
      offset += ms;
      return Promise.resolve();
    },
    random: () => 0.5,
    maxAttempts: 4,
    ...overrides,
  };
  return { deps: d, sleeps };
}

function client(overrides: Partial<ClinikoClientDeps> = {}, requestsPerMinute = 200) {
  const { deps: d, sleeps } = deps(overrides);
  const c = createClinikoClient(
    { apiKey: API_KEY, shard: 'au1', baseUrl: stub.baseUrl, contactEmail: EMAIL, requestsPerMinute },
    logger,
    d,
  );
  clients.push(c);
  return { client: c, sleeps };
}
const clients: Array<{ close(): Promise<void> }> = [];

async function collect<T>(events: AsyncIterable<StreamEvent<T>>) {
  const out = {
    records: [] as Array<{ id: string; updatedAt: string }>,
    quarantine: [] as unknown[],
    end: undefined as unknown,
  };
  for await (const e of events) {
    if (e.kind === 'record') out.records.push({ id: e.id, updatedAt: e.updatedAt });
    if (e.kind === 'quarantine') out.quarantine.push(e.item);
    if (e.kind === 'end') out.end = e;
  }
  return out;
}

async function failure(promise: Promise<unknown>): Promise<SyncError> {
  try {
    await promise;
  } catch (err) {
    if (isSyncError(err)) return err;
    throw err;
  }
  throw new Error('expected a SyncError');
}

function seed(
  n: number,
  updatedAt = (i: number) =>
    `2026-01-10T00:${String(Math.floor(i / 60)).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}Z`,
) {
  stub.rows = Array.from({ length: n }, (_, i) => patient(i, updatedAt(i)));
}

beforeAll(async () => {
  await stub.start();
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  stub.reset();
});
afterAll(async () => {
  await new Promise((resolve) => stub.server.close(resolve));
});

describe('Cliniko transport on the wire', () => {
  it('authenticates with the key as user name, names itself with the contact email and asks for JSON', async () => {
    seed(3);
    const { client: c } = client();
    await collect(c.streams.patients.read({ since: '2026-01-10T00:00:02Z', overlapSeconds: 1 }));
    const first = stub.log[0]!;
    expect(first.headers.authorization).toBe(`Basic ${Buffer.from(`${API_KEY}:`).toString('base64')}`);
    expect(first.headers['user-agent']).toBe(`Cliniko-Salesforce-Governed-Sync (${EMAIL})`);
    expect(first.headers.accept).toBe('application/json');
    // q[] is sent percent-encoded; archived rows are revealed; the window starts one second early.
    expect(first.url).toContain('q%5B%5D=archived_at%3A*');
    expect(first.url).toContain('q%5B%5D=updated_at%3A%3E%3D2026-01-10T00%3A00%3A01Z');
    expect(first.url).toContain('per_page=100');
    expect(first.url).toContain('sort=updated_at%2Cid');
  });

  it('follows links.next with exactly one request per page and keeps 19-digit ids exact', async () => {
    seed(250);
    const { client: c } = client();
    const out = await collect(c.streams.patients.read({ since: EPOCH }));
    expect(stub.log).toHaveLength(3);
    expect(stub.log[1]!.url).toContain('page=2');
    expect(out.records).toHaveLength(250);
    expect(new Set(out.records.map((r) => r.id)).size).toBe(250);
    expect(out.records[249]!.id).toBe('1000000000000000249');
    expect(out.end).toMatchObject({ complete: true, pages: 3, records: 250, duplicates: 0, passes: 1 });
  });

  it('backfills by id keyset, one request per 100 rows, unmoved by edits between pages', async () => {
    seed(250);
    // Edit a row already read after page 1: offset paging would now skip a row; keyset paging cannot.
    stub.afterPage = (page) => {
      if (page === 1) stub.rows[5]!.updated_at = '2026-02-01T00:00:00Z';
    };
    const { client: c } = client();
    const out = await collect(c.streams.patients.read());
    expect(stub.log).toHaveLength(3);
    expect(stub.log[0]!.url).toContain('sort=id&');
    expect(stub.log[0]!.url).not.toContain('id%3A%3E');
    expect(stub.log[1]!.url).toContain('q%5B%5D=id%3A%3E1000000000000000099');
    expect(stub.log[2]!.url).toContain('q%5B%5D=id%3A%3E1000000000000000199');
    expect(new Set(out.records.map((r) => r.id)).size).toBe(250);
    expect(out.end).toMatchObject({ complete: true, passes: 1, pages: 3, records: 250 });
  });

  it('stops a backfill at a page that fits total_entries, and refuses a page that does not advance', async () => {
    seed(200);
    const { client: c } = client();
    const out = await collect(c.streams.patients.read());
    expect(out.records).toHaveLength(200);
    expect(stub.log).toHaveLength(2);

    stub.reset();
    const stuck = Array.from({ length: 100 }, (_, i) => patient(i, '2026-01-10T00:00:00Z'));
    const ignoreFilter: Fault = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ patients: stuck, total_entries: 500, links: {} }));
      return true;
    };
    stub.faults = [ignoreFilter, ignoreFilter];
    const { client: c2 } = client();
    const err = await failure(collect(c2.streams.patients.read()));
    expect(err.code).toBe('CLINIKO_MALFORMED_RESPONSE');
    expect(stub.log).toHaveLength(2);
  });

  it('pauses the whole budget until X-RateLimit-Reset on 429, then continues without loss', async () => {
    seed(150);
    stub.faults = [
      () => false,
      (_req, res) => {
        res.writeHead(429, { 'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) + 30) });
        res.end('{"message":"Too many requests"}');
        return true;
      },
    ];
    const { client: c, sleeps } = client();
    const out = await collect(c.streams.patients.read());
    expect(out.records).toHaveLength(150);
    expect(stub.log).toHaveLength(3);
    // The reset is 29-31 s away depending on where in the second the stub answered.
    expect(sleeps).toHaveLength(1);
    expect(sleeps[0]).toBeGreaterThanOrEqual(28_000);
    expect(sleeps[0]).toBeLessThanOrEqual(31_000);
    expect(c.stats()).toMatchObject({ rateLimited: 1, budget: { pauses: 1 } });
  });

  it('retries 5xx, dropped connections and malformed JSON with jittered backoff', async () => {
    seed(120);
    stub.faults = [
      (_req, res) => {
        res.writeHead(503);
        res.end();
        return true;
      },
      (req) => {
        req.socket.destroy();
        return true;
      },
      () => false,
      (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"patients": [');
        return true;
      },
      (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"message":"maintenance"}');
        return true;
      },
    ];
    const { client: c, sleeps } = client();
    const out = await collect(c.streams.patients.read());
    expect(out.records).toHaveLength(120);
    expect(new Set(out.records.map((r) => `${r.id}@${r.updatedAt}`)).size).toBe(120);
    expect(stub.log).toHaveLength(6);
    // random() = 0.5 with base 500 ms: half of 500, 1000 for the first page; half of 500, 1000 for the second.
    expect(sleeps).toEqual([250, 500, 250, 500]);
    expect(logLines.join('')).not.toContain('First');
  });

  it('retries a response that is too slow', async () => {
    seed(5);
    stub.faults = [
      (_req, res) => {
        setTimeout(() => {
          if (!res.destroyed) res.end();
        }, 600).unref();
        return true;
      },
    ];
    const { client: c } = client({ timeoutMs: 150 });
    const out = await collect(c.streams.patients.read());
    expect(out.records).toHaveLength(5);
    expect(c.stats().retries).toBe(1);
  });

  it('never reads a failing page as the end of the list: it throws after the last attempt', async () => {
    seed(150);
    const serverError: Fault = (_req, res) => {
      res.writeHead(502);
      res.end('<html>Bad gateway</html>');
      return true;
    };
    stub.faults = [() => false, serverError, serverError, serverError, serverError];
    const { client: c } = client();
    const seen: string[] = [];
    const err = await failure(
      (async () => {
        for await (const e of c.streams.patients.read()) seen.push(e.kind);
      })(),
    );
    expect(err.code).toBe('CLINIKO_UNAVAILABLE');
    expect(err.retryable).toBe(true);
    expect(err.upstreamCode).toBe('502');
    expect(stub.log).toHaveLength(5);
    expect(seen).not.toContain('end');
  });

  it('does not retry a 401, and reports it as an auth failure', async () => {
    const c = createClinikoClient(
      {
        apiKey: `${API_KEY}x`,
        shard: 'au1',
        baseUrl: stub.baseUrl,
        contactEmail: EMAIL,
        requestsPerMinute: 10,
      },
      logger,
      deps().deps,
    );
    clients.push(c);
    const err = await failure(collect(c.streams.patients.read()));
    expect(err.code).toBe('CLINIKO_AUTH_FAILED');
    expect(err.retryable).toBe(false);
    expect(stub.log).toHaveLength(1);
    expect(await c.checkConnection()).toMatchObject({ status: 'error', code: 'CLINIKO_AUTH_FAILED' });
  });

  it('gives up on a 429 storm with CLINIKO_RATE_LIMITED after the configured retries', async () => {
    seed(1);
    const limited: Fault = (_req, res) => {
      res.writeHead(429, { 'retry-after': '2' });
      res.end();
      return true;
    };
    stub.faults = Array.from({ length: 10 }, () => limited);
    const { client: c, sleeps } = client({ maxRateLimitRetries: 3 });
    const err = await failure(collect(c.streams.patients.read()));
    expect(err.code).toBe('CLINIKO_RATE_LIMITED');
    expect(stub.log).toHaveLength(4);
    // Each pause is Retry-After's 2 s, less the few real milliseconds that passed before the budget slept.
    expect(sleeps).toHaveLength(3);
    for (const ms of sleeps) expect(ms).toBeGreaterThan(1_900);
    for (const ms of sleeps) expect(ms).toBeLessThanOrEqual(2_000);
  });

  it('ends a read waiting out a 429 as soon as the client closes', async () => {
    seed(1);
    stub.faults = [
      (_req, res) => {
        res.writeHead(429, { 'retry-after': '60' });
        res.end();
        return true;
      },
    ];
    // Real sleep: the budget would otherwise wait a minute; the test times out if close() does not stop it.
    const { client: c } = client({ sleep: undefined });
    const outcome = failure(collect(c.streams.patients.read()));
    while (stub.log.length === 0) await new Promise((r) => setTimeout(r, 5));
    await c.close();
    const err = await outcome;
    expect(err.code).toBe('CLINIKO_UNAVAILABLE');
    expect(err.upstreamCode).toBe('CLOSED');
    expect(stub.log).toHaveLength(1);
  });

  it('refuses to follow links.next to another host', async () => {
    stub.faults = [
      (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            patients: [],
            total_entries: 1,
            links: { next: 'http://evil.example/v1/patients?page=2' },
          }),
        );
        return true;
      },
    ];
    const { client: c } = client();
    const err = await failure(collect(c.streams.patients.read()));
    expect(err.code).toBe('CLINIKO_MALFORMED_RESPONSE');
    expect(stub.log).toHaveLength(1);
  });
});

describe('Cliniko resource streams', () => {
  it('quarantines an invalid record by id and field, and carries on with the page', async () => {
    seed(4);
    stub.rows[1]!.first_name = 42;
    stub.rows[2]!.links = undefined;
    stub.rows.push({ ...patient(9, '2026-01-10T00:00:09Z'), id: 123 as unknown as string });
    const { client: c } = client();
    const out = await collect(c.streams.patients.read({ since: EPOCH }));
    expect(out.records.map((r) => r.id)).toEqual(['1000000000000000000', '1000000000000000003']);
    expect(out.quarantine).toEqual([
      {
        resource: 'patients',
        id: '1000000000000000001',
        field: 'first_name',
        reason: 'expected string',
        updatedAt: '2026-01-10T00:00:01Z',
      },
      {
        resource: 'patients',
        id: '1000000000000000002',
        field: 'links',
        reason: 'expected object',
        updatedAt: '2026-01-10T00:00:02Z',
      },
      {
        resource: 'patients',
        id: '(unknown)',
        field: 'id',
        reason: 'expected string',
        updatedAt: '2026-01-10T00:00:09Z',
      },
    ]);
    expect(JSON.stringify(out.quarantine)).not.toContain('42');
  });

  it('de-duplicates by (id, updated_at) across reads that share a seen set, but yields a newer version', async () => {
    seed(30);
    const { client: c } = client();
    const seen = new Set<string>();
    const first = await collect(
      c.streams.patients.read({ since: '2026-01-10T00:00:10Z', overlapSeconds: 0, seen }),
    );
    expect(first.records).toHaveLength(20);
    // The next run's overlap window reaches back over rows the first read never saw (0-9): those are new.
    stub.rows[25]!.updated_at = '2026-01-11T00:00:00Z';
    const second = await collect(
      c.streams.patients.read({ since: '2026-01-10T00:00:29Z', overlapSeconds: 60, seen }),
    );
    expect(second.records.map((r) => r.id).slice(0, 10)).toEqual(
      Array.from({ length: 10 }, (_, i) => String(1_000_000_000_000_000_000n + BigInt(i))),
    );
    expect(second.records.slice(10)).toEqual([
      { id: '1000000000000000025', updatedAt: '2026-01-11T00:00:00Z' },
    ]);
    expect(second.end).toMatchObject({ duplicates: 19, records: 11 });
  });

  it('includes every record updated in the same second across a page boundary', async () => {
    // 250 rows share one second; the watermark is that second; all must come back, once each.
    seed(250, () => '2026-01-10T05:00:00Z');
    const { client: c } = client();
    const out = await collect(c.streams.patients.read({ since: '2026-01-10T05:00:00Z', overlapSeconds: 0 }));
    expect(out.records).toHaveLength(250);
    expect(new Set(out.records.map((r) => r.id)).size).toBe(250);
  });

  it('yields every row that survives a read (backfill or incremental), once per version, whatever edits and deletions land between pages', async () => {
    // Up to two bursts of edits: with three passes allowed, one pass always sees a still list.
    const action = fc.record({
      afterPage: fc.integer({ min: 1, max: 6 }),
      touch: fc.array(fc.nat(400), { maxLength: 3 }),
      remove: fc.array(fc.nat(400), { maxLength: 2 }),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 420 }),
        fc.array(action, { maxLength: 2 }),
        fc.boolean(),
        async (n, actions, backfill) => {
          stub.reset();
          seed(n);
          let served = 0;
          let clock = 0;
          stub.afterPage = () => {
            served += 1;
            for (const a of actions.filter((x) => x.afterPage === served)) {
              for (const t of a.touch) {
                const row = stub.rows[t % Math.max(1, stub.rows.length)];
                if (row)
                  row.updated_at = new Date(Date.parse('2026-03-01T00:00:00Z') + ++clock * 1000)
                    .toISOString()
                    .replace('.000Z', 'Z');
              }
              for (const r of a.remove) {
                stub.rows.splice(r % Math.max(1, stub.rows.length), 1);
              }
            }
          };
          const { client: c } = client();
          const out = await collect(c.streams.patients.read(backfill ? {} : { since: EPOCH }));
          await c.close();
          expect(out.end).toMatchObject({ complete: true });
          const keys = out.records.map((r) => `${r.id}@${r.updatedAt}`);
          expect(new Set(keys).size).toBe(keys.length);
          const ids = new Set(out.records.map((r) => r.id));
          for (const row of stub.rows) expect(ids.has(row.id)).toBe(true);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('walks an incremental list again when it shifts under the pager, so no row slides past unread', async () => {
    seed(250);
    // After page 1 is served, a row from page 1 is edited: it jumps to the end and every later row moves
    // up one place, so row 100 (first of page 2) slides onto page 1, which has already been read.
    const edit = () => {
      stub.afterPage = (page) => {
        if (page === 1) {
          stub.rows[5]!.updated_at = '2026-02-01T00:00:00Z';
          stub.afterPage = undefined;
        }
      };
    };
    edit();
    const single = client().client;
    const onePass = await collect(single.streams.patients.read({ since: EPOCH, maxPasses: 1 }));
    expect(onePass.end).toMatchObject({ complete: false, passes: 1 });
    expect(onePass.records.map((r) => r.id)).not.toContain('1000000000000000100');

    seed(250);
    edit();
    const { client: c } = client();
    const out = await collect(c.streams.patients.read({ since: EPOCH }));
    expect(out.end).toMatchObject({ complete: true, passes: 2 });
    const ids = out.records.map((r) => r.id);
    expect(new Set(ids).size).toBe(250);
    expect(ids).toContain('1000000000000000100');
    // Row 5 is delivered in both versions, each once.
    expect(out.records.filter((r) => r.id === '1000000000000000005').map((r) => r.updatedAt)).toEqual([
      '2026-01-10T00:00:05Z',
      '2026-02-01T00:00:00Z',
    ]);
  });
});

describe('patient write-back and health', () => {
  it('patches contact fields and returns the updated patient', async () => {
    seed(2);
    const { client: c } = client();
    const updated = await c.patchPatient('1000000000000000001', {
      email: 'new@clinic.example',
      unsubscribe_sms_marketing: true,
    });
    expect(updated.email).toBe('new@clinic.example');
    expect(stub.log[0]).toMatchObject({ method: 'PATCH', url: '/v1/patients/1000000000000000001' });
    expect(logLines.join('')).not.toContain('new@clinic.example');
  });

  it("names the fields of Cliniko's 422, never their values, and does not retry", async () => {
    seed(1);
    const { client: c } = client();
    const err = await failure(c.patchPatient('1000000000000000000', { email: 'not-an-email' }));
    expect(err).toBeInstanceOf(ClinikoValidationError);
    expect(err.code).toBe('CLINIKO_VALIDATION_FAILED');
    expect((err as ClinikoValidationError).fields).toEqual(['email']);
    expect(err.record).toMatchObject({ object: 'patients', id: '1000000000000000000', field: 'email' });
    expect(JSON.stringify(err.toJSON())).not.toContain('not-an-email');
    expect(stub.log).toHaveLength(1);
  });

  it('refuses read-only and unknown fields before sending anything', async () => {
    const { client: c } = client();
    const err = await failure(
      c.patchPatient('1', { accepted_sms_marketing: true } as unknown as Parameters<
        typeof c.patchPatient
      >[1]),
    );
    expect(err.code).toBe('CLINIKO_VALIDATION_FAILED');
    expect(err.message).toContain('accepted_sms_marketing');
    expect(stub.log).toHaveLength(0);
    await expect(c.patchPatient('12; DROP', {})).rejects.toMatchObject({ code: 'CLINIKO_BAD_REQUEST' });
  });

  it('reports a 404 as CLINIKO_NOT_FOUND', async () => {
    const { client: c } = client();
    const err = await failure(c.patchPatient('77', { first_name: 'A' }));
    expect(err.code).toBe('CLINIKO_NOT_FOUND');
    expect(err.record).toMatchObject({ object: 'patients', id: '77' });
  });

  it('checks the connection with one cheap request', async () => {
    const { client: c } = client();
    const check = await c.checkConnection();
    expect(check.status).toBe('ok');
    expect(check.latencyMs).toBeGreaterThanOrEqual(0);
    expect(stub.log).toHaveLength(1);
    expect(stub.log[0]!.url).toBe('/v1/businesses?per_page=1');
  });
});
