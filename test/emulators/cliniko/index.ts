/**
 * Cliniko API emulator: programmatic entry point. Tests start it in process on 127.0.0.1:0; the CLI
 * (main.ts) runs it until stopped. See README.md beside this file and docs/emulators.md.
 */
import type { Controls } from './controls.js';
import { createControls, registerControlRoutes } from './controls.js';
import { KIND, toId } from './ids.js';
import type { Practice } from './practice.js';
import { defaultNow, generatePractice } from './practice.js';
import { Prng } from './prng.js';
import { allCanaries } from './resources.js';
import { buildServer } from './server.js';
import type { EmulatorClock } from './state.js';
import { EmulatorState } from './state.js';
import type { RequestLogEntry, ServerRuntime } from './transport.js';

export type { Controls, BookInput } from './controls.js';
export type { Fault, FaultKind, FaultSpec } from './faults.js';
export type { RequestLogEntry } from './transport.js';
export { CANARY_PATTERN } from './canary.js';
export { KIND, toId, fromId } from './ids.js';

export interface ClinikoEmulatorOptions {
  host?: string; // default 127.0.0.1
  port?: number; // default 0 (ephemeral)
  seed?: number; // default 1
  patients?: number; // size of the synthetic practice; default 300
  shard?: string; // default 'au1'; keys carry this suffix; a key with another shard -> 401
  rateLimitPerMinute?: number; // default 200 per key
  /** Length of the rate-limit window in seconds (default 60, Cliniko's); tests shorten it. */
  rateLimitWindowSeconds?: number;
  controls?: boolean; // enable /__control/ routes; default false
  now?: string; // initial emulated clock (ISO); default a fixed date derived from seed
  /** Start with the emulated clock frozen (it otherwise runs with real time). Default false. */
  frozenClock?: boolean;
  /** Request log capacity (oldest entries dropped first). Default 100,000. */
  requestLogLimit?: number;
}

export interface ClinikoEmulator {
  readonly baseUrl: string; // e.g. http://127.0.0.1:41234/v1
  readonly apiKey: string; // valid key for the shard, e.g. 'MS0x...-au1'
  /** Every canary token planted in clinical free-text fields (computed on access). */
  readonly canaries: readonly string[];
  readonly shard: string;
  readonly practice: Practice;
  readonly clock: EmulatorClock;
  /** The same operations as the /__control/ routes, available whether or not those are enabled. */
  readonly controls: Controls;
  /** The same key for another shard (the emulator answers it with 401). */
  keyForShard(shard: string): string;
  requestLog(): readonly RequestLogEntry[];
  close(): Promise<void>;
}

export async function startClinikoEmulator(options: ClinikoEmulatorOptions = {}): Promise<ClinikoEmulator> {
  const seed = options.seed ?? 1;
  const shard = options.shard ?? 'au1';
  if (!/^[a-z]{2}\d+$/.test(shard)) throw new Error(`shard must look like au1, uk2, ...; got "${shard}"`);
  const patientCount = options.patients ?? 300;
  if (!Number.isInteger(patientCount) || patientCount < 0) {
    throw new Error(`patients must be a non-negative integer; got ${String(options.patients)}`);
  }
  const positive = (name: string, v: number | undefined): void => {
    if (v !== undefined && (!Number.isFinite(v) || v <= 0))
      throw new Error(`${name} must be a positive number; got ${String(v)}`);
  };
  positive('rateLimitPerMinute', options.rateLimitPerMinute);
  positive('rateLimitWindowSeconds', options.rateLimitWindowSeconds);
  if (!Number.isInteger(seed)) throw new Error(`seed must be an integer; got ${String(options.seed)}`);
  let now: number | undefined;
  if (options.now !== undefined) {
    const ms = Date.parse(options.now);
    if (Number.isNaN(ms)) throw new Error(`now must be an ISO 8601 date-time; got "${options.now}"`);
    now = Math.floor(ms / 1000);
  }
  const practice = generatePractice({ seed, patients: patientCount, now: now ?? defaultNow(seed) });
  const state = new EmulatorState(practice, now);
  if (options.frozenClock) state.clock.freeze(true);

  const token = apiToken(seed);
  const apiKey = `${token}-${shard}`;
  const runtime: ServerRuntime = {
    faults: [],
    nextFaultId: 1,
    log: [],
    logLimit: options.requestLogLimit ?? 100_000,
    seq: 0,
    rate: new Map(),
    base: '',
    clockNow: () => state.clock.now(),
  };
  const controls = createControls(state, runtime);
  const app = buildServer(
    state,
    {
      shard,
      apiKey,
      rateLimitPerMinute: options.rateLimitPerMinute ?? 200,
      rateLimitWindowSeconds: options.rateLimitWindowSeconds ?? 60,
    },
    runtime,
    options.controls === true,
    (instance) => registerControlRoutes(instance, controls, state),
  );
  let canaryCache: { version: number; list: readonly string[] } | undefined;
  const host = options.host ?? '127.0.0.1';
  await app.listen({ host, port: options.port ?? 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  runtime.base = `http://${urlHost}:${String(port)}/v1`;

  return {
    baseUrl: runtime.base,
    apiKey,
    shard,
    practice,
    clock: state.clock,
    controls,
    get canaries(): readonly string[] {
      // Rebuilt only after a write, so callers may read it in a loop.
      if (!canaryCache || canaryCache.version !== state.version) {
        canaryCache = { version: state.version, list: Object.freeze([...allCanaries(practice)]) };
      }
      return canaryCache.list;
    },
    keyForShard: (other) => `${token}-${other}`,
    requestLog: () => runtime.log,
    close: () => app.close(),
  };
}

/** A Cliniko-looking key body (theirs are base64 of "1-<random>"), deterministic by seed. */
function apiToken(seed: number): string {
  const rng = new Prng(seed ^ 0x5eed);
  let hex = '';
  for (let i = 0; i < 24; i++) hex += rng.int(0, 255).toString(16).padStart(2, '0');
  return `MS0x${Buffer.from(`1-${hex}`).toString('base64').replace(/=+$/, '')}`;
}

/** Id of a row by kind and index (for tests that pick specific records). */
export function recordId(kind: keyof typeof KIND, index: number): string {
  return toId(KIND[kind], index);
}
