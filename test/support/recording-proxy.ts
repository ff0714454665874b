import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync, inflateSync } from 'node:zlib';

/**
 * A loopback HTTP proxy that records every byte a client sends to a server, for leak scans. It stands
 * in front of the Salesforce emulator: the client is configured with the proxy's URL, and the proxy
 * rewrites the emulator's own origin to its own in text responses (OAuth `instance_url`, identity
 * URLs), so every later call (REST, collections, Bulk 2.0 uploads) also passes through it.
 *
 * It is independent of the emulator's own request log on purpose: the scan then does not trust the
 * thing under observation to report what it received.
 */

export interface RecordedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  /** The body as received (decompressed when the client compressed it). */
  readonly body: Buffer;
}

export interface RecordingProxy {
  readonly url: string;
  readonly requests: readonly RecordedRequest[];
  /** Every recorded byte (method, URL, headers, body) as one string, for scanning. */
  allText(): string;
  close(): Promise<void>;
}

function decoded(body: Buffer, encoding: string | undefined): Buffer {
  if (encoding === 'gzip') return gunzipSync(body);
  if (encoding === 'deflate') return inflateSync(body);
  return body;
}

export async function startRecordingProxy(target: string): Promise<RecordingProxy> {
  const targetUrl = new URL(target);
  const targetOrigin = targetUrl.origin;
  const requests: RecordedRequest[] = [];
  let ownOrigin = '';

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const encoding = req.headers['content-encoding'];
      requests.push({
        method: req.method ?? 'GET',
        url: req.url ?? '/',
        headers: { ...req.headers },
        body: decoded(body, typeof encoding === 'string' ? encoding : undefined),
      });
      const headers = { ...req.headers, host: targetUrl.host };
      // Plain responses, so origins in them can be rewritten.
      delete headers['accept-encoding'];
      const upstream = httpRequest(
        { hostname: targetUrl.hostname, port: targetUrl.port, method: req.method, path: req.url, headers },
        (up) => {
          const out: Buffer[] = [];
          up.on('data', (chunk: Buffer) => out.push(chunk));
          up.on('end', () => {
            let payload = Buffer.concat(out);
            const type = String(up.headers['content-type'] ?? '');
            if (/json|text|xml/.test(type)) {
              payload = Buffer.from(payload.toString('utf8').split(targetOrigin).join(ownOrigin), 'utf8');
            }
            const responseHeaders = { ...up.headers, 'content-length': String(payload.length) };
            delete responseHeaders['transfer-encoding'];
            res.writeHead(up.statusCode ?? 502, responseHeaders);
            res.end(payload);
          });
          up.on('error', () => res.destroy());
        },
      );
      upstream.on('error', () => {
        res.writeHead(502);
        res.end();
      });
      upstream.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  ownOrigin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url: ownOrigin,
    requests,
    allText: () =>
      requests
        .map((r) => `${r.method} ${r.url}\n${JSON.stringify(r.headers)}\n${r.body.toString('utf8')}`)
        .join('\n'),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
