import { walkAuditLog } from '../sync/common/audit-log.js';
import { createChainWalk } from '../governance/audit.js';
import type { Logger } from '../logger.js';
import type { Store } from '../store/index.js';

/**
 * The service verifies its own audit chain (as `npm run sync -- audit verify` does) at start and then
 * every `everyMs`, so the console and the alerts can show the last verification and its outcome.
 * The result names a sequence number and a reason, never an entry's content.
 */
export interface AuditVerificationResult {
  readonly at: string;
  readonly ok: boolean;
  readonly entries: number;
  /** The first broken link (sequence number and reason) when not ok. */
  readonly brokenAtSeq: number | null;
  readonly reason: string | null;
}

export function createAuditCheck(
  deps: { store: Store; logger: Logger; now: () => number },
  options: { everyMs?: number } = {},
) {
  const log = deps.logger.child({ module: 'audit-check' });
  const everyMs = options.everyMs ?? 3600_000;
  let last: AuditVerificationResult | null = null;
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<AuditVerificationResult> | undefined;

  async function verifyOnce(): Promise<AuditVerificationResult> {
    const at = new Date(deps.now()).toISOString();
    // Entry by entry, a page at a time: the log is never held whole (it grows with every write).
    const walk = createChainWalk();
    const { count, rowProblem } = await walkAuditLog(deps.store, (entry) => walk.push(entry));
    if (rowProblem !== undefined) {
      return { at, ok: false, entries: count, brokenAtSeq: rowProblem.seq, reason: rowProblem.reason };
    }
    const result = walk.finish();
    return result.ok
      ? { at, ok: true, entries: result.count, brokenAtSeq: null, reason: null }
      : { at, ok: false, entries: count, brokenAtSeq: result.seq ?? null, reason: result.reason };
  }

  function verify(): Promise<AuditVerificationResult> {
    inFlight ??= verifyOnce()
      .then((result) => {
        last = result;
        if (!result.ok) log.error({ seq: result.brokenAtSeq, reason: result.reason }, 'audit chain broken');
        return result;
      })
      .finally(() => {
        inFlight = undefined;
      });
    return inFlight;
  }

  return {
    verify,
    last: (): AuditVerificationResult | null => last,
    start(): void {
      if (timer !== undefined) return;
      const run = (): void => {
        verify().catch((err: unknown) => log.warn({ err }, 'audit verification could not run'));
      };
      run();
      timer = setInterval(run, everyMs);
      timer.unref();
    },
    async stop(): Promise<void> {
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
      await inFlight?.catch(() => undefined);
    },
  };
}

export type AuditCheck = ReturnType<typeof createAuditCheck>;
