/**
 * The sync service for the benchmark's backfill and idle phases, in its own process and from the
 * production build: run with plain `node` (Node strips this file's types; it imports nothing but
 * `sync-service/dist/`, built by `npm run build`), never through tsx, so the process measured holds the
 * service's compiled code and nothing else.
 *
 * It reads the service's environment like `server.js` does (loadConfig(process.env)) and differs from
 * it in one thing: `BENCH_BUDGET_WINDOW_MS` shrinks the Cliniko client's budget window (the
 * programmatic `cliniko.budgetWindowMs` option of createSyncService; the environment has no such
 * variable), so a backfill shows the engine's speed rather than Cliniko's 200 requests a minute.
 *
 * Protocol, one JSON object per stdout line: `{"ready":true}`, then for each line `backfill`,
 * `incremental` or `exit` read from stdin, the cycle's summary with its CPU time and wall time.
 * The parent takes its counts at the emulators between lines.
 */
import { createInterface } from 'node:readline';
import { getHeapStatistics } from 'node:v8';
import { pathToFileURL } from 'node:url';
import type * as ConfigModule from '../../sync-service/src/config/index.js';
import type * as LoggerModule from '../../sync-service/src/logger.js';
import type * as WiringModule from '../../sync-service/src/runtime/wiring.js';

const dist = new URL('../../sync-service/dist/', pathToFileURL(import.meta.filename));
const load = async <T>(path: string): Promise<T> => (await import(new URL(path, dist).href)) as T;

const { loadConfig } = await load<typeof ConfigModule>('config/index.js');
const { createLogger } = await load<typeof LoggerModule>('logger.js');
const { createSyncService } = await load<typeof WiringModule>('runtime/wiring.js');

const windowMs = Number(process.env.BENCH_BUDGET_WINDOW_MS ?? '60000');
const config = loadConfig(process.env);
const service = await createSyncService(config, createLogger({ level: 'silent' }), {
  cliniko: { budgetWindowMs: windowMs },
});

const send = (message: Record<string, unknown>): void => {
  process.stdout.write(`${JSON.stringify(message)}\n`);
};

/** The largest of each process.memoryUsage() figure, sampled every 100 ms: where the peak RSS lives. */
const memoryPeaks: Record<string, number> = {};
const sampler = setInterval(() => {
  const heap = getHeapStatistics();
  const usage: Record<string, number> = {
    ...process.memoryUsage(),
    // V8's own view: what its spaces have committed in RAM, and its malloc'd memory (compiler zones).
    v8Physical: heap.total_physical_size,
    v8Malloced: heap.malloced_memory,
  };
  for (const [k, v] of Object.entries(usage)) memoryPeaks[k] = Math.max(memoryPeaks[k] ?? 0, v);
}, 100);
sampler.unref();
// With --service-node-options=--expose-gc: the live heap (heapUsed right after a full collection),
// sampled every 500 ms, separates what the service holds from garbage not yet collected.
const collect = (globalThis as { gc?: () => void }).gc;
if (collect) {
  const live = setInterval(() => {
    collect();
    memoryPeaks.liveHeap = Math.max(memoryPeaks.liveHeap ?? 0, process.memoryUsage().heapUsed);
  }, 500);
  live.unref();
}
const peaksMb = (): Record<string, number> =>
  Object.fromEntries(Object.entries(memoryPeaks).map(([k, v]) => [k, Math.round(v / 1048576)]));

send({ ready: true, pid: process.pid });
for await (const line of createInterface({ input: process.stdin })) {
  const command = line.trim();
  if (command === 'exit') break;
  if (command !== 'backfill' && command !== 'incremental') {
    send({ error: `unknown command ${command}` });
    continue;
  }
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  try {
    const summary = await service.runner.runCycle(command);
    const cpu = process.cpuUsage(cpu0);
    send({
      cycle: command,
      wallMs: Math.round(performance.now() - t0),
      cpuMs: Math.round((cpu.user + cpu.system) / 1000),
      status: summary.status,
      counts: summary.counts,
      clinikoRequests: summary.clinikoRequests,
      salesforceCalls: summary.salesforceCalls,
      memoryPeaksMb: peaksMb(),
      ...(summary.error ? { error: summary.error } : {}),
    });
  } catch (err) {
    send({ cycle: command, status: 'error', error: err instanceof Error ? err.message : String(err) });
  }
}
await service.close();
process.exit(0);
