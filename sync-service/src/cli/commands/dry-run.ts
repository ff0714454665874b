import { parseArgs } from 'node:util';
import type { Connection } from 'jsforce';
import { checkSignoff } from '../../governance/signoff.js';
import { loadSignoffTrust } from '../../governance-io/signing.js';
import { formatPreview, runDryRun, type DryRunResult } from '../../sync/dry-run/index.js';
import type { Command, CliContext } from '../types.js';

const USAGE = `npm run sync -- dry-run [--full] [--limit N] [--show-values]

Prints, per record and field, what a sync would create or change in Salesforce, and writes nothing:
no outbox rows, no watermark moves, no Salesforce or Cliniko writes (Salesforce is only queried).
Works with an unsigned data map, so a new map can be previewed before sign-off: point DATA_MAP_PATH
at it.

  --full          read every Cliniko record, not only the changes since the stored watermarks
  --limit N       at most N records per stream
  --show-values   print the values too (patient data: names, emails, phones; see the warning)

By default only field names and the kind of change (set / changed / cleared) are printed.
CREATE and UPDATE lines are what the next sync writes. DRIFT lines are records Salesforce holds
differently although Cliniko has not changed them since the sync last wrote them (edited in Salesforce
by hand): a sync skips them; the nightly reconciliation (\`npm run sync -- reconcile\`) repairs them.
Journey-derived fields (stage, aggregates, care-plan progress, transitions) are not previewed.`;

/** jsforce query that follows nextRecordsUrl to the end. */
async function queryAll(connection: Connection, soql: string): Promise<Array<Record<string, unknown>>> {
  let result = await connection.query<Record<string, unknown>>(soql);
  const records = [...result.records];
  while (!result.done && result.nextRecordsUrl) {
    result = await connection.queryMore<Record<string, unknown>>(result.nextRecordsUrl);
    records.push(...result.records);
  }
  return records;
}

function parseLimit(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new RangeError(`--limit must be a positive integer, got "${value}"`);
  return n;
}

/** A one-line progress indicator on stderr, only when stderr is a terminal. */
function progress(enabled: boolean) {
  let last = 0;
  return {
    update(resource: string, read: number): void {
      if (!enabled || Date.now() - last < 100) return;
      last = Date.now();
      process.stderr.write(`\r\x1b[2Kreading ${resource}: ${read} records`);
    },
    clear(): void {
      if (enabled) process.stderr.write('\r\x1b[2K');
    },
  };
}

export function printDryRunSummary(result: DryRunResult, ctx: Pick<CliContext, 'print'>): void {
  ctx.print('');
  ctx.print('streams:');
  for (const s of result.streams) {
    ctx.print(
      `  ${s.resource.padEnd(26)} ${s.since ? `since ${s.since}` : 'from the beginning'}: ${s.read} read` +
        (s.quarantined ? `, ${s.quarantined} would be quarantined` : '') +
        (s.limited ? ' (limit reached)' : ''),
    );
  }
  ctx.print('summary:');
  ctx.print(
    `  ${'object'.padEnd(28)}${'create'.padStart(8)}${'update'.padStart(8)}${'drift'.padStart(7)}${'unchanged'.padStart(11)}`,
  );
  for (const [object, c] of Object.entries(result.counts)) {
    ctx.print(
      `  ${object.padEnd(28)}${String(c.create).padStart(8)}${String(c.update).padStart(8)}${String(c.drift).padStart(7)}${String(c.unchanged).padStart(11)}`,
    );
  }
  const m = result.matches;
  if (Object.values(m).some((n) => n > 0)) {
    ctx.print(
      `  Contact creates after matching existing records: ${m.create} create, ${m.link} link an existing Contact, ${m['link-lead']} create and link a Lead, ${m.review} held for review, ${m.held} held`,
    );
  }
  ctx.print(
    `  Cliniko requests: ${result.clinikoRequests}   Salesforce queries: ${result.salesforceQueries}   Salesforce writes: 0`,
  );
}

export const dryRunCommand: Command = {
  name: 'dry-run',
  summary: 'Show, per record and field, what a sync would create or change in Salesforce; write nothing.',
  usage: USAGE,
  async run(args, ctx) {
    const { values } = parseArgs({
      args: [...args],
      options: {
        full: { type: 'boolean', default: false },
        limit: { type: 'string' },
        'show-values': { type: 'boolean', default: false },
      },
      allowPositionals: false,
    });
    const limit = parseLimit(values.limit);
    const showValues = values['show-values'];
    const service = await ctx.service({ allowUnsignedMap: true });
    const bar = progress(process.stderr.isTTY === true);
    try {
      // A preview still runs with a broken registry; it only says why a real sync would refuse.
      const signoff = await loadSignoffTrust(service.config, ctx.rootDir).then(
        (trust) => checkSignoff(service.dataMap, trust),
        (err: unknown) => ({ ok: false as const, message: (err as Error).message }),
      );
      ctx.print(
        signoff.ok
          ? `data map: ${service.dataMapHash.slice(0, 12)}… (signed)`
          : `data map: ${service.dataMapHash.slice(0, 12)}… NOT SIGNED - this is a preview; a real sync refuses this map until it is signed off (${signoff.message})`,
      );
      ctx.print(
        `mode: ${values.full ? 'full read' : 'incremental (from the stored watermarks)'}${limit ? `, at most ${limit} records per stream` : ''}`,
      );
      if (showValues) {
        ctx.print(
          'WARNING: --show-values prints patient data (names, emails, phones, dates of birth). Do not paste this output into tickets or chat, and clear your terminal history when done.',
        );
      }
      ctx.print('');
      const result = await runDryRun(
        {
          cliniko: service.cliniko,
          store: service.store,
          dataMap: service.dataMap,
          journeyConfig: service.journeyConfig,
          clinicTimezone: service.config.clinicTimezone,
          leadMatch: service.config.matching.leads,
          now: Date.now,
          query: (soql) => queryAll(service.salesforce.connection, soql),
        },
        {
          ...(values.full ? { full: true } : {}),
          ...(limit !== undefined ? { limit } : {}),
          onRecord(preview) {
            const line = formatPreview(preview, showValues);
            if (line !== undefined) {
              bar.clear();
              ctx.print(line);
            }
          },
          onProblem(problem) {
            bar.clear();
            ctx.print(`QUARANTINE ${problem.resource} ${problem.recordId}: ${problem.reason}`);
          },
          onProgress: (resource, read) => bar.update(resource, read),
        },
      );
      bar.clear();
      printDryRunSummary(result, ctx);
      ctx.print(
        'Journey-derived fields (stage, aggregates, care-plan progress, transitions) are not previewed.',
      );
      return 0;
    } finally {
      bar.clear();
      await service.close();
    }
  },
};
