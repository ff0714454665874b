import { Agent, request } from 'undici';
import { SyncError } from '../errors.js';
import type { Logger } from '../logger.js';
import {
  classifyAnswer,
  networkFailure,
  objectOf,
  safePath,
  type Answer,
  type ExchangeRecord,
  type JsonResponse,
  type Outcome,
} from './answers.js';
import { DEFAULT_BACKOFF, fullJitterDelay, type BackoffPolicy } from './backoff.js';
import {
  ClosedError,
  RequestBudget,
  defaultSleep,
  type BudgetStats,
  type Clock,
  type Sleep,
} from './budget.js';
import { isSameApi } from './links.js';

export { ClinikoValidationError } from './answers.js';
export type { JsonResponse } from './answers.js';

/**
 * The Cliniko transport: the only code that knows the base URL, authentication, the User-Agent, the
 * request budget, retries and pagination. Resource streams ask it for pages and never see HTTP.
 *
 * Facts it relies on (reference/README.md): HTTP Basic with the key as user name and an empty
 * password; `Accept: application/json` and a `User-Agent: App (contact email)` are required; 200 requests
 * per minute per key, 429 with `X-RateLimit-Reset` (epoch seconds) beyond that; list envelopes
 * `{<plural>: [...], total_entries, links: {self, next?, previous?}}`; 422 bodies
 * `{"message":"Validation Failed","errors":{"field":"message"}}`.
 */

export const USER_AGENT_PRODUCT = 'Cliniko-Salesforce-Governed-Sync';

export interface TransportOptions {
  readonly baseUrl: string;
  readonly apiKey: string;
  readonly contactEmail: string;
  readonly requestsPerMinute: number;
  /** Rolling window of the budget; 60 s in production, shorter in tests. */
  readonly budgetWindowMs?: number;
  /** Attempts for 5xx, time-outs, dropped connections and malformed bodies (first try included). */
  readonly maxAttempts?: number;
  /** 429 answers tolerated per request before giving up with CLINIKO_RATE_LIMITED. */
  readonly maxRateLimitRetries?: number;
  /** Longest a single 429 may pause the budget, whatever the headers say. */
  readonly maxRateLimitPauseMs?: number;
  readonly backoff?: BackoffPolicy;
  /** Time allowed for response headers and, separately, between body chunks. */
  readonly timeoutMs?: number;
  readonly clock?: Clock;
  readonly sleep?: Sleep;
  readonly random?: () => number;
  readonly logger: Logger;
}

export interface ClinikoPage {
  /** 1-based position of this page within the walk. */
  readonly pageNumber: number;
  readonly url: string;
  readonly items: readonly unknown[];
  readonly totalEntries: number | undefined;
  readonly nextUrl: string | undefined;
  readonly serverDate: string | undefined;
}

export interface TransportStats {
  readonly budget: BudgetStats;
  /** HTTP requests sent (each attempt counts). */
  readonly requests: number;
  readonly retries: number;
  readonly rateLimited: number;
}

interface RequestSpec {
  readonly method: 'GET' | 'PATCH' | 'POST';
  readonly url: string;
  readonly body?: unknown;
  /** Checks a 2xx JSON body; a returned problem makes the answer malformed (and retried). */
  readonly validate?: (body: unknown) => string | undefined;
  /** Overrides maxAttempts, e.g. 1 for the health probe. */
  readonly attempts?: number;
}

export class ClinikoTransport {
  readonly baseUrl: string;
  private readonly dispatcher: Agent;
  private readonly budget: RequestBudget;
  private readonly headers: Record<string, string>;
  private readonly maxAttempts: number;
  private readonly maxRateLimitRetries: number;
  private readonly maxRateLimitPauseMs: number;
  private readonly backoff: BackoffPolicy;
  private readonly clock: Clock;
  private readonly sleep: Sleep;
  private readonly random: () => number;
  private readonly log: Logger;
  /** Aborted by close(): stops budget waits, backoff sleeps and requests in flight. */
  private readonly closing = new AbortController();
  private requestCount = 0;
  private retryCount = 0;
  private rateLimitedCount = 0;

