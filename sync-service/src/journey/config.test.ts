import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { isSyncError } from '../errors.js';
import { appointmentTypeInfo } from './appointment-type.js';
import { DEFAULT_JOURNEY_CONFIG, parseJourneyConfig } from './config.js';

const yamlPath = fileURLToPath(new URL('../../../config/journey.yaml', import.meta.url));
const shipped = readFileSync(yamlPath, 'utf8');

function configError(source: unknown): { message: string; field: string | undefined } {
  try {
    parseJourneyConfig(source);
  } catch (err) {
    if (isSyncError(err)) return { message: err.message, field: err.record?.field };
    throw err;
  }
  throw new Error('expected the config to be rejected');
}

function withThresholds(patch: Record<string, unknown>): unknown {
  const raw = parseYaml(shipped) as { thresholds: Record<string, unknown> };
  return { ...raw, thresholds: { ...raw.thresholds, ...patch } };
}

describe('config/journey.yaml', () => {
  it('parses and equals the built-in defaults', () => {
    expect(parseJourneyConfig(shipped)).toEqual(DEFAULT_JOURNEY_CONFIG);
  });

  it('names the missing key', () => {
    const raw = parseYaml(shipped) as { thresholds: Record<string, unknown> };
    delete raw.thresholds.lapsedAfterDays;
    const { message, field } = configError(raw);
    expect(field).toBe('thresholds.lapsedAfterDays');
    expect(message).toMatch(/thresholds\.lapsedAfterDays: /);
  });

  it('rejects a drop-off threshold at or beyond the lapse threshold, naming it', () => {
    const raw = withThresholds({ lapsedAfterDays: 40 });
    const { message } = configError(raw);
    expect(message).toContain(
      'thresholds.dropOff.longer.maxDays: must be below thresholds.lapsedAfterDays (40)',
    );
  });

  it('rejects tiers out of order and a type that is both initial and excluded', () => {
    const raw = parseYaml(shipped) as Record<string, unknown> & {
      thresholds: { dropOff: { tiers: unknown[] } };
    };
    raw.thresholds.dropOff.tiers = [...raw.thresholds.dropOff.tiers].reverse();
    raw.excludedTypes = ['Initial Appointment'];
    const { message } = configError(raw);
    expect(message).toContain('thresholds.dropOff.tiers[1].maxAverageIntervalDays');
    expect(message).toContain('initialConsultTypes[1]: "Initial Appointment" is also in excludedTypes');
  });

  it('rejects unknown funding sources and padded type names', () => {
    const raw = parseYaml(shipped) as Record<string, unknown>;
    raw.fundingTags = { 'Workcover Initial': 'Workers Comp' };
    raw.initialConsultTypes = ['Initial Appointment '];
    const { message } = configError(raw);
    expect(message).toContain('fundingTags.Workcover Initial');
    expect(message).toContain('initialConsultTypes[0]: must not start or end with spaces');
  });

  it('reports YAML syntax errors as a config problem', () => {
    expect(configError('version: [1').message).toMatch(/not valid YAML/);
  });
});

describe('appointmentTypeInfo (the appointment-type validator)', () => {
  it('an initial consult maps to T1, its workflow and event, with a funding tag when it has one', () => {
    expect(appointmentTypeInfo('Workcover Initial', DEFAULT_JOURNEY_CONFIG)).toMatchObject({
      category: 'initial-consult',
      trigger: 'T1',
      triggerLabel: 'T1 New Initial Consult Booked',
      event: 'Patient_Journey_Event__e',
      workflow: 'New Patient Welcome',
      fundingSource: 'WorkCover',
      nearMatches: [],
    });
    expect(appointmentTypeInfo('Initial Appointment', DEFAULT_JOURNEY_CONFIG)).toMatchObject({
      trigger: 'T1',
      fundingSource: null,
    });
  });

  it('an excluded type fires no T1', () => {
    const info = appointmentTypeInfo('Paediatric New Patient', DEFAULT_JOURNEY_CONFIG);
    expect(info).toMatchObject({ category: 'excluded', trigger: null, event: null });
    expect(info.explanation).toMatch(/does not fire T1/);
  });

  it('an unknown name near a configured one says what it nearly is', () => {
    const info = appointmentTypeInfo('workcover  initial', DEFAULT_JOURNEY_CONFIG);
    expect(info).toMatchObject({ category: 'standard', trigger: null, fundingSource: null });
    expect(info.nearMatches).toEqual(['Workcover Initial']);
    expect(info.explanation).toContain('Did you mean "Workcover Initial"?');
  });

  it('a prototype key is not a funding tag', () => {
    expect(appointmentTypeInfo('constructor', DEFAULT_JOURNEY_CONFIG).fundingSource).toBeNull();
  });
});
