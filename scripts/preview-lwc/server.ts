import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { PREVIEW_COMPONENTS, buildPreview, repoRoot } from './build.js';

const sldsAssets = path.join(repoRoot, 'node_modules/@salesforce-ux/design-system/assets');

const CONTENT_TYPES: Record<string, string> = {
  '.css': 'text/css; charset=utf-8',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

function page(): string {
  const links = PREVIEW_COMPONENTS.map(
    (c) =>
      `<li class="slds-m-right_medium"><a href="/?c=${c.name}">${c.name}</a></li>` +
      (c.name === 'carePlanProgress' || c.name === 'patientJourney'
        ? `<li class="slds-m-right_medium"><a href="/?c=${c.name}&amp;audience=marketing">${c.name} (no billing access)</a></li>`
        : '') +
      (c.name === 'governanceReview'
        ? `<li class="slds-m-right_medium"><a href="/?c=${c.name}&amp;review=draft">${c.name} (resumed draft)</a></li>`
        : ''),
  ).join('');
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>Cliniko Sync LWC preview</title>
    <link rel="stylesheet" href="/assets/styles/salesforce-lightning-design-system.min.css" />
    <style>
      body { background: #f3f3f3; padding: 1rem; }
      main, nav { max-width: 72rem; margin: 0 auto; }
    </style>
  </head>
  <body>
    <nav class="slds-m-bottom_medium" aria-label="Components"><ul class="slds-list_horizontal slds-wrap">
      <li class="slds-m-right_medium"><a href="/">all</a></li>${links}
    </ul></nav>
    <main id="root"></main>
    <script type="module" src="/preview.js"></script>
  </body>
</html>
`;
}

export interface PreviewServer {
  url: string;
  close(): Promise<void>;
}

/**
 * Builds the preview bundle and serves it with SLDS on 127.0.0.1 (port 0 picks a free port).
 * Only loopback is ever bound.
 */
export async function startPreview(port = 0): Promise<PreviewServer> {
  const bundle = await buildPreview();
  const html = page();
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(html);
      return;
    }
    if (url.pathname === '/preview.js') {
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' });
      res.end(bundle);
      return;
    }
    // `/_slds/icons/...` is where Lightning Experience serves the SLDS icon sprites the components use.
    const prefix = ['/assets/', '/_slds/'].find((p) => url.pathname.startsWith(p));
    if (prefix !== undefined) {
      const file = path.resolve(sldsAssets, `.${decodeURIComponent(url.pathname.slice(prefix.length - 1))}`);
      if (!file.startsWith(sldsAssets + path.sep)) {
        res.writeHead(403).end();
        return;
      }
      readFile(file).then(
        (body) => {
          res.writeHead(200, {
            'content-type': CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream',
          });
          res.end(body);
        },
        () => res.writeHead(404).end(),
      );
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const { port: bound } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${bound}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
