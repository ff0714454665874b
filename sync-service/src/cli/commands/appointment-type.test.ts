import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { SyncError } from '../../errors.js';
import { appointmentTypeInfo, DEFAULT_JOURNEY_CONFIG } from '../../journey/index.js';
import { createLogger } from '../../logger.js';
import { COMMANDS } from '../registry.js';
import type { CliContext } from '../types.js';
import { appointmentTypeCommand } from './appointment-type.js';

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'appointment-type-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A CLI context with no secrets at all: the command must not ask for config() or service(). */
function context(env: Record<string, string> = {}, rootDir = repoRoot) {
  const lines: string[] = [];
  const ctx: CliContext = {
    env,
    config: () => {
      throw new Error('appointment-type must not load the service config');
    },
    logger: () => createLogger({ level: 'silent' }),
    service: () => Promise.reject(new Error('appointment-type must not connect anywhere')),
    print: (line) => lines.push(line),
    tty: false,
    rootDir,
  };
  return { ctx, lines, text: () => lines.join('\n') };
}

async function run(args: string[], env: Record<string, string> = {}, rootDir = repoRoot) {
  const c = context(env, rootDir);
  const code = await appointmentTypeCommand.run(args, c.ctx);
  return { code, text: c.text() };
}

describe('npm run sync -- appointment-type', () => {
  it('is registered', () => {
    expect(COMMANDS.map((c) => c.name)).toContain('appointment-type');
  });

  it('an initial consult: T1, its workflow, the platform event and the funding tag', async () => {
    const { code, text } = await run(['Workcover Initial']);
    expect(code).toBe(0);
    expect(text).toContain('category:         initial consult');
    expect(text).toContain('trigger:          T1 New Initial Consult Booked');
    expect(text).toContain('event:            Patient_Journey_Event__e');
    expect(text).toContain('workflow:         New Patient Welcome');
    expect(text).toContain('funding tag:      WorkCover');
    expect(text).toContain('T3 No-Show');
    expect(text).toContain('Missed Appointment');
  });

  it('the excluded paediatric type fires no T1', async () => {
    const { code, text } = await run(['Paediatric New Patient']);
    expect(code).toBe(0);
    expect(text).toContain('excluded from initial consults');
    expect(text).toContain('trigger:          none of its own');
    expect(text).toContain('does not fire T1');
  });

  it('a typo is explained with the configured name it nearly is, and still exits 0', async () => {
    const { code, text } = await run(['Initial Apointment']);
    expect(code).toBe(0);
    expect(text).toContain('not an initial consult (not in the config)');
    expect(text).toContain('did you mean:     "Initial Appointment"');
    expect(text).toContain('Names match exactly');
  });

  it('a name split by the shell (forgotten quotes) is joined back', async () => {
    const { text } = await run(['TAC', 'Initial']);
    expect(text).toContain('appointment type: "TAC Initial"');
    expect(text).toContain('funding tag:      TAC');
  });

  it('--json prints exactly what GET /appointment-types/validate returns', async () => {
    const { code, text } = await run(['--json', 'Decompression New Patient']);
    expect(code).toBe(0);
    expect(JSON.parse(text)).toEqual(
      appointmentTypeInfo('Decompression New Patient', DEFAULT_JOURNEY_CONFIG),
    );
  });

  it('reads JOURNEY_CONFIG_PATH, not the built-in defaults', async () => {
    const file = join(scratch, 'journey.yaml');
    writeFileSync(
      file,
      [
        'version: 1',
        'initialConsultTypes: [New Client Assessment]',
        'fundingTags: { New Client Assessment: DVA }',
        'thresholds:',
        '  dropOff:',
        '    tiers: [{ maxAverageIntervalDays: 10, afterDays: 14 }]',
        '    longer: { multiplier: 1.5, minDays: 30, maxDays: 42 }',
        '    singleVisitDays: 14',
        '  lapsedAfterDays: 45',
        '  noShowNurtureDays: 10',
        '  maintenanceReminderPercent: 80',
        'workflows: { T1: Custom Welcome }',
      ].join('\n'),
    );
    const custom = await run(['New Client Assessment'], { JOURNEY_CONFIG_PATH: file });
    expect(custom.text).toContain('workflow:         Custom Welcome');
    expect(custom.text).toContain('funding tag:      DVA');
    const standard = await run(['Initial Appointment'], { JOURNEY_CONFIG_PATH: file });
    expect(standard.text).toContain('trigger:          none of its own');
  });

  it('a missing or invalid config file is a CONFIG_INVALID error naming the file', async () => {
    const missing = join(scratch, 'nope.yaml');
    const error: unknown = await run(['Initial Appointment'], { JOURNEY_CONFIG_PATH: missing }).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(SyncError);
    expect((error as SyncError).code).toBe('CONFIG_INVALID');
    expect((error as SyncError).message).toContain(missing);
    const broken = join(scratch, 'broken.yaml');
    writeFileSync(broken, 'version: 1\ninitialConsultTypes: []\n');
    await expect(run(['Initial Appointment'], { JOURNEY_CONFIG_PATH: broken })).rejects.toBeInstanceOf(
      SyncError,
    );
  });

  it('no name, or an unknown option, prints the usage and exits 2', async () => {
    expect((await run([])).code).toBe(2);
    const bad = await run(['--verbose', 'Initial Appointment']);
    expect(bad.code).toBe(2);
    expect(bad.text).toContain('unknown option --verbose');
  });
});

describe('appointmentTypeInfo typo suggestions', () => {
  it.each([
    ['Initial Appointments', ['Initial Appointment']],
    ['initial appointment', ['Initial Appointment']],
    ['TAC Intial', ['TAC Initial']],
    ['Paediatric New Pateint', ['Paediatric New Patient']],
    ['Standard Follow Up', []],
    ['Initial Appointment', []],
  ])('%s -> %j', (name, near) => {
    expect(appointmentTypeInfo(name, DEFAULT_JOURNEY_CONFIG).nearMatches).toEqual(near);
  });

  it('lists the type-independent triggers with their workflows', () => {
    const info = appointmentTypeInfo('Standard Follow Up', DEFAULT_JOURNEY_CONFIG);
    expect(info.configured).toBe(false);
    expect(info.alsoFires.map((t) => `${t.trigger}:${t.workflow ?? ''}`)).toEqual([
      'T2:Started Care Follow-Up',
      'T3:Missed Appointment',
      'T4:Cancellation Follow-Up',
      'T7:Reactivated - Stop Funnels',
    ]);
  });
});
