import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CATALOGUE_PATH, DEFAULT_SPEC_PATH, renderCatalogue } from './generate-cliniko-fields.js';

describe('config/cliniko-fields.json', () => {
  it('matches what the official Cliniko OpenAPI document declares', async () => {
    expect(
      existsSync(DEFAULT_SPEC_PATH),
      `${DEFAULT_SPEC_PATH} (the reference contract) must sit beside the repo`,
    ).toBe(true);
    expect(readFileSync(CATALOGUE_PATH, 'utf8')).toBe(await renderCatalogue(DEFAULT_SPEC_PATH));
  });

  it('knows the patient fields the data map relies on', () => {
    const catalogue = JSON.parse(readFileSync(CATALOGUE_PATH, 'utf8')) as {
      resources: Record<string, string[]>;
    };
    expect(catalogue.resources.patients).toEqual(
      expect.arrayContaining(['first_name', 'email', 'notes', 'patient_phone_numbers']),
    );
    expect(catalogue.resources.individual_appointments).toEqual(
      expect.arrayContaining(['starts_at', 'cancellation_note']),
    );
  });
});