  constructor(options: TransportOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.clock = options.clock ?? Date.now;
    this.sleep = options.sleep ?? defaultSleep;
    this.random = options.random ?? Math.random;
    this.budget = new RequestBudget({
      limit: options.requestsPerMinute,
      windowMs: options.budgetWindowMs ?? 60_000,
      clock: this.clock,
      sleep: this.sleep,
      signal: this.closing.signal,
    });
    this.maxAttempts = options.maxAttempts ?? 6;
    this.maxRateLimitRetries = options.maxRateLimitRetries ?? 20;
    this.maxRateLimitPauseMs = options.maxRateLimitPauseMs ?? 120_000;
    this.backoff = options.backoff ?? DEFAULT_BACKOFF;
    const timeoutMs = options.timeoutMs ?? 45_000;
    // Keep-alive: one connection pool per client, reused across pages and streams.
    this.dispatcher = new Agent({
      keepAliveTimeout: 30_000,
      connections: 8,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      connectTimeout: Math.min(timeoutMs, 10_000),
    });
    this.headers = {
      authorization: `Basic ${Buffer.from(`${options.apiKey}:`).toString('base64')}`,
      accept: 'application/json',
      'user-agent': `${USER_AGENT_PRODUCT} (${options.contactEmail})`,
    };
    this.log = options.logger;
  }

  /** Absolute URL for an API path and query; `q[]` filters are repeated and percent-encoded. */
  url(
    path: string,
    query: Readonly<Record<string, string | number | readonly string[] | undefined>> = {},
  ): string {
    const url = new URL(`${this.baseUrl}/${path.replace(/^\/+/, '')}`);
    for (const [key, value] of Object.entries(query)) {
      if (value === undefined) continue;
      if (Array.isArray(value)) for (const v of value as readonly string[]) url.searchParams.append(key, v);
      else url.searchParams.append(key, String(value));
    }
    return url.toString();
  }

  async getJson(pathOrUrl: string, options: { attempts?: number } = {}): Promise<JsonResponse> {
    return this.send({ method: 'GET', url: this.absolute(pathOrUrl), ...options });
  }

  async sendJson(method: 'PATCH' | 'POST', pathOrUrl: string, body: unknown): Promise<JsonResponse> {
    return this.send({ method, url: this.absolute(pathOrUrl), body });
  }

  /**
   * Walks a list endpoint page by page, following `links.next`. A page that is an error, or a 2xx whose
   * body lacks the collection array, is retried and finally thrown: it is never read as the last page.
   */
  async *paginate(firstUrl: string, collectionKey: string): AsyncGenerator<ClinikoPage, void, undefined> {
    let url: string | undefined = this.absolute(firstUrl);
    const visited = new Set<string>();
    let pageNumber = 0;
    while (url !== undefined) {
      if (visited.has(url)) {
        throw new SyncError(
          'CLINIKO_MALFORMED_RESPONSE',
          `Cliniko's links.next loops back to an earlier ${collectionKey} page`,
          { record: { system: 'cliniko', object: collectionKey }, retryable: false },
        );
      }
      visited.add(url);
      pageNumber += 1;
      const page = await this.page(url, collectionKey, pageNumber);
      yield page;
      url = page.nextUrl;
    }
  }

  /** One list page, retried like any request; `nextUrl` is checked to stay on the configured API. */
  async page(pageUrl: string, collectionKey: string, pageNumber = 1): Promise<ClinikoPage> {
    const url = this.absolute(pageUrl);
    const response = await this.send({
      method: 'GET',
      url,
      validate: (b) => pageProblem(b, collectionKey),
    });
    const body = response.body as PageBody;
    const next: string | undefined =
      typeof body.links?.next === 'string' && body.links.next !== ''
        ? new URL(body.links.next, url).toString()
        : undefined;
    if (next !== undefined && !isSameApi(next, this.baseUrl)) {
      // The key travels with every request; never follow a link off the configured API.
      throw new SyncError(
        'CLINIKO_MALFORMED_RESPONSE',
        `Cliniko's links.next for ${collectionKey} points outside the API base URL`,
        { record: { system: 'cliniko', object: collectionKey }, retryable: false },
      );
    }
    return {
      pageNumber,
      url,
      items: body[collectionKey] as unknown[],
      totalEntries: typeof body.total_entries === 'number' ? body.total_entries : undefined,
      nextUrl: next,
      serverDate: response.serverDate,
    };
  }

  stats(): TransportStats {
    return {
      budget: this.budget.stats(),
      requests: this.requestCount,
      retries: this.retryCount,
      rateLimited: this.rateLimitedCount,
    };
  }

  /** Closes the keep-alive pool; calling it again is harmless. */
  async close(): Promise<void> {
    this.closing.abort();
    if (this.dispatcher.closed || this.dispatcher.destroyed) return;
    await this.dispatcher.close();
  }

