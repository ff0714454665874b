import { Agent, request, type Dispatcher } from 'undici';
import { SyncError, type ErrorCode } from '../errors.js';
import type { Logger } from '../logger.js';
import { DEFAULT_BACKOFF, fullJitterDelay, rateLimitDelayMs, type BackoffPolicy } from './backoff.js';
import {
  ClosedError,
  RequestBudget,
  defaultSleep,
  type BudgetStats,
  type Clock,
  type Sleep,
} from './budget.js';
import { isSameApi } from './links.js';

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

export interface JsonResponse {
  readonly status: number;
  readonly body: unknown;
  /** The server's `Date` header as ISO 8601, for signposts taken on Cliniko's clock. */
  readonly serverDate: string | undefined;
  readonly url: string;
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

/** A 422 from Cliniko: names the fields it rejected, never the values sent. */
export class ClinikoValidationError extends SyncError {
  readonly fields: readonly string[];
  constructor(object: string, id: string | undefined, fields: readonly string[]) {
    super(
      'CLINIKO_VALIDATION_FAILED',
      `Cliniko rejected the write to ${object}${id ? ` ${id}` : ''}: invalid field${fields.length === 1 ? '' : 's'} ${
        fields.length > 0 ? fields.join(', ') : '(none named)'
      }`,
      {
        record: {
          system: 'cliniko',
          object,
          ...(id ? { id } : {}),
          ...(fields[0] ? { field: fields[0] } : {}),
        },
        upstreamCode: '422',
      },
    );
    this.name = 'ClinikoValidationError';
    this.fields = fields;
  }
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

type Outcome =
  | { readonly kind: 'ok'; readonly response: JsonResponse }
  | {
      readonly kind: 'retry';
      readonly error: SyncError;
      readonly delayMs?: number;
      readonly rateLimited: boolean;
    }
  | { readonly kind: 'fail'; readonly error: SyncError };

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

