import { reconcilerForService } from '../../sync/reconcile/index.js';
import type { Command } from '../types.js';
import { openStoreOnly } from './audit-store.js';
import { answerHold, printHolds } from './matches.js';
import { exitCodeOf, printReport } from './reconcile.js';

const USAGE = `npm run sync -- contacts deleted
npm run sync -- contacts restore <patientId> [--no-reconcile]

deleted: lists the patients whose Contact was deleted in Salesforce and is held (never re-created on its
own), with the deleted Contact's id. Reads the store only.

Re-creates the Contact of a patient whose Contact was deleted in Salesforce (docs/reconciliation.md,
"Contacts deleted in Salesforce"). The sync never does this on its own: reconciliation and ordinary
cycles report such a patient and leave it alone (npm run sync -- matches lists them). Restoring records
the decision in the audit log, releases the patient's waiting writes and runs a reconciliation, which
sends the Contact again (a new Salesforce record) and re-attaches its appointments, care plans and
invoices.

  --no-reconcile   only record the decision; the next reconciliation re-creates the Contact`;

export const contactsCommand: Command = {
  name: 'contacts',
  summary: 'Contacts deleted in Salesforce: list them (contacts deleted), re-create one (contacts restore).',
  usage: USAGE,
  async run(args, ctx) {
    const [verb, patientId, ...rest] = args;
    if (verb === 'deleted' && args.length === 1) {
      const store = await openStoreOnly(ctx);
      try {
        const holds = await store.listContactHolds({ open: true });
        printHolds(
          holds.filter((h) => h.kind === 'deleted'),
          ctx,
        );
        return 0;
      } finally {
        await store.close();
      }
    }
    const skipReconcile = rest.includes('--no-reconcile');
    if (verb !== 'restore' || !patientId || rest.some((a) => a !== '--no-reconcile')) {
      ctx.print(USAGE);
      return 2;
    }
    const code = await answerHold(ctx, patientId, 'restore');
    if (code !== 0 || skipReconcile) return code;
    const service = await ctx.service();
    try {
      const report = await reconcilerForService(service, ctx.logger()).reconcile();
      printReport(report, ctx);
      return exitCodeOf(report);
    } finally {
      await service.close();
    }
  },
};