  private absolute(pathOrUrl: string): string {
    if (/^https?:\/\//.test(pathOrUrl)) {
      if (!isSameApi(pathOrUrl, this.baseUrl)) {
        throw new SyncError(
          'INTERNAL',
          'Refusing to send the Cliniko key to a URL outside the configured API',
        );
      }
      return pathOrUrl;
    }
    return this.url(pathOrUrl);
  }

  private async send(spec: RequestSpec): Promise<JsonResponse> {
    const maxAttempts = spec.attempts ?? this.maxAttempts;
    let failures = 0;
    let rateLimits = 0;
    for (;;) {
      try {
        await this.budget.acquire();
      } catch (err) {
        if (err instanceof ClosedError) throw this.closedError(spec.url);
        throw err;
      }
      this.requestCount += 1;
      const outcome = await this.attempt(spec);
      if (outcome.kind === 'ok') return outcome.response;
      if (outcome.kind === 'fail') throw outcome.error;
      if (this.closing.signal.aborted) throw this.closedError(spec.url);

      const path = safePath(spec.url);
      if (outcome.rateLimited) {
        rateLimits += 1;
        this.rateLimitedCount += 1;
        if (rateLimits > this.maxRateLimitRetries || spec.attempts !== undefined) throw outcome.error;
        // Pause the whole budget: the limit is per key, so every stream must hold back, not just this one.
        // At least a second: the reset is in whole seconds and the server's Date has second precision,
        // so a reset that reads as "now" may still be up to a second away.
        const delay = Math.min(
          this.maxRateLimitPauseMs,
          Math.max(1_000, outcome.delayMs ?? fullJitterDelay(rateLimits, this.backoff, this.random)),
        );
        this.budget.pauseUntil(this.clock() + delay);
        this.log.warn(
          { path, status: 429, rateLimits, delayMs: delay },
          'cliniko rate limited; pausing budget',
        );
      } else {
        failures += 1;
        if (failures >= maxAttempts) throw outcome.error;
        const delay = fullJitterDelay(failures - 1, this.backoff, this.random);
        this.log.warn(
          {
            path,
            code: outcome.error.code,
            upstream: outcome.error.upstreamCode,
            attempt: failures,
            delayMs: delay,
          },
          'cliniko request failed; retrying',
        );
        await this.sleep(delay, this.closing.signal);
      }
      this.retryCount += 1;
    }
  }

  /** A read cut short by close(): retryable, so the runner simply picks it up next cycle. */
  private closedError(url: string): SyncError {
    return new SyncError(
      'CLINIKO_UNAVAILABLE',
      'The Cliniko client was closed before the request completed',
      {
        record: { system: 'cliniko', ...objectOf(url, this.baseUrl) },
        upstreamCode: 'CLOSED',
      },
    );
  }

  /** One HTTP exchange, classified (answers.ts). */
  private async attempt(spec: RequestSpec): Promise<Outcome> {
    const record: ExchangeRecord = { system: 'cliniko', ...objectOf(spec.url, this.baseUrl) };
    let answer: Answer;
    try {
      answer = await this.exchange(spec);
    } catch (err) {
      return networkFailure(record, err);
    }
    return classifyAnswer(answer, record, spec.url, spec.validate, this.clock);
  }

  /** Sends the request and reads the whole body; throws on a network failure or time-out. */
  private async exchange(spec: RequestSpec): Promise<Answer> {
    const response = await request(spec.url, {
      dispatcher: this.dispatcher,
      signal: this.closing.signal,
      method: spec.method,
      headers:
        spec.body === undefined ? this.headers : { ...this.headers, 'content-type': 'application/json' },
      ...(spec.body === undefined ? {} : { body: JSON.stringify(spec.body) }),
    });
    const text = await response.body.text();
    return { status: response.statusCode, headers: response.headers, text };
  }
}

interface PageBody {
  readonly [key: string]: unknown;
  readonly total_entries?: unknown;
  readonly links?: { readonly next?: unknown };
}

function pageProblem(body: unknown, collectionKey: string): string | undefined {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return 'is not a list envelope';
  const page = body as PageBody;
  if (!Array.isArray(page[collectionKey])) return `has no "${collectionKey}" array`;
  if (page.links !== undefined && (page.links === null || typeof page.links !== 'object'))
    return 'has invalid links';
  return undefined;
}
