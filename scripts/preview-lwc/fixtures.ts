import { readFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * The recorded fixtures the preview serves: the same JSON files the components' Jest tests use, so
 * the preview and the tests agree on what the platform returns.
 */
const FILES = {
  carePlans: 'carePlanProgress/__tests__/data/carePlans.json',
  carePlansNoBilling: 'carePlanProgress/__tests__/data/carePlansNoBilling.json',
  contact: 'patientJourney/__tests__/data/contact.json',
  contactNoBilling: 'patientJourney/__tests__/data/contactNoBilling.json',
  transitionsPage1: 'patientJourney/__tests__/data/transitionsPage1.json',
  transitionsPage2: 'patientJourney/__tests__/data/transitionsPage2.json',
  snapshots: 'consentReconciliation/__tests__/data/snapshots.json',
  governanceData: 'governanceReview/__tests__/data/governanceData.json',
  dataMap: 'dataMapViewer/__tests__/data/dataMap.json',
  fieldHistory: 'governanceReview/__tests__/data/fieldHistory.json',
} as const;

export async function loadFixtures(lwcRoot: string): Promise<Record<string, unknown>> {
  const entries = await Promise.all(
    Object.entries(FILES).map(async ([key, file]) => {
      const full = path.join(lwcRoot, file);
      try {
        return [key, JSON.parse(await readFile(full, 'utf8')) as unknown] as const;
      } catch (error) {
        throw new Error(`preview fixture ${key} (${full}) could not be read: ${(error as Error).message}`);
      }
    }),
  );
  const fixtures: Record<string, unknown> = Object.fromEntries(entries);
  fixtures.apex = {
    'ClinikoGovernanceController.getDataMap': fixtures.dataMap,
    'ClinikoGovernanceController.getFieldHistory': fixtures.fieldHistory,
  };
  return fixtures;
}
