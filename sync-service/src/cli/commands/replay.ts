import { parseArgs } from 'node:util';
import type { Command } from '../types.js';

export const replayCommand: Command = {
  name: 'replay',
  summary: 'Put dead-lettered writes back in the queue (all, or --id N) and write them now.',
  usage:
    'npm run sync -- replay [--id <dead letter id>] [--list]\n\n--list shows the dead letters (code, record, message) without replaying.',
  async run(args, ctx) {
    const { values } = parseArgs({
      args: [...args],
      options: { id: { type: 'string', multiple: true }, list: { type: 'boolean', default: false } },
    });
    const service = await ctx.service();
    try {
      const letters = await service.store.listDeadLetters();
      if (values.list) {
        for (const d of letters) {
          ctx.print(
            `${d.id.padStart(6)}  ${d.object} ${d.externalId}  ${d.upstreamCode ?? d.errorCode}  ${d.errorMessage}  (${d.totalAttempts} attempts, failed ${d.occurrences}x)`,
          );
        }
        ctx.print(`${letters.length} dead letter(s)`);
        return 0;
      }
      const ids = values.id ?? letters.map((d) => d.id);
      const runId = `replay-${new Date().toISOString()}`;
      let replayed = 0;
      let dropped = 0;
      for (const id of ids) {
        if (!(await service.store.replayDeadLetter(id, Date.now(), runId))) {
          ctx.print(`dead letter ${id}: not found or already replayed`);
          continue;
        }
        // A letter a newer write superseded is closed with the reason, never written over the newer data.
        const outcome = (await service.store.getDeadLetter(id))?.replayOutcome ?? 'requeued';
        if (outcome === 'requeued') replayed += 1;
        else {
          dropped += 1;
          ctx.print(`dead letter ${id}: ${outcome}`);
        }
      }
      const drain = await service.worker.drain();
      ctx.print(
        `replayed ${replayed}${dropped > 0 ? `, dropped ${dropped} (superseded by newer writes)` : ''}; written ${drain.written}, dead-lettered again ${drain.deadLettered}, still queued ${drain.pending}`,
      );
      return drain.deadLettered > 0 || drain.pending > 0 ? 3 : 0;
    } finally {
      await service.close();
    }
  },
};
