/**
 * Helpers for tests that drive the emulator: a JWT bearer assertion signer (what a client such as the
 * sync service builds) and a small client for the /__emulator/ controls.
 */
import { createSign } from 'node:crypto';

export interface JwtClaims {
  iss: string;
  sub: string;
  aud: string;
  /** Seconds since the epoch. */
  exp: number;
}

export function signJwt(claims: JwtClaims, privateKeyPem: string): string {
  const encode = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const unsigned = `${encode({ alg: 'RS256', typ: 'JWT' })}.${encode(claims)}`;
  const signature = createSign('RSA-SHA256').update(unsigned).sign(privateKeyPem).toString('base64url');
  return `${unsigned}.${signature}`;
}

/** Calls a control route and returns the parsed JSON; throws on a non-2xx answer. */
export async function control<T = unknown>(
  baseUrl: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<T> {
  const response = await fetch(`${baseUrl}/__emulator/${path}`, {
    method,
    ...(body !== undefined
      ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }
      : {}),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} /__emulator/${path}: ${response.status} ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}
