/** Shared helpers for the emulator's own tests: a tiny HTTP client speaking Cliniko's transport rules. */
import http from 'node:http';
import type { ClinikoEmulator } from './index.js';

export const USER_AGENT = 'GovernedSyncTests (tests@northside-chiro.example)';

export interface CallOptions {
  key?: string | null;
  userAgent?: string | null;
  accept?: string | null;
  method?: string;
  body?: unknown;
}

export interface CallResult {
  status: number;
  headers: Headers;
  text: string;
  json: unknown;
}

/** Call a path under the API base (or an absolute URL) with valid defaults for auth, UA and Accept. */
export async function call(emu: ClinikoEmulator, path: string, opts: CallOptions = {}): Promise<CallResult> {
  const headers: Record<string, string> = {};
  const key = opts.key === undefined ? emu.apiKey : opts.key;
  if (key !== null) headers.authorization = `Basic ${Buffer.from(`${key}:`).toString('base64')}`;
  const ua = opts.userAgent === undefined ? USER_AGENT : opts.userAgent;
  if (ua !== null) headers['user-agent'] = ua;
  const accept = opts.accept === undefined ? 'application/json' : opts.accept;
  if (accept !== null) headers.accept = accept;
  let body: string | undefined;
  if (opts.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(opts.body);
  }
  const url = path.startsWith('http') ? path : `${emu.baseUrl}${path}`;
  const res = await fetch(url, { method: opts.method ?? 'GET', headers, body });
  const text = await res.text();
  let json: unknown = undefined;
  if ((res.headers.get('content-type') ?? '').includes('json') && text !== '') json = JSON.parse(text);
  return { status: res.status, headers: res.headers, text, json };
}

export async function getJson<T = Record<string, unknown>>(emu: ClinikoEmulator, path: string): Promise<T> {
  const r = await call(emu, path);
  if (r.status !== 200) throw new Error(`GET ${path} -> ${r.status}: ${r.text.slice(0, 200)}`);
  return r.json as T;
}

export interface ListBody {
  total_entries: number;
  links: { self: string; next?: string; previous?: string };
  [plural: string]: unknown;
}

/** Follow links.next from a first page and collect every record of the list. */
export async function walk(
  emu: ClinikoEmulator,
  path: string,
  plural: string,
): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  let next: string | undefined = path;
  while (next) {
    const body: ListBody = await getJson<ListBody>(emu, next);
    out.push(...(body[plural] as Record<string, unknown>[]));
    next = body.links.next;
  }
  return out;
}

export function enc(filter: string): string {
  return `q%5B%5D=${encodeURIComponent(filter)}`;
}

/**
 * GET with exactly the given headers. fetch() adds `Accept: *\/*` on its own, so tests of a missing
 * Accept header go through node:http instead.
 */
export function rawGet(
  url: string,
  headers: Record<string, string>,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'GET', headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

export function basic(key: string): string {
  return `Basic ${Buffer.from(`${key}:`).toString('base64')}`;
}
