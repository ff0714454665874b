import { afterEach, describe, expect, it, vi } from 'vitest';
import { runForeground } from './foreground.js';

describe('runForeground', () => {
  afterEach(() => vi.restoreAllMocks());

  it('refuses to start without SYNC_ENCRYPTION_KEY, saying so, with exit code 1', async () => {
    const errors: string[] = [];
    vi.spyOn(console, 'error').mockImplementation((line: unknown) => void errors.push(String(line)));
    const code = await runForeground({
      LOG_LEVEL: 'silent',
      CLINIKO_API_KEY: 'MS0xLTEyMzQ1Njc4OTAtYWJjZGVmZ2hpams-au1',
      CLINIKO_CONTACT_EMAIL: 'ops@clinic.example',
      SALESFORCE_CLIENT_ID: 'id',
      SALESFORCE_CLIENT_SECRET: 'secret',
    });
    expect(code).toBe(1);
    expect(errors.join('\n')).toMatch(/^ENCRYPTION_KEY_MISSING: SYNC_ENCRYPTION_KEY is not set/);
  });

  it('lists configuration problems by variable and exits 1', async () => {
    const errors: string[] = [];
    vi.spyOn(console, 'error').mockImplementation((line: unknown) => void errors.push(String(line)));
    expect(await runForeground({})).toBe(1);
    expect(errors.join('\n')).toMatch(/CLINIKO_API_KEY/);
  });
});