  private async attempt(spec: RequestSpec): Promise<Outcome> {
    const object = objectOf(spec.url, this.baseUrl);
    const record = { system: 'cliniko' as const, ...object };
    let status: number;
    let headers: Dispatcher.ResponseData['headers'];
    let text: string;
    try {
      const response = await request(spec.url, {
        dispatcher: this.dispatcher,
        signal: this.closing.signal,
        method: spec.method,
        headers:
          spec.body === undefined ? this.headers : { ...this.headers, 'content-type': 'application/json' },
        ...(spec.body === undefined ? {} : { body: JSON.stringify(spec.body) }),
      });
      status = response.statusCode;
      headers = response.headers;
      text = await response.body.text();
    } catch (err) {
      // Connection refused or reset, socket closed mid-body, header or body time-out.
      const code = (err as { code?: unknown }).code;
      return {
        kind: 'retry',
        rateLimited: false,
        error: new SyncError(
          'CLINIKO_UNAVAILABLE',
          `Cliniko request for ${record.object ?? 'the API'} failed before a complete answer`,
          {
            record,
            upstreamCode: typeof code === 'string' ? code : 'NETWORK',
            cause: err,
          },
        ),
      };
    }
    const serverDate = headerValue(headers, 'date');
    const serverIso =
      serverDate && Number.isFinite(Date.parse(serverDate))
        ? new Date(Date.parse(serverDate)).toISOString()
        : undefined;

    if (status >= 200 && status < 300) {
      let body: unknown = null;
      if (text.trim() !== '') {
        try {
          body = JSON.parse(text);
        } catch (err) {
          return { kind: 'retry', rateLimited: false, error: malformed(record, 'is not valid JSON', err) };
        }
      }
      const problem = spec.validate?.(body);
      if (problem !== undefined)
        return { kind: 'retry', rateLimited: false, error: malformed(record, problem) };
      return { kind: 'ok', response: { status, body, serverDate: serverIso, url: spec.url } };
    }

    const upstreamCode = String(status);
    if (status === 429) {
      const delayMs = rateLimitDelayMs(
        {
          retryAfter: headerValue(headers, 'retry-after'),
          rateLimitReset: headerValue(headers, 'x-ratelimit-reset'),
          date: serverDate,
        },
        this.clock(),
      );
      return {
        kind: 'retry',
        rateLimited: true,
        ...(delayMs === undefined ? {} : { delayMs }),
        error: new SyncError(
          'CLINIKO_RATE_LIMITED',
          `Cliniko kept answering 429 for ${record.object ?? 'the API'}`,
          {
            record,
            upstreamCode,
          },
        ),
      };
    }
    if (status >= 500 || status === 408) {
      return {
        kind: 'retry',
        rateLimited: false,
        error: new SyncError(
          'CLINIKO_UNAVAILABLE',
          `Cliniko answered ${status} for ${record.object ?? 'the API'}`,
          {
            record,
            upstreamCode,
          },
        ),
      };
    }
    const fail = (code: ErrorCode, message: string): Outcome => ({
      kind: 'fail',
      error: new SyncError(code, message, { record, upstreamCode }),
    });
    if (status === 401 || status === 403) {
      return fail(
        'CLINIKO_AUTH_FAILED',
        `Cliniko rejected the API key (${status}); check the key and its shard`,
      );
    }
    if (status === 404)
      return fail(
        'CLINIKO_NOT_FOUND',
        `Cliniko has no ${record.object ?? 'resource'}${record.id ? ` ${record.id}` : ''}`,
      );
    if (status === 422) {
      return {
        kind: 'fail',
        error: new ClinikoValidationError(record.object ?? 'resource', record.id, validationFields(text)),
      };
    }
    return fail(
      'CLINIKO_BAD_REQUEST',
      `Cliniko answered ${status} for ${record.object ?? 'the API'}${upstreamMessage(text)}`,
    );
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

function malformed(
  record: { system: 'cliniko'; object?: string; id?: string },
  problem: string,
  cause?: unknown,
): SyncError {
  return new SyncError(
    'CLINIKO_MALFORMED_RESPONSE',
    `Cliniko's answer for ${record.object ?? 'the API'} ${problem}`,
    {
      record,
      ...(cause === undefined ? {} : { cause }),
    },
  );
}

/** The field names of a 422 body; its messages are dropped because they may quote the rejected value. */
function validationFields(text: string): string[] {
  try {
    const body = JSON.parse(text) as { errors?: unknown };
    if (body.errors && typeof body.errors === 'object' && !Array.isArray(body.errors)) {
      return Object.keys(body.errors).sort();
    }
  } catch {
    // A 422 without the documented body still fails the write; it just names no field.
  }
  return [];
}

/**
 * Cliniko's 400 message (e.g. "This column is not searchable.") helps an operator; it is kept short and
 * only when it is a plain sentence, since our queries never carry patient data.
 */
function upstreamMessage(text: string): string {
  try {
    const body = JSON.parse(text) as { message?: unknown };
    if (typeof body.message === 'string' && body.message.length <= 200) return `: ${body.message}`;
  } catch {
    // Not JSON: say nothing rather than echo an arbitrary page.
  }
  return '';
}

function headerValue(headers: Dispatcher.ResponseData['headers'], name: string): string | undefined {
  const value = headers[name];
  if (Array.isArray(value)) return value[0];
  return typeof value === 'string' ? value : undefined;
}

/** The resource and id a URL addresses (`patients`, `123`), for error records and logs. */
function objectOf(url: string, baseUrl: string): { object?: string; id?: string } {
  try {
    const root = new URL(baseUrl).pathname.replace(/\/+$/, '');
    const rest = new URL(url).pathname
      .slice(root.length)
      .split('/')
      .filter((s) => s !== '');
    const object = rest[0];
    const id = rest[1] !== undefined && /^\d+$/.test(rest[1]) ? rest[1] : undefined;
    return { ...(object ? { object } : {}), ...(id ? { id } : {}) };
  } catch {
    return {};
  }
}

/** Path only: query strings may hold filter values and never go to the log. */
function safePath(url: string): string {
  try {
    return new URL(url).pathname;
  } catch {
    return '(invalid url)';
  }
}
