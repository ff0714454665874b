import { describe, expect, it } from 'vitest';
import { parseDataMap, type DataMap } from './data-map.js';
import { CoverageCollector, coverage } from './coverage.js';
import { FIXTURE_LOOKUPS, FIXTURE_MAP } from './test-fixtures.js';

function fixtureMap(): DataMap {
  const result = parseDataMap(FIXTURE_MAP, FIXTURE_LOOKUPS);
  if (!result.ok) throw new Error('fixture map invalid');
  return result.map;
}

describe('coverage', () => {
  it('lists fields seen in payloads that the map does not mention, with counts and no values', () => {
    const report = coverage(
      {
        patients: [
          { id: '1', email: 'a@example.com', notes: 'clinical', pronouns: { nominative: 'she' } },
          { id: '2', pronouns: null, occupation: 'Nurse' },
        ],
        individual_appointments: [{ id: '9', telehealth_url: 'https://x' }],
        group_appointments: [{ id: '3' }],
      },
      fixtureMap(),
    );
    expect(report).toEqual({
      recordsSeen: { group_appointments: 1, individual_appointments: 1, patients: 2 },
      unmappedResources: ['group_appointments'],
      gaps: [
        { resource: 'group_appointments', field: 'id', records: 1 },
        { resource: 'individual_appointments', field: 'telehealth_url', records: 1 },
        { resource: 'patients', field: 'occupation', records: 1 },
        { resource: 'patients', field: 'pronouns', records: 2 },
      ],
    });
    expect(JSON.stringify(report)).not.toContain('Nurse');
  });

  it('clinician-only entries count as mentioned (classified, deliberately not shared)', () => {
    const collector = new CoverageCollector(fixtureMap());
    collector.add('patients', { id: '1', notes: 'x', appointment_notes: 'y', medicare: 'z' });
    collector.add('patients', 'not an object');
    expect(collector.report()).toEqual({ recordsSeen: { patients: 2 }, unmappedResources: [], gaps: [] });
  });
});
