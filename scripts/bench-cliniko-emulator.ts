/**
 * Benchmark of the Cliniko emulator at scale: generation time, heap/RSS, and list latency over HTTP.
 * Not a test (no assertions on time); run with
 *   node_modules/.bin/tsx --expose-gc scripts/bench-cliniko-emulator.ts [patients ...]
 * e.g. `... 107000` (about 9.4 appointments per patient: 107,000 patients give about 1,000,000 appointments).
 * Run one size per process: a second practice in the same heap measures the garbage of the first.
 */
import { recordId, startClinikoEmulator } from '../test/emulators/cliniko/index.js';

const sizes = process.argv.slice(2).map(Number);
if (sizes.length === 0) sizes.push(107_000);
if (sizes.some((n) => !Number.isInteger(n) || n <= 0)) {
  console.error('usage: bench-cliniko-emulator.ts [patients ...] (positive integers)');
  process.exit(2);
}

const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
const gc = (globalThis as { gc?: () => void }).gc;

async function timed(label: string, fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  const ms = performance.now() - t0;
  console.log(`  ${label}: ${ms.toFixed(0)} ms`);
  return ms;
}

for (const patients of sizes) {
  gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  const t0 = performance.now();
  const emu = await startClinikoEmulator({ patients, rateLimitPerMinute: 1_000_000 });
  const genMs = performance.now() - t0;
  gc?.();
  const mem = process.memoryUsage();
  const p = emu.practice;
  console.log(`patients=${patients}`);
  console.log(
    `  rows: ${p.patients.length} patients, ${p.appointments.length} appointments, ${p.invoices.length} invoices, ` +
      `${p.treatmentNotes.length} treatment notes, ${p.patientCases.length} cases, ${p.medicalAlerts.length} alerts`,
  );
  console.log(`  generate + listen: ${genMs.toFixed(0)} ms`);
  console.log(
    `  heap used by the practice: ${mb(mem.heapUsed - heapBefore)} (process heap ${mb(mem.heapUsed)}, rss ${mb(mem.rss)})`,
  );
  const headers = {
    authorization: `Basic ${Buffer.from(`${emu.apiKey}:`).toString('base64')}`,
    'user-agent': 'bench (bench@example.com)',
    accept: 'application/json',
  };
  const get = async (path: string): Promise<void> => {
    const r = await fetch(`${emu.baseUrl}${path}`, { headers });
    if (r.status !== 200) throw new Error(`${path} -> ${r.status}`);
    await r.arrayBuffer();
  };
  await timed('GET /patients?per_page=100 (page 1)', () => get('/patients?per_page=100'));
  await timed('GET /patients?per_page=100&page=500', () => get('/patients?per_page=100&page=500'));
  await timed('GET /individual_appointments?per_page=100 (page 1)', () =>
    get('/individual_appointments?per_page=100'),
  );
  // What the sync's incremental reader sends: updated_at window, soft-deleted included, sorted.
  const since = new Date((emu.clock.now() - 30 * 86400) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const incremental = `/individual_appointments?per_page=100&sort=updated_at,id&q%5B%5D=${encodeURIComponent(`updated_at:>=${since}`)}&q%5B%5D=cancelled_at%3A*&q%5B%5D=archived_at%3A*`;
  await timed('incremental appointments (30 days), page 1', () => get(incremental));
  await timed('incremental appointments (30 days), page 2 (cached query)', () =>
    get(`${incremental}&page=2`),
  );
  const full =
    '/individual_appointments?per_page=100&sort=updated_at,id&q%5B%5D=cancelled_at%3A*&q%5B%5D=archived_at%3A*';
  await timed('full backfill of appointments sorted by updated_at,id, page 1', () => get(full));
  await timed('full backfill, page 5000 (cached query)', () => get(`${full}&page=5000`));
  // The sync's backfill: keyset pages by id. The first page sorts once; a deep page is a binary search.
  const reveal = 'q%5B%5D=cancelled_at%3A*&q%5B%5D=archived_at%3A*&q%5B%5D=deleted_at%3A*';
  const keyset = `/individual_appointments?per_page=100&sort=id&${reveal}`;
  await timed('keyset appointments by id, first page', () => get(keyset));
  const deep = p.appointments[Math.floor(p.appointments.length * 0.9)];
  if (deep) {
    const after = recordId('appointment', deep.idx);
    const pages = 20;
    const ms = await timed(`keyset appointments by id, ${pages} pages at 90 %`, async () => {
      for (let i = 0; i < pages; i++) await get(`${keyset}&q%5B%5D=${encodeURIComponent(`id:>${after}`)}`);
    });
    console.log(`  keyset page (median of the loop): ${(ms / pages).toFixed(1)} ms`);
  }
  await emu.close();
}
