import { parseArgs } from 'node:util';
import {
  createReversePoller,
  resolveIntegrationUserId,
  type ReverseResult,
} from '../../sync/writeback/index.js';
import type { Command, CliContext } from '../types.js';

export function printReverseResult(result: ReverseResult, ctx: Pick<CliContext, 'print'>): void {
  ctx.print(`write-back ${result.runId}: ${result.read} changed Contact(s) read`);
  ctx.print(
    `  written back: ${result.writtenBack}   unchanged: ${result.unchanged}   Cliniko newer: ${result.clinikoNewer}   waiting for the forward sync: ${result.deferred}   inactive: ${result.inactive}`,
  );
  ctx.print(
    `  quarantined: ${result.quarantined}   failed (retried next poll): ${result.failed}   opt-outs: email ${result.consentOptOuts.email}, sms ${result.consentOptOuts.sms}`,
  );
  ctx.print(`  watermark: ${result.watermark ?? '(none yet)'}`);
}

export const writebackCommand: Command = {
  name: 'writeback',
  summary: 'One reverse poll: Contact edits made in Salesforce to `both` fields, PATCHed onto Cliniko.',
  usage:
    'npm run sync -- writeback\n\n' +
    'Reads Contacts changed in Salesforce by anyone but the integration user since the last write-back,\n' +
    'and writes the fields the signed data map marks `direction: both` (and recorded consent opt-outs)\n' +
    'back to the Cliniko patient. See docs/writeback.md.\n' +
    'Exit code 0 when every change was handled, 3 when some were quarantined or failed, 1 on failure.',
  async run(args, ctx) {
    parseArgs({ args: [...args], options: {}, allowPositionals: false });
    const service = await ctx.service();
    try {
      const connection = service.salesforce.connection;
      const poller = createReversePoller({
        store: service.store,
        cliniko: service.cliniko,
        connection,
        dataMap: service.dataMap,
        integrationUserId: await resolveIntegrationUserId(connection),
        logger: ctx.logger(),
        now: Date.now,
      });
      const result = await poller.poll();
      printReverseResult(result, ctx);
      return result.quarantined > 0 || result.failed > 0 ? 3 : 0; // deferred records are normal: next poll
    } finally {
      await service.close();
    }
  },
};
