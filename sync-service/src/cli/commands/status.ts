import type { Command } from '../types.js';

export const statusCommand: Command = {
  name: 'status',
  summary: 'Watermarks, queue, dead letters, quarantine and recent runs.',
  usage: 'npm run sync -- status\n\nShows where each stream is, what is queued or failed, and the last runs.',
  async run(_args, ctx) {
    const service = await ctx.service();
    try {
      const now = Date.now();
      const stats = await service.store.outboxStats(now);
      ctx.print(`data map: ${service.dataMapHash.slice(0, 12)}… (signed)`);
      ctx.print('streams:');
      for (const w of await service.store.listWatermarks())
        ctx.print(`  ${w.stream.padEnd(26)} up to ${w.cursor}`);
      ctx.print(
        `queue: ${stats.pending} pending (${stats.retrying} retrying)${stats.blocked > 0 ? `, ${stats.blocked} blocked by an unwritten parent` : ''}   dead letters: ${stats.deadLettered}   quarantined: ${stats.quarantined}`,
      );
      ctx.print('recent runs:');
      for (const r of await service.store.listRuns({ limit: 10 })) {
        ctx.print(
          `  ${new Date(r.startedAt).toISOString()}  ${r.mode.padEnd(13)} ${r.status.padEnd(10)} ${r.id}`,
        );
      }
      return 0;
    } finally {
      await service.close();
    }
  },
};
