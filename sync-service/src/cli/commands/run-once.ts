import { parseArgs } from 'node:util';
import type { RunSummary } from '../../sync/cycle/runner.js';
import type { Command, CliContext } from '../types.js';

export function printSummary(summary: RunSummary, ctx: Pick<CliContext, 'print'>): void {
  ctx.print(
    `run ${summary.runId} (${summary.mode}): ${summary.status}${summary.error ? ` - ${summary.error}` : ''}`,
  );
  ctx.print(
    `  ${'object'.padEnd(28)}${'read'.padStart(8)}${'written'.padStart(9)}${'skipped'.padStart(9)}${'quarant.'.padStart(9)}${'dead'.padStart(6)}`,
  );
  for (const [object, c] of Object.entries(summary.counts)) {
    ctx.print(
      `  ${object.padEnd(28)}${String(c.read).padStart(8)}${String(c.written).padStart(9)}${String(c.skipped).padStart(9)}${String(c.quarantined).padStart(9)}${String(c.deadLettered).padStart(6)}`,
    );
  }
  const contacts = summary.counts.Contact?.written ?? 0;
  const patients = summary.counts.patients?.read ?? 0;
  if (contacts > patients) {
    ctx.print(
      `  (Contact "written" counts writes, not Contacts: a patient's details and their journey fields are two writes
` +
        `   to one Contact, and a journey or care-plan change rewrites a Contact whose patient record did not change)`,
    );
  }
  const seconds = summary.durationMs / 1000;
  ctx.print(
    `  Cliniko requests: ${summary.clinikoRequests}   Salesforce calls: ${summary.salesforceCalls}   time: ${seconds.toFixed(1)} s` +
      (summary.drain?.pending ? `   still queued: ${summary.drain.pending}` : ''),
  );
}

function cycleCommand(name: 'once' | 'backfill', summary: string): Command {
  return {
    name,
    summary,
    usage: `npm run sync -- ${name}\n\n${summary}\nExit code 0 when the run succeeded, 3 when some records were dead-lettered or are still queued, 1 on failure.`,
    async run(args, ctx) {
      parseArgs({ args: [...args], options: {}, allowPositionals: false });
      // On a terminal, one progress line per stream on stderr (stdout stays the report).
      const progress = ctx.tty
        ? (p: { stream: string; records: number; totalEntries?: number }) => {
            const total = p.totalEntries !== undefined ? ` of ${p.totalEntries}` : '';
            process.stderr.write(`\r  reading ${p.stream}: ${p.records}${total} records   `);
          }
        : undefined;
      // The cycle's work: take back what a killed predecessor left leased (runtime/wiring.ts).
      const service = await ctx.service(
        progress ? { onProgress: progress, reclaimLeases: true } : { reclaimLeases: true },
      );
      try {
        const result = await service.runner.runCycle(name === 'once' ? 'incremental' : 'backfill');
        if (progress) process.stderr.write('\n');
        printSummary(result, ctx);
        if (result.status === 'skipped') ctx.print('another instance is running a cycle; nothing to do');
        return result.status === 'succeeded' || result.status === 'skipped'
          ? 0
          : result.status === 'partial'
            ? 3
            : 1;
      } finally {
        await service.close();
      }
    },
  };
}

export const onceCommand = cycleCommand(
  'once',
  'One incremental sync cycle (Cliniko changes since the last watermark), then exit.',
);
export const backfillCommand = cycleCommand(
  'backfill',
  'Read everything in Cliniko again and write whatever differs from Salesforce, then exit.',
);
