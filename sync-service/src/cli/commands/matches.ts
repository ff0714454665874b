import { parseArgs } from 'node:util';
import type { ContactHold } from '../../store/index.js';
import { newRunId } from '../../sync/common/run-record.js';
import { resolveHold, type Resolution } from '../../sync/match/index.js';
import type { CliContext, Command } from '../types.js';
import { openStoreOnly } from './audit-store.js';

const USAGE = `npm run sync -- matches [--all] [--json]
npm run sync -- matches resolve <patientId> (--link <salesforceId> | --create)

Patients whose Contact the sync holds back (docs/marketing.md, "Existing Contacts and Leads"):
  review    several Salesforce Contacts (or Leads) could be the patient; nothing is created until an
            admin chooses one (--link, one of the listed candidates) or a new Contact (--create)
  deleted   the patient's Contact was deleted in Salesforce; it is re-created only by
            npm run sync -- contacts restore <patientId>
Lists Cliniko patient ids and Salesforce record ids only, never names or emails. A resolved patient's
waiting writes are made by the next cycle.

  --all    resolved holds too (with their resolution)
  --json   the same listing as the admin API's GET /matches

Reads and writes the store only: Cliniko and Salesforce credentials are not needed.`;

export function printHolds(holds: readonly ContactHold[], ctx: Pick<CliContext, 'print'>): void {
  for (const h of holds) {
    const state = h.resolvedAt === null ? 'open' : `resolved ${h.resolution ?? ''} by ${h.resolvedBy ?? '?'}`;
    ctx.print(`patient ${h.patientId}  ${h.kind}  ${h.object} ${h.candidates.join(', ')}  (${state})`);
    ctx.print(`    ${h.reason}; since ${new Date(h.createdAt).toISOString()}`);
  }
  const open = holds.filter((h) => h.resolvedAt === null).length;
  ctx.print(holds.length === 0 ? 'no Contact is held' : `${open} open hold(s)`);
}

async function resolve(args: readonly string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...args],
    options: { link: { type: 'string' }, create: { type: 'boolean', default: false } },
    allowPositionals: true,
  });
  const patientId = positionals[0];
  if (positionals.length !== 1 || !patientId || (values.link === undefined) === !values.create) {
    ctx.print('usage: npm run sync -- matches resolve <patientId> (--link <salesforceId> | --create)');
    return 2;
  }
  const answer: Resolution = values.link !== undefined ? { link: values.link } : 'create';
  return answerHold(ctx, patientId, answer);
}

/** Resolves a hold in the store and says what happens next. */
export async function answerHold(ctx: CliContext, patientId: string, answer: Resolution): Promise<number> {
  const store = await openStoreOnly(ctx);
  try {
    const now = Date.now();
    const outcome = await resolveHold(store, patientId, answer, {
      actor: `cli:${ctx.env.USER ?? 'operator'}`,
      now,
      runId: newRunId('resolve', now),
    });
    if (!outcome.ok) {
      ctx.print(outcome.reason);
      return 1;
    }
    ctx.print(
      `patient ${patientId}: ${typeof answer === 'object' ? `link ${answer.link}` : answer} recorded`,
    );
    return 0;
  } finally {
    await store.close();
  }
}

export const matchesCommand: Command = {
  name: 'matches',
  summary: 'Patients held for match review or whose Contact was deleted in Salesforce; resolve them.',
  usage: USAGE,
  async run(args, ctx) {
    if (args[0] === 'resolve') return resolve(args.slice(1), ctx);
    const { values } = parseArgs({
      args: [...args],
      options: { all: { type: 'boolean', default: false }, json: { type: 'boolean', default: false } },
      allowPositionals: false,
    });
    const store = await openStoreOnly(ctx);
    try {
      const items = await store.listContactHolds({ open: !values.all });
      if (values.json) ctx.print(JSON.stringify({ items, total: items.length }, null, 2));
      else printHolds(items, ctx);
      return 0;
    } finally {
      await store.close();
    }
  },
};
