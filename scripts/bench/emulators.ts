/**
 * Both emulators as the benchmark runs them, each in its own process, and what the benchmark reads
 * from them: the requests Cliniko served (its control log), the calls and record writes Salesforce
 * counted (`/__emulator/stats`). Counts are taken at the emulators, never from the service's own
 * summary, so a service that miscounts cannot flatter itself.
 */
import { type Child, startChild } from './processes.js';

// One process per emulator: `node --import tsx`, not the tsx CLI, which would put a wrapper process
// between the benchmark and the emulator whose memory it reads.
const NODE_TSX = [process.execPath, '--import', 'tsx'] as const;

export interface ClinikoProcess {
  readonly child: Child;
  readonly baseUrl: string;
  readonly apiKey: string;
  /** GET under the API base with Cliniko's transport rules; counts in the emulator's log. */
  api(path: string): Promise<Record<string, unknown>>;
  /** The highest request sequence number so far (a mark between phases). */
  seq(): Promise<number>;
  /** Requests after a mark: method, path (no query) and status. */
  requestsSince(seq: number): Promise<Array<{ seq: number; url: string; status: number | null }>>;
  control(method: string, path: string, body?: unknown): Promise<unknown>;
}

export async function startCliniko(options: {
  patients: number;
  seed: number;
  now: string;
  env: NodeJS.ProcessEnv;
}): Promise<ClinikoProcess> {
  const child = startChild(
    NODE_TSX[0],
    [
      ...NODE_TSX.slice(1),
      'test/emulators/cliniko/main.ts',
      '--json',
      '--controls',
      `--patients=${options.patients}`,
      `--seed=${options.seed}`,
      `--now=${options.now}`,
      '--rate-limit=1000000',
    ],
    options.env,
  );
  const ready = await child.next(30 * 60_000);
  const baseUrl = String(ready.baseUrl);
  const apiKey = String(ready.apiKey);
  const root = baseUrl.replace(/\/v1$/, '');
  const headers = {
    authorization: `Basic ${Buffer.from(`${apiKey}:`).toString('base64')}`,
    'user-agent': 'GovernedSyncBench (bench@clinic.example)',
    accept: 'application/json',
  };
  const control = async (method: string, path: string, body?: unknown): Promise<unknown> => {
    const response = await fetch(`${root}/__control/${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (!response.ok) throw new Error(`Cliniko control ${method} ${path}: ${response.status}`);
    return response.status === 204 ? undefined : ((await response.json()) as unknown);
  };
  const requestsSince = async (seq: number) => {
    const body = (await control('GET', `requests?since=${seq}`)) as {
      requests: Array<{ seq: number; url: string; status: number | null }>;
    };
    if (!Array.isArray(body.requests)) throw new Error('Cliniko control: no request log in the answer');
    return body.requests;
  };
  return {
    child,
    baseUrl,
    apiKey,
    async api(path) {
      const response = await fetch(`${baseUrl}${path}`, { headers });
      if (!response.ok) throw new Error(`Cliniko GET ${path}: ${response.status}`);
      return (await response.json()) as Record<string, unknown>;
    },
    async seq() {
      const all = await requestsSince(0);
      return all.at(-1)?.seq ?? 0;
    },
    requestsSince,
    control,
  };
}

export interface SalesforceStats {
  apiUsed: number;
  requests: Record<string, number>;
  writes: Record<string, number>;
  records: Record<string, number>;
  historyRows: number;
  events: number;
}

export interface SalesforceProcess {
  readonly child: Child;
  readonly loginUrl: string;
  readonly clientId: string;
  readonly clientSecret: string;
  stats(): Promise<SalesforceStats>;
  /** Live records of an object whose field equals a value (external-id index; no API call counted). */
  find(object: string, field: string, value: string): Promise<Array<Record<string, unknown>>>;
}

export async function startSalesforce(env: NodeJS.ProcessEnv): Promise<SalesforceProcess> {
  const child = startChild(
    NODE_TSX[0],
    [
      ...NODE_TSX.slice(1),
      'test/emulators/salesforce/main.ts',
      '--json',
      '--controls',
      '--daily-api-limit=100000000',
      // Each collection's body is ~100 KB: a long log of them would be most of the emulator's memory.
      '--request-log=100',
    ],
    env,
  );
  const ready = await child.next(5 * 60_000);
  const loginUrl = String(ready.loginUrl);
  const get = async (path: string): Promise<unknown> => {
    const response = await fetch(`${loginUrl}/__emulator/${path}`);
    if (!response.ok) throw new Error(`Salesforce control ${path}: ${response.status}`);
    return (await response.json()) as unknown;
  };
  return {
    child,
    loginUrl,
    clientId: String(ready.clientId),
    clientSecret: String(ready.clientSecret),
    async stats() {
      const stats = (await get('stats')) as SalesforceStats;
      if (typeof stats.apiUsed !== 'number' || typeof stats.writes !== 'object')
        throw new Error('Salesforce control: stats answer has no counters');
      return stats;
    },
    async find(object, field, value) {
      const q = `field=${encodeURIComponent(field)}&value=${encodeURIComponent(value)}`;
      return (await get(`records/${object}?${q}`)) as Array<Record<string, unknown>>;
    },
  };
}

const sum = (o: Record<string, number>): number => Object.values(o).reduce((n, v) => n + v, 0);

/** What happened at the Salesforce emulator between two stats readings. */
export function salesforceDelta(before: SalesforceStats, after: SalesforceStats) {
  const diff = (a: Record<string, number>, b: Record<string, number>): Record<string, number> => {
    const out: Record<string, number> = {};
    for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
      const d = (b[key] ?? 0) - (a[key] ?? 0);
      if (d !== 0) out[key] = d;
    }
    return out;
  };
  const requests = diff(before.requests, after.requests);
  const writes = diff(before.writes, after.writes);
  const records = diff(before.records, after.records);
  const writeRequests = Object.entries(requests)
    .filter(([route]) => /^(POST|PATCH|PUT|DELETE) /.test(route) && !route.includes('/oauth2/'))
    .filter(([route]) => !route.includes('/query'))
    .reduce((n, [, v]) => n + v, 0);
  return {
    apiCalls: after.apiUsed - before.apiUsed,
    requests,
    writeRequests,
    bulkJobs: requests['POST /services/data/:version/jobs/ingest'] ?? 0,
    writes,
    recordWrites: sum(writes),
    records,
    /** Records that now exist and did not before, plus events published: one write each at least. */
    distinctRecords: sum(records) + (after.events - before.events),
    historyRows: after.historyRows - before.historyRows,
  };
}
