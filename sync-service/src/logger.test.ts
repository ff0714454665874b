import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, REDACTED, redactDeep } from './logger.js';

function capture(): { lines: () => string[]; stream: Writable } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk.toString('utf8'));
      done();
    },
  });
  return { stream, lines: () => chunks.join('').split('\n').filter(Boolean) };
}

const CANARY = 'CANARY-7f3a9c-clinical';

describe('logger redaction', () => {
  it('redacts secrets and patient fields at any depth, in any spelling', () => {
    const out = capture();
    const log = createLogger({ level: 'trace', destination: out.stream });
    log.info(
      {
        req: { headers: { authorization: 'Basic c2VjcmV0', cookie: 'sid=secret-cookie' } },
        salesforce: { access_token: 'tok-123', refresh_token: 'ref-456', client_secret: 'cs-789' },
        cliniko: { apiKey: 'key-abc-au1' },
        patient: {
          id: '1234567890123456789',
          first_name: 'Zoë',
          last_name: "O'Brien",
          email: 'zoe@example.com',
          date_of_birth: '1980-01-02',
          patient_phone_numbers: [{ number: '0400 000 000', phone_type: 'Mobile' }],
          address_1: '1 Example St',
          notes: CANARY,
        },
        payloads: [
          { FirstName: 'Zoë', LastName: "O'Brien", MobilePhone: '+61400000000', Birthdate: '1980-01-02' },
        ],
        appointment: { notes: CANARY, cancellation_note: CANARY, cancellation_reason: CANARY },
      },
      'record processed',
    );
    const [line] = out.lines();
    expect(line).toBeDefined();
    for (const value of [
      'c2VjcmV0',
      'secret-cookie',
      'tok-123',
      'ref-456',
      'cs-789',
      'key-abc-au1',
      'Zoë',
      "O'Brien",
      'zoe@example.com',
      '1980-01-02',
      '0400 000 000',
      '+61400000000',
      '1 Example St',
      CANARY,
    ]) {
      expect(line).not.toContain(value);
    }
    const parsed = JSON.parse(line!) as { patient: { id: string; first_name: string }; msg: string };
    expect(parsed.patient.id).toBe('1234567890123456789');
    expect(parsed.patient.first_name).toBe(REDACTED);
    expect(parsed.msg).toBe('record processed');
  });

  it('redacts inside errors and child-logger bindings', () => {
    const out = capture();
    const log = createLogger({ level: 'info', destination: out.stream }).child({ module: 'sync' });
    const err = Object.assign(new Error('upsert failed'), {
      record: { email: 'leak@example.com' },
      code: 'X',
    });
    log.error({ err }, 'write failed');
    const line = out.lines()[0]!;
    expect(line).not.toContain('leak@example.com');
    expect(line).toContain('upsert failed');
    expect(line).toContain('"module":"sync"');
  });

  it('leaves operational fields alone and survives cycles', () => {
    const cyclic: Record<string, unknown> = { stream: 'patients', count: 3 };
    cyclic.self = cyclic;
    expect(redactDeep(cyclic)).toEqual({ stream: 'patients', count: 3, self: '[Circular]' });
  });
});
