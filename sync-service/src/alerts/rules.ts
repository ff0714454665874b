/**
 * Alert rules: pure functions from the service's state (counts, times, budgets, governance checks) to
 * the alerts that hold now. An alert names counts and record keys (object and Cliniko id), never a
 * field value, so nothing a webhook receives is patient data.
 *
 * Each alert has a stable `key`: the notifier (notifier.ts) sends it once when it starts to hold and
 * once more, as resolved, when it stops.
 */
export type AlertKey =
  | 'dead-letters'
  | 'no-successful-run'
  | 'cliniko-budget'
  | 'salesforce-budget'
  | 'data-map-refused'
  | 'audit-verification-failed';

export interface Alert {
  readonly key: AlertKey;
  readonly severity: 'warning' | 'critical';
  /** One line for a human: counts and keys only. */
  readonly summary: string;
  /** Counts, keys and thresholds (numbers and identifiers only). */
  readonly details: Readonly<Record<string, number | string | readonly string[]>>;
}

export interface AlertInput {
  readonly now: number;
  /** When the process started (no-success is measured from here if nothing ever succeeded). */
  readonly startedAt: number;
  readonly deadLetters: {
    readonly count: number;
    /** Keys of (some of) the unreplayed dead letters: `<object> <externalId>`. */
    readonly keys: readonly string[];
  };
  /** Finish time of the last successful (or partial) sync cycle, null if none is known. */
  readonly lastSuccessAt: number | null;
  /** Cliniko 429 answers in the evaluation window (the key's budget spent, by us or another app). */
  readonly clinikoRateLimited: number;
  readonly clinikoBudget: { readonly used: number; readonly limit: number } | undefined;
  readonly salesforce: { readonly used: number; readonly max: number } | undefined;
  readonly dataMap: { readonly ok: boolean; readonly message?: string };
  readonly audit: { readonly ok: boolean; readonly brokenAtSeq: number | null } | null;
  /** Automatic sync paused by an operator: the no-success rule is then not an accident. */
  readonly paused: boolean;
}

export interface AlertThresholds {
  /** Alert when no cycle has succeeded for this long. */
  readonly noSuccessMs: number;
  /** Alert when the Salesforce daily allowance used reaches this share (0..1). */
  readonly salesforceShare: number;
}

const MAX_KEYS = 20;

export function evaluateAlerts(input: AlertInput, thresholds: AlertThresholds): Alert[] {
  const alerts: Alert[] = [];
  if (input.deadLetters.count > 0) {
    const keys = input.deadLetters.keys.slice(0, MAX_KEYS);
    alerts.push({
      key: 'dead-letters',
      severity: 'warning',
      summary: `${input.deadLetters.count} dead letter${input.deadLetters.count === 1 ? '' : 's'} waiting for replay (${keys.join(', ')}${input.deadLetters.count > keys.length ? ', ...' : ''})`,
      details: { count: input.deadLetters.count, keys },
    });
  }
  const since = input.lastSuccessAt ?? input.startedAt;
  if (!input.paused && input.now - since >= thresholds.noSuccessMs) {
    const minutes = Math.floor((input.now - since) / 60_000);
    alerts.push({
      key: 'no-successful-run',
      severity: 'critical',
      summary:
        input.lastSuccessAt === null
          ? `no sync cycle has succeeded since the service started ${minutes} min ago`
          : `no sync cycle has succeeded for ${minutes} min`,
      details: {
        minutesSinceSuccess: minutes,
        thresholdMinutes: Math.round(thresholds.noSuccessMs / 60_000),
        ...(input.lastSuccessAt !== null
          ? { lastSuccessAt: new Date(input.lastSuccessAt).toISOString() }
          : {}),
      },
    });
  }
  if (input.clinikoRateLimited > 0) {
    alerts.push({
      key: 'cliniko-budget',
      severity: 'warning',
      summary: `Cliniko answered ${input.clinikoRateLimited} request${input.clinikoRateLimited === 1 ? '' : 's'} with 429: the API key's rate budget is exhausted (another app may share the key)`,
      details: {
        rateLimited: input.clinikoRateLimited,
        ...(input.clinikoBudget ? { used: input.clinikoBudget.used, limit: input.clinikoBudget.limit } : {}),
      },
    });
  }
  if (input.salesforce && input.salesforce.max > 0) {
    const share = input.salesforce.used / input.salesforce.max;
    if (share >= thresholds.salesforceShare) {
      alerts.push({
        key: 'salesforce-budget',
        severity: share >= 0.95 ? 'critical' : 'warning',
        summary: `Salesforce daily API requests at ${Math.round(share * 100)} % (${input.salesforce.used} of ${input.salesforce.max})`,
        details: {
          used: input.salesforce.used,
          max: input.salesforce.max,
          thresholdPercent: Math.round(thresholds.salesforceShare * 100),
        },
      });
    }
  }
  if (!input.dataMap.ok) {
    alerts.push({
      key: 'data-map-refused',
      severity: 'critical',
      summary: 'the data map is not signed off for its current content: sync refuses to run',
      details: { reason: input.dataMap.message ?? 'not signed' },
    });
  }
  if (input.audit && !input.audit.ok) {
    alerts.push({
      key: 'audit-verification-failed',
      severity: 'critical',
      summary: `audit log verification failed at entry seq ${input.audit.brokenAtSeq ?? '?'}`,
      details: { brokenAtSeq: input.audit.brokenAtSeq ?? -1 },
    });
  }
  return alerts;
}
