import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { USER_AGENT } from './helpers.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const TSX = `${ROOT}node_modules/.bin/tsx`;
/**
 * The emulator as one node process with tsx loaded as a hook. The tsx CLI would be a wrapper that, on
 * SIGTERM, SIGKILLs its child unless it acknowledges within 30 ms, and then exits 143.
 */
const NODE_TSX = [process.execPath, '--import', 'tsx'] as const;

describe('npm run emulator:cliniko (main.ts)', () => {
  it('with --json prints exactly one JSON line {baseUrl, apiKey} first, serves the API, and stops on SIGTERM', async () => {
    const child = spawn(
      NODE_TSX[0],
      [
        ...NODE_TSX.slice(1),
        'test/emulators/cliniko/main.ts',
        '--port',
        '0',
        '--seed',
        '4',
        '--patients',
        '6',
        '--json',
        '--controls',
      ],
      {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    try {
      const lines = createInterface({ input: child.stdout });
      const [first] = (await once(lines, 'line')) as [string];
      const info = JSON.parse(first) as Record<string, unknown>;
      expect(Object.keys(info).sort()).toEqual(['apiKey', 'baseUrl']);
      expect(info.baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/);
      expect(info.apiKey).toMatch(/-au1$/);
      const res = await fetch(`${info.baseUrl as string}/patients?per_page=1`, {
        headers: {
          authorization: `Basic ${Buffer.from(`${info.apiKey as string}:`).toString('base64')}`,
          'user-agent': USER_AGENT,
          accept: 'application/json',
        },
      });
      expect(res.status).toBe(200);
      const controls = await fetch(`${(info.baseUrl as string).replace(/\/v1$/, '')}/__control/clock`);
      expect(controls.status).toBe(200);
    } finally {
      child.kill('SIGTERM');
    }
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(0);
  });

  it('rejects a bad option with exit code 2 and a message', async () => {
    const child = spawn(TSX, ['test/emulators/cliniko/main.ts', '--patients', 'lots'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(2);
    expect(stderr).toContain('--patients must be a non-negative integer');
  });
});
