import { parseArgs } from 'node:util';
import type { Command } from '../types.js';
import { openStoreOnly } from './audit-store.js';

const USAGE = `npm run sync -- quarantine [--limit N] [--json]

Lists the records the sync could not take: a Cliniko record that fails validation or cannot be
projected through the data map, or a Salesforce edit that cannot be written back. One line per record
and field: resource, id, field, reason, first and last seen. Never values. A quarantined Cliniko record
is retried by the next cycle that reads it changed, and leaves this list when it passes.

  --limit N   at most N records, newest last sighting first (default 100, at most 1000)
  --json      the same listing as the admin API's GET /quarantine

Reads the store only: Cliniko and Salesforce credentials are not needed.`;

export const quarantineCommand: Command = {
  name: 'quarantine',
  summary: 'Quarantined records: resource, id, field, reason, first and last seen (never values).',
  usage: USAGE,
  async run(args, ctx) {
    const { values } = parseArgs({
      args: [...args],
      options: { limit: { type: 'string' }, json: { type: 'boolean', default: false } },
      allowPositionals: false,
    });
    const limit = values.limit === undefined ? 100 : Number(values.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
      ctx.print('--limit must be a whole number from 1 to 1000');
      return 2;
    }
    const store = await openStoreOnly(ctx);
    try {
      const { items, total } = await store.listQuarantine({ limit });
      if (values.json) {
        ctx.print(JSON.stringify({ items, total }, null, 2));
        return 0;
      }
      for (const q of items) {
        ctx.print(`${q.resource} ${q.id}  ${q.field}: ${q.reason}`);
        ctx.print(`    first seen ${q.firstSeen}, last seen ${q.lastSeen}`);
      }
      ctx.print(
        total === 0
          ? 'nothing is quarantined'
          : `${total} quarantined record field(s)${total > items.length ? `, ${items.length} shown` : ''}`,
      );
      return 0;
    } finally {
      await store.close();
    }
  },
};
