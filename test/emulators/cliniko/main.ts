/**
 * `npm run emulator:cliniko -- --port P --seed S --patients N [--controls] [--json] [--shard au1]
 *   [--host 127.0.0.1] [--rate-limit 200] [--now ISO]`
 * Runs the Cliniko emulator until SIGINT/SIGTERM. With --json the first stdout line is exactly one
 * JSON object {"baseUrl":...,"apiKey":...} so that scripts can read it.
 */
import { parseArgs } from 'node:util';
import { startClinikoEmulator } from './index.js';

function intOption(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) {
    console.error(`--${name} must be a non-negative integer; got "${value}"`);
    process.exit(2);
  }
  return n;
}

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        seed: { type: 'string' },
        patients: { type: 'string' },
        shard: { type: 'string' },
        'rate-limit': { type: 'string' },
        now: { type: 'string' },
        controls: { type: 'boolean' },
        json: { type: 'boolean' },
        help: { type: 'boolean' },
      },
      strict: true,
    });
  } catch (err) {
    console.error((err as Error).message);
    process.exit(2);
  }
  const v = parsed.values;
  if (v.help) {
    console.log(
      'Usage: npm run emulator:cliniko -- [--port P] [--seed S] [--patients N] [--controls] [--json] [--shard au1] [--host 127.0.0.1] [--rate-limit 200] [--now ISO]',
    );
    return;
  }
  const emulator = await startClinikoEmulator({
    host: v.host ?? '127.0.0.1',
    port: intOption('port', v.port, 0),
    seed: intOption('seed', v.seed, 1),
    patients: intOption('patients', v.patients, 300),
    shard: v.shard ?? 'au1',
    rateLimitPerMinute: intOption('rate-limit', v['rate-limit'], 200),
    controls: v.controls === true,
    now: v.now,
  });
  if (v.json) {
    console.log(JSON.stringify({ baseUrl: emulator.baseUrl, apiKey: emulator.apiKey }));
  } else {
    const p = emulator.practice;
    console.log(`Cliniko emulator listening`);
    console.log(`  base URL: ${emulator.baseUrl}`);
    console.log(`  API key:  ${emulator.apiKey}`);
    console.log(
      `  practice: ${p.patients.length} patients, ${p.appointments.length} appointments, ${p.invoices.length} invoices`,
    );
    console.log(
      `  controls: ${v.controls ? emulator.baseUrl.replace(/\/v1$/, '/__control/') : 'off (use --controls)'}`,
    );
  }
  const stop = (): void => {
    emulator.close().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(err);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
