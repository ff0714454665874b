import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The recorded fixtures the preview serves: the same JSON files the components' Jest tests use, so
 * the preview and the tests agree on what the platform returns. Two small files of the preview's own
 * (`data/`) complete the governance review where the Jest suites record its parts separately.
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
  dataMapShapes: 'governanceReview/__tests__/data/dataMapSignoff.json',
  fieldHistory: 'governanceReview/__tests__/data/fieldHistory.json',
  sampledContacts: 'governanceReview/__tests__/data/sampledContacts.json',
  contactObjectInfo: 'governanceReview/__tests__/data/contactObjectInfo.json',
} as const;

/**
 * The preview's own: the nightly access picture's findings for the 2026-Q4 review (Gained, Lost and
 * two Outside Audience flags, one resolved; `governanceAccessItem`'s fixture records the same shapes
 * for a later quarter), and this quarter's draft review whose saved sample names a Contact deleted
 * since (merged), which the `?review=draft` view resumes.
 */
const PREVIEW_FILES = {
  accessFindings: 'data/accessFindings.json',
  draftReview: 'data/draftReview.json',
} as const;

/**
 * The time the governance fixtures were recorded (the Jest suites' `NOW`). The preview page pins
 * `Date.now()` to it so the review opens in the quarter its data belongs to (2026-Q4) on any date:
 * the audit verification counts as "this quarter" and the quarter's summary shows.
 */
export const PREVIEW_NOW = '2026-11-22T10:00:00.000Z';

/** The preview's locale and time zone unless the URL says otherwise (`&locale=de-DE&timeZone=...`). */
export const PREVIEW_LOCALE = 'en-AU';
export const PREVIEW_TIME_ZONE = 'Australia/Sydney';

type Json = Record<string, unknown>;
interface Edges {
  edges: Array<{ node: Json }>;
}
interface GovernanceData {
  uiapi: { query: Record<string, Edges> };
}
interface MapEntry {
  developerName?: string;
  targetObject?: string | null;
  targetField?: string | null;
  shape?: string | null;
}

async function readJson(file: string, key: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as unknown;
  } catch (error) {
    throw new Error(`preview fixture ${key} (${file}) could not be read: ${(error as Error).message}`);
  }
}

/**
 * One `getDataMap` answer for both callers, as the org has one set of custom metadata: the viewer's
 * recorded entries (every classification, clinician-only included) with the shapes the review's
 * recorded entries declare, plus the review's entries the viewer's recording lacks.
 */
function mergeDataMaps(
  viewer: { entries: MapEntry[]; signoff: unknown },
  review: { entries: MapEntry[] },
): Json {
  const keyOf = (e: MapEntry): string =>
    e.targetObject && e.targetField ? `${e.targetObject}.${e.targetField}` : `dev:${e.developerName ?? ''}`;
  const shapes = new Map(review.entries.map((e) => [keyOf(e), e]));
  const entries = viewer.entries.map((e) => ({
    ...e,
    shape: shapes.get(keyOf(e))?.shape ?? e.shape ?? null,
  }));
  const seen = new Set(entries.map(keyOf));
  return {
    signoff: viewer.signoff,
    entries: [...entries, ...review.entries.filter((e) => !seen.has(keyOf(e)))],
  };
}

/**
 * The review's GraphQL answer: the recorded one with the access picture's findings beside its
 * permission-set assignment changes (newest first, as the query orders them), and for the draft view
 * this quarter's draft before the signed reviews (the query orders by CreatedDate, newest first).
 */
function governanceViews(recorded: GovernanceData, findings: Json[], draft: Json): Json {
  const detected = (n: Json): string =>
    String((n.Detected_At__c as { value?: string } | undefined)?.value ?? '');
  const withFindings = structuredClone(recorded);
  const query = withFindings.uiapi.query;
  const changes = [...findings, ...(query.Access_Change__c?.edges ?? []).map((e) => e.node)];
  changes.sort((a, b) => detected(b).localeCompare(detected(a)));
  query.Access_Change__c = { edges: changes.map((node) => ({ node })) };
  const withDraft = structuredClone(withFindings);
  const reviews = withDraft.uiapi.query.Governance_Review__c?.edges ?? [];
  withDraft.uiapi.query.Governance_Review__c = { edges: [{ node: draft }, ...reviews] };
  return { governanceData: withFindings, governanceDataDraft: withDraft };
}

export async function loadFixtures(lwcRoot: string): Promise<Json> {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const read = async (key: string, file: string): Promise<readonly [string, unknown]> => [
    key,
    await readJson(file, key),
  ];
  const entries = await Promise.all([
    ...Object.entries(FILES).map(([key, file]) => read(key, path.join(lwcRoot, file))),
    ...Object.entries(PREVIEW_FILES).map(([key, file]) => read(key, path.join(here, file))),
  ]);
  const fixtures: Json = Object.fromEntries(entries);
  Object.assign(
    fixtures,
    governanceViews(
      fixtures.governanceData as GovernanceData,
      fixtures.accessFindings as Json[],
      fixtures.draftReview as Json,
    ),
  );
  fixtures.apex = {
    'ClinikoGovernanceController.getDataMap': mergeDataMaps(
      fixtures.dataMap as { entries: MapEntry[]; signoff: unknown },
      fixtures.dataMapShapes as { entries: MapEntry[] },
    ),
    'ClinikoGovernanceController.getFieldHistory': fixtures.fieldHistory,
  };
  return fixtures;
}
