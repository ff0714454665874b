import type { Alert } from './rules.js';

/**
 * The alert webhook: one POST of JSON per notification. `slack` is Slack's incoming-webhook shape
 * (`{"text": ...}`, which Mattermost, Rocket.Chat, Teams' Slack-compatible connectors and Discord's
 * `/slack` endpoint also accept); `generic` is a small, stable document for anything else (an
 * incident tool, a function). The URL is a secret (a Slack webhook URL grants posting): it is never
 * logged, and errors name only the status.
 */
export type WebhookFormat = 'slack' | 'generic';

export interface Notification {
  readonly status: 'firing' | 'resolved';
  readonly alert: Alert;
  /** When the condition started to hold (ISO). */
  readonly startsAt: string;
  /** When it stopped holding (ISO), for a resolution. */
  readonly endsAt?: string;
}

export interface WebhookOptions {
  readonly url: string;
  readonly format: WebhookFormat;
  /** Names this service in messages (e.g. the clinic group). */
  readonly source: string;
  readonly timeoutMs?: number;
  readonly fetch?: typeof fetch;
}

export function webhookBody(n: Notification, format: WebhookFormat, source: string): unknown {
  if (format === 'generic') {
    return {
      source,
      status: n.status,
      key: n.alert.key,
      severity: n.alert.severity,
      summary: n.alert.summary,
      details: n.alert.details,
      startsAt: n.startsAt,
      ...(n.endsAt !== undefined ? { endsAt: n.endsAt } : {}),
    };
  }
  const icon =
    n.status === 'resolved'
      ? ':white_check_mark:'
      : n.alert.severity === 'critical'
        ? ':rotating_light:'
        : ':warning:';
  const head =
    n.status === 'resolved' ? `RESOLVED ${n.alert.key}` : `${n.alert.severity.toUpperCase()} ${n.alert.key}`;
  return { text: `${icon} [${source}] ${head}: ${n.alert.summary}` };
}

export class WebhookError extends Error {}

/** Sends one notification; rejects with a WebhookError naming the HTTP status (never the URL). */
export async function sendWebhook(options: WebhookOptions, n: Notification): Promise<void> {
  const doFetch = options.fetch ?? fetch;
  let response: Response;
  try {
    response = await doFetch(options.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(webhookBody(n, options.format, options.source)),
      signal: AbortSignal.timeout(options.timeoutMs ?? 5_000),
      redirect: 'error',
    });
  } catch (err) {
    throw new WebhookError(`alert webhook unreachable (${err instanceof Error ? err.name : 'error'})`);
  }
  // Drain the body so the connection is reused.
  await response.arrayBuffer().catch(() => undefined);
  if (!response.ok) throw new WebhookError(`alert webhook answered HTTP ${response.status}`);
}
