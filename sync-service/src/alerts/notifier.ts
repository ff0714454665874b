import type { Logger } from '../logger.js';
import type { Alert, AlertKey } from './rules.js';
import type { Notification } from './webhook.js';

/**
 * De-duplication and recovery: given the alerts that hold at each evaluation, sends `firing` once
 * when an alert starts to hold and `resolved` once when it stops, never again while it keeps holding
 * (however its counts move). A notification that fails to send is retried at the next evaluation;
 * a condition that clears before its `firing` was ever delivered sends nothing at all.
 */
export interface ActiveAlert {
  readonly alert: Alert;
  readonly since: number;
  /** Whether the `firing` notification was delivered. */
  readonly notified: boolean;
}

export function createNotifier(deps: {
  send: (n: Notification) => Promise<void>;
  now: () => number;
  logger: Logger;
}) {
  const log = deps.logger.child({ module: 'alerts' });
  const active = new Map<AlertKey, ActiveAlert>();
  /** Resolutions still to deliver (their firing was delivered; the resolved send failed). */
  const unresolved = new Map<AlertKey, Notification>();

  async function deliver(n: Notification): Promise<boolean> {
    try {
      await deps.send(n);
      log.info({ key: n.alert.key, status: n.status }, 'alert sent');
      return true;
    } catch (err) {
      log.warn(
        { key: n.alert.key, status: n.status, err: err instanceof Error ? err.message : 'error' },
        'alert not sent; retried at the next evaluation',
      );
      return false;
    }
  }

  return {
    /** Folds the alerts that hold now into the active set and sends what changed. */
    async update(holding: readonly Alert[]): Promise<void> {
      const now = deps.now();
      const keys = new Set(holding.map((a) => a.key));
      for (const [key, entry] of [...active]) {
        if (keys.has(key)) continue;
        active.delete(key);
        if (!entry.notified) continue;
        unresolved.set(key, {
          status: 'resolved',
          alert: entry.alert,
          startsAt: new Date(entry.since).toISOString(),
          endsAt: new Date(now).toISOString(),
        });
      }
      for (const alert of holding) {
        const entry = active.get(alert.key);
        // A condition back before its resolution went out: the resolution is moot.
        if (!entry && unresolved.has(alert.key)) {
          const pending = unresolved.get(alert.key)!;
          unresolved.delete(alert.key);
          active.set(alert.key, { alert, since: Date.parse(pending.startsAt), notified: true });
          continue;
        }
        active.set(alert.key, { alert, since: entry?.since ?? now, notified: entry?.notified ?? false });
      }
      for (const [key, n] of [...unresolved]) {
        if (await deliver(n)) unresolved.delete(key);
      }
      for (const [key, entry] of [...active]) {
        if (entry.notified) continue;
        const sent = await deliver({
          status: 'firing',
          alert: entry.alert,
          startsAt: new Date(entry.since).toISOString(),
        });
        if (sent) active.set(key, { ...entry, notified: true });
      }
    },
    active(): ActiveAlert[] {
      return [...active.values()];
    },
  };
}

export type Notifier = ReturnType<typeof createNotifier>;
