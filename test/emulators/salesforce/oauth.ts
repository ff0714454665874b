/**
 * OAuth 2.0 and identity: the token endpoint (client credentials, JWT bearer, refresh token), token
 * revocation, the identity URL and OpenID Connect UserInfo. Session and JWT mechanics are in auth.ts; the token endpoint's
 * failures are answered in OAuth's own shape by the error handler in http.ts.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Sessions } from './auth.js';
import { OAuthError, tokenSignature, verifyJwtAssertion } from './auth.js';
import type { Clock, Org } from './org.js';

export interface OAuthDeps {
  org: Org;
  sessions: Sessions;
  clock: Clock;
  clientId: string;
  clientSecret: string;
  /** The connected app's certificate for the JWT bearer flow. */
  certificatePem: string;
  /** The server's own URL, known once it listens. */
  baseUrl: () => string;
}

type TokenBody = Record<string, string>;

/** The user a bearer token in the Authorization header belongs to, if it is valid. */
export function authenticate(sessions: Sessions, request: FastifyRequest): string | undefined {
  const header = request.headers.authorization ?? '';
  const m = /^(?:Bearer|OAuth)\s+(.+)$/i.exec(header);
  return m?.[1] ? sessions.resolve(m[1].trim()) : undefined;
}

function tokenResponse(deps: OAuthDeps, userId: string) {
  const baseUrl = deps.baseUrl();
  const issuedAt = String(deps.clock.now().getTime());
  const id = `${baseUrl}/id/${deps.org.orgId}/${userId}`;
  return {
    access_token: deps.sessions.issue(userId),
    signature: tokenSignature(deps.clientSecret, id, issuedAt),
    scope: 'api',
    instance_url: baseUrl,
    id,
    token_type: 'Bearer',
    issued_at: issuedAt,
  };
}

/** The user a token request authenticates, by grant type; OAuthError when it does not. */
function grantUser(deps: OAuthDeps, body: TokenBody): string {
  const { clientId, clientSecret } = deps;
  switch (body.grant_type) {
    case 'client_credentials': {
      if (body.client_id !== clientId) throw new OAuthError('invalid_client_id', 'client identifier invalid');
      if (body.client_secret !== clientSecret)
        throw new OAuthError('invalid_client', 'invalid client credentials');
      return deps.org.integrationUser.id;
    }
    case 'urn:ietf:params:oauth:grant-type:jwt-bearer': {
      const username = verifyJwtAssertion(body.assertion ?? '', {
        certificatePem: deps.certificatePem,
        clientId,
        audiences: [deps.baseUrl(), 'https://login.salesforce.com', 'https://test.salesforce.com'],
        now: deps.clock.now(),
      });
      const user = deps.org.userByUsername(username);
      if (!user) throw new OAuthError('invalid_grant', "user hasn't approved this consumer");
      return user.id;
    }
    case 'refresh_token': {
      if (body.client_id !== clientId) throw new OAuthError('invalid_client_id', 'client identifier invalid');
      if (body.client_secret !== undefined && body.client_secret !== clientSecret) {
        throw new OAuthError('invalid_client', 'invalid client credentials');
      }
      const userId = deps.sessions.userForRefreshToken(body.refresh_token ?? '');
      if (!userId) throw new OAuthError('invalid_grant', 'expired access/refresh token');
      return userId;
    }
    default:
      throw new OAuthError('unsupported_grant_type', 'grant type not supported');
  }
}

export function registerOAuthRoutes(app: FastifyInstance, deps: OAuthDeps): void {
  app.post<{ Body: TokenBody | undefined }>('/services/oauth2/token', (request) =>
    tokenResponse(deps, grantUser(deps, request.body ?? {})),
  );

  app.post<{ Body: TokenBody | undefined }>('/services/oauth2/revoke', async (request, reply) => {
    deps.sessions.revoke(request.body?.token ?? '');
    return reply.code(200).send();
  });

  // OpenID Connect UserInfo (what `sf org login access-token` asks first): the token's own user, in the
  // OIDC claim names Salesforce uses; 403 Bad_OAuth_Token as plain text for a bad token, as Salesforce.
  const userInfo = async (request: FastifyRequest, reply: FastifyReply) => {
    const { org } = deps;
    const caller = authenticate(deps.sessions, request);
    const user = caller ? org.users.get(caller) : undefined;
    if (!user) return reply.code(403).send('Bad_OAuth_Token');
    const baseUrl = deps.baseUrl();
    const rest = `${baseUrl}/services/data/v{version}/`;
    return {
      sub: `${baseUrl}/id/${org.orgId}/${user.id}`,
      user_id: user.id,
      organization_id: org.orgId,
      preferred_username: user.username,
      nickname: user.username.split('@')[0],
      name: `${user.firstName} ${user.lastName}`,
      email: user.email,
      email_verified: true,
      given_name: user.firstName,
      family_name: user.lastName,
      zoneinfo: 'Australia/Sydney',
      profile: `${baseUrl}/${user.id}`,
      active: true,
      user_type: 'STANDARD',
      language: 'en_US',
      locale: 'en_AU',
      utcOffset: 36_000_000,
      urls: {
        rest,
        sobjects: `${rest}sobjects/`,
        query: `${rest}query/`,
        limits: `${rest}limits/`,
        profile: `${baseUrl}/${user.id}`,
      },
      is_app_installed: true,
    };
  };
  app.get('/services/oauth2/userinfo', userInfo);
  app.post('/services/oauth2/userinfo', userInfo);

  app.get<{ Params: { orgId: string; userId: string } }>('/id/:orgId/:userId', async (request, reply) => {
    const { org } = deps;
    const caller = authenticate(deps.sessions, request);
    if (!caller) return reply.code(403).send('Bad_OAuth_Token');
    const user = org.users.get(request.params.userId);
    if (!user || request.params.orgId !== org.orgId) return reply.code(404).send('Not Found');
    const baseUrl = deps.baseUrl();
    const rest = `${baseUrl}/services/data/v{version}/`;
    return {
      id: `${baseUrl}/id/${org.orgId}/${user.id}`,
      asserted_user: true,
      user_id: user.id,
      organization_id: org.orgId,
      username: user.username,
      nick_name: user.username.split('@')[0],
      display_name: `${user.firstName} ${user.lastName}`,
      email: user.email,
      active: true,
      user_type: 'STANDARD',
      language: 'en_US',
      locale: 'en_AU',
      utcOffset: 36_000_000,
      urls: {
        rest,
        sobjects: `${rest}sobjects/`,
        query: `${rest}query/`,
        limits: `${rest}limits/`,
        profile: `${baseUrl}/${user.id}`,
      },
      is_app_installed: true,
    };
  });
}
