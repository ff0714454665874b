import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../config/index.js';
import { createLogger } from '../logger.js';
import { connectSalesforce } from './connection.js';

/**
 * The token endpoint's answers decide whether a failed grant is a passing outage (retried, so the
 * outbox keeps its writes) or a refusal (a configuration problem). A tiny local token endpoint plays
 * each answer.
 */
let server: Server;
let answer: { status: number; body: string } = { status: 200, body: '{}' };

beforeAll(async () => {
  server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      response.writeHead(answer.status, { 'content-type': 'application/json' });
      response.end(answer.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function config(): Config['salesforce'] {
  const { port } = server.address() as AddressInfo;
  return {
    loginUrl: `http://127.0.0.1:${port}`,
    apiVersion: '66.0',
    auth: { kind: 'client_credentials', clientId: 'client', clientSecret: 'secret-value' },
  } as unknown as Config['salesforce'];
}

async function failure(): Promise<unknown> {
  return connectSalesforce(config(), createLogger({ level: 'silent', pretty: false })).then(
    () => undefined,
    (err: unknown) => err,
  );
}

describe('Salesforce token grant failures', () => {
  it('a token endpoint that is down is a retryable outage', async () => {
    answer = { status: 503, body: '<html>Service Unavailable</html>' };
    expect(await failure()).toMatchObject({ code: 'SALESFORCE_UNAVAILABLE', retryable: true });
  });

  it("Salesforce's own 'retry your request' answer is retryable too", async () => {
    answer = { status: 400, body: '{"error":"unknown_error","error_description":"retry your request"}' };
    expect(await failure()).toMatchObject({ code: 'SALESFORCE_UNAVAILABLE', retryable: true });
  });

  it('a refused grant is an authentication failure, without the secret in the message', async () => {
    answer = {
      status: 400,
      body: '{"error":"invalid_client","error_description":"invalid client credentials"}',
    };
    const err = await failure();
    expect(err).toMatchObject({
      code: 'SALESFORCE_AUTH_FAILED',
      retryable: false,
      upstreamCode: 'invalid_client',
    });
    expect((err as Error).message).not.toContain('secret-value');
  });
});
