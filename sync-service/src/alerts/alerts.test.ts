import { describe, expect, it } from 'vitest';
import { createLogger } from '../logger.js';
import { createNotifier } from './notifier.js';
import { evaluateAlerts, type AlertInput } from './rules.js';
import { webhookBody, type Notification } from './webhook.js';

const NOW = Date.parse('2026-12-01T12:00:00Z');
const quiet: AlertInput = {
  now: NOW,
  startedAt: NOW - 3600_000,
  deadLetters: { count: 0, keys: [] },
  lastSuccessAt: NOW - 60_000,
  clinikoRateLimited: 0,
  clinikoBudget: { used: 10, limit: 180 },
  salesforce: { used: 100, max: 100_000 },
  dataMap: { ok: true },
  audit: { ok: true, brokenAtSeq: null },
  paused: false,
};
const thresholds = { noSuccessMs: 30 * 60_000, salesforceShare: 0.8 };

describe('alert rules', () => {
  it('hold nothing for a quiet, healthy service', () => {
    expect(evaluateAlerts(quiet, thresholds)).toEqual([]);
  });

  it('each condition raises its own alert, naming counts and keys', () => {
    const alerts = evaluateAlerts(
      {
        ...quiet,
        deadLetters: { count: 3, keys: ['Contact 1001', 'Cliniko_Appointment__c 77'] },
        lastSuccessAt: NOW - 45 * 60_000,
        clinikoRateLimited: 2,
        salesforce: { used: 85_000, max: 100_000 },
        dataMap: { ok: false, message: 'changed since sign-off' },
        audit: { ok: false, brokenAtSeq: 42 },
      },
      thresholds,
    );
    expect(alerts.map((a) => a.key)).toEqual([
      'dead-letters',
      'no-successful-run',
      'cliniko-budget',
      'salesforce-budget',
      'data-map-refused',
      'audit-verification-failed',
    ]);
    expect(alerts[0]!.summary).toBe(
      '3 dead letters waiting for replay (Contact 1001, Cliniko_Appointment__c 77, ...)',
    );
    expect(alerts[1]!.details).toMatchObject({ minutesSinceSuccess: 45, thresholdMinutes: 30 });
    expect(alerts[3]!.summary).toContain('85 %');
    expect(alerts[5]!.summary).toContain('seq 42');
  });

  it('thresholds are edges: just below holds nothing', () => {
    const below = evaluateAlerts(
      { ...quiet, lastSuccessAt: NOW - 30 * 60_000 + 1, salesforce: { used: 79_999, max: 100_000 } },
      thresholds,
    );
    expect(below).toEqual([]);
  });

  it('a paused service does not alert for missing runs', () => {
    const stale = { ...quiet, lastSuccessAt: NOW - 5 * 3600_000 };
    expect(evaluateAlerts(stale, thresholds).map((a) => a.key)).toEqual(['no-successful-run']);
    expect(evaluateAlerts({ ...stale, paused: true }, thresholds)).toEqual([]);
  });
});

describe('notifier', () => {
  const alertOf = (count: number) =>
    evaluateAlerts({ ...quiet, deadLetters: { count, keys: ['Contact 1'] } }, thresholds);

  it('sends firing once, nothing while it holds, and resolved once when it clears', async () => {
    const sent: Notification[] = [];
    let t = NOW;
    const n = createNotifier({
      send: (x) => Promise.resolve(void sent.push(x)),
      now: () => t,
      logger: createLogger({ level: 'silent' }),
    });
    await n.update(alertOf(1));
    t += 60_000;
    await n.update(alertOf(2));
    await n.update(alertOf(5));
    expect(sent.map((s) => s.status)).toEqual(['firing']);
    t += 60_000;
    await n.update([]);
    await n.update([]);
    expect(sent.map((s) => s.status)).toEqual(['firing', 'resolved']);
    expect(sent[1]).toMatchObject({
      startsAt: new Date(NOW).toISOString(),
      endsAt: new Date(NOW + 120_000).toISOString(),
    });
  });

  it('retries a failed send at the next evaluation', async () => {
    const sent: Notification[] = [];
    let fail = true;
    const n = createNotifier({
      send: (x) => (fail ? Promise.reject(new Error('down')) : Promise.resolve(void sent.push(x))),
      now: () => NOW,
      logger: createLogger({ level: 'silent' }),
    });
    await n.update(alertOf(1));
    expect(n.active()[0]?.notified).toBe(false);
    fail = false;
    await n.update(alertOf(1));
    expect(sent.map((s) => s.status)).toEqual(['firing']);
    // Cleared before anything was delivered: nothing to resolve.
    const m = createNotifier({
      send: () => Promise.reject(new Error('down')),
      now: () => NOW,
      logger: createLogger({ level: 'silent' }),
    });
    await m.update(alertOf(1));
    await m.update([]);
    expect(m.active()).toEqual([]);
  });
});

describe('webhook bodies', () => {
  const n: Notification = { status: 'firing', alert: alertOfDead(), startsAt: new Date(NOW).toISOString() };
  function alertOfDead() {
    return evaluateAlerts({ ...quiet, deadLetters: { count: 1, keys: ['Contact 1001'] } }, thresholds)[0]!;
  }
  it('slack is {"text"} naming the service, state and summary', () => {
    expect(webhookBody(n, 'slack', 'clinic-a')).toEqual({
      text: ':warning: [clinic-a] WARNING dead-letters: 1 dead letter waiting for replay (Contact 1001)',
    });
  });
  it('generic carries the key, status, counts and times', () => {
    expect(
      webhookBody({ ...n, status: 'resolved', endsAt: n.startsAt }, 'generic', 'clinic-a'),
    ).toMatchObject({
      source: 'clinic-a',
      status: 'resolved',
      key: 'dead-letters',
      details: { count: 1, keys: ['Contact 1001'] },
    });
  });
});
