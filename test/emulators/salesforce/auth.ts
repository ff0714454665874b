/**
 * OAuth 2.0 as a Salesforce org's token endpoint speaks it: client credentials (the connected app's
 * run-as user), the JWT bearer flow (RS256 assertion checked against the connected app's certificate,
 * with iss/sub/aud/exp), and refresh tokens. Access tokens expire after a configurable lifetime on the
 * emulator's clock; an expired token gets 401 INVALID_SESSION_ID, which is what sends jsforce down its
 * refresh path.
 */
import {
  createHmac,
  createPublicKey,
  randomBytes,
  verify,
  X509Certificate,
  type KeyObject,
} from 'node:crypto';
import type { Clock } from './org.js';

export class OAuthError extends Error {
  constructor(
    readonly error: string,
    readonly description: string,
    readonly status = 400,
  ) {
    super(description);
  }
}

interface Session {
  userId: string;
  expiresAtMs: number;
}

export class Sessions {
  private readonly tokens = new Map<string, Session>();
  private readonly refreshTokens = new Map<string, string>();

  constructor(
    private readonly clock: Clock,
    private readonly orgId: string,
    public lifetimeSeconds: number,
  ) {}

  issue(userId: string): string {
    // The real shape: `<org id 15>!<opaque>`.
    const token = `${this.orgId.slice(0, 15)}!${randomBytes(48).toString('base64url')}`;
    this.tokens.set(token, { userId, expiresAtMs: this.clock.now().getTime() + this.lifetimeSeconds * 1000 });
    return token;
  }

  /** The user behind a live token, or undefined (unknown, expired or revoked). */
  resolve(token: string): string | undefined {
    const session = this.tokens.get(token);
    if (!session) return undefined;
    if (session.expiresAtMs <= this.clock.now().getTime()) {
      this.tokens.delete(token);
      return undefined;
    }
    return session.userId;
  }

  revoke(token: string): void {
    this.tokens.delete(token);
    this.refreshTokens.delete(token);
  }

  /** Forced expiry of every access token (refresh tokens stay valid, as after a session timeout). */
  expireAll(): number {
    const n = this.tokens.size;
    this.tokens.clear();
    return n;
  }

  mintRefreshToken(userId: string): string {
    const token = `5Aep${randomBytes(40).toString('base64url')}`;
    this.refreshTokens.set(token, userId);
    return token;
  }

  userForRefreshToken(token: string): string | undefined {
    return this.refreshTokens.get(token);
  }
}

function b64urlJson(part: string, what: string): Record<string, unknown> {
  try {
    const parsed = JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as unknown;
    if (typeof parsed !== 'object' || parsed === null) throw new Error('not an object');
    return parsed as Record<string, unknown>;
  } catch {
    throw new OAuthError('invalid_grant', `invalid assertion: the ${what} is not base64url JSON`);
  }
}

export interface JwtCheck {
  certificatePem: string;
  clientId: string;
  audiences: string[];
  now: Date;
}

/** Verifies a JWT bearer assertion; returns the `sub` (a username). */
export function verifyJwtAssertion(assertion: string, check: JwtCheck): string {
  const parts = assertion.split('.');
  if (parts.length !== 3) throw new OAuthError('invalid_grant', 'invalid assertion: not a JWT');
  const [h = '', p = '', s = ''] = parts;
  const header = b64urlJson(h, 'header');
  if (header.alg !== 'RS256')
    throw new OAuthError('invalid_grant', `invalid assertion: alg must be RS256, got ${String(header.alg)}`);
  let key: KeyObject;
  try {
    key = new X509Certificate(check.certificatePem).publicKey;
  } catch {
    key = createPublicKey(check.certificatePem);
  }
  const ok = verify('sha256', Buffer.from(`${h}.${p}`), key, Buffer.from(s, 'base64url'));
  if (!ok)
    throw new OAuthError(
      'invalid_grant',
      'invalid assertion: signature does not verify against the certificate',
    );
  const claims = b64urlJson(p, 'payload');
  if (claims.iss !== check.clientId) throw new OAuthError('invalid_client_id', 'client identifier invalid');
  const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  const normalise = (u: unknown) => String(u).replace(/\/+$/, '');
  if (!aud.some((a) => check.audiences.map(normalise).includes(normalise(a)))) {
    throw new OAuthError(
      'invalid_grant',
      `audience is invalid: expected one of ${check.audiences.join(', ')}`,
    );
  }
  if (typeof claims.exp !== 'number')
    throw new OAuthError('invalid_grant', 'invalid assertion: exp is missing');
  if (claims.exp * 1000 <= check.now.getTime())
    throw new OAuthError('invalid_grant', 'expired authorization code');
  if (typeof claims.sub !== 'string' || claims.sub === '')
    throw new OAuthError('invalid_grant', 'invalid assertion: sub is missing');
  return claims.sub;
}

/** The `signature` field of a token response: HMAC-SHA256 of id + issued_at, keyed by the client secret. */
export function tokenSignature(secret: string, identityUrl: string, issuedAt: string): string {
  return createHmac('sha256', secret)
    .update(identityUrl + issuedAt)
    .digest('base64');
}
