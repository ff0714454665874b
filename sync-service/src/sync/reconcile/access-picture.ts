import {
  accessDiff,
  computeAccessPicture,
  outsideAudience,
  type AccessFinding,
  type AccessPicture,
} from '../../governance/access-picture.js';
import { AUDIENCES_BY_CLASSIFICATION } from '../../governance/access-lattice.js';
import { sha256Hex } from '../../governance/canonical.js';
import { readSetupRows, syncedFields } from './access-read.js';
import type { ReconcileContext } from './context.js';
import { ACCESS_PICTURE_KEY, type AccessPictureReport, type StoredAccessPicture } from './types.js';

/**
 * The access picture (docs/reconciliation.md, "The access picture"): who can read each synced field
 * tonight and through what, compared with the picture current when the last governance review was
 * signed (the first picture ever taken when no review is signed yet). Each finding, per user and field
 * class (gained, lost, read outside the user's audience), is one Access_Change__c row for that review
 * period, upserted by key: written when it appears or changes, stamped Resolved_At__c when it no
 * longer holds. The computation is governance/access-picture.ts; this file reads and writes.
 */
export async function accessPictureStep(ctx: ReconcileContext, runId: string): Promise<AccessPictureReport> {
  const fields = await syncedFields(ctx);
  const objects = [...new Set(fields.map((f) => f.path.split('.')[0] ?? ''))];
  const rows = await readSetupRows(ctx, objects);
  const now = new Date(ctx.deps.now()).toISOString();
  const current = computeAccessPicture(rows, fields, now);
  const stored = await ctx.deps.store.getJourneyState(ACCESS_PICTURE_KEY);
  const previous = stored ? (JSON.parse(stored.state) as StoredAccessPicture) : undefined;
  const review = await lastSignedReview(ctx);
  const state = nextState(previous, review, current);
  const findings = [...accessDiff(state.baseline.picture, current), ...outsideAudience(current)];
  const { rows: upserts, written } = rowsToWrite(state, findings, now, runId);
  const failures = await upsert(ctx, upserts);
  // The state moves only once every row is recorded, so a failed write is made again next night.
  if (failures.length === 0)
    await ctx.deps.store.commitBatch({
      stream: 'reconcile',
      journeyStates: [
        { patientId: ACCESS_PICTURE_KEY, state: JSON.stringify({ ...state, latest: current, written }) },
      ],
      now: ctx.deps.now(),
    });
  const count = (kind: AccessFinding['kind']) => findings.filter((f) => f.kind === kind).length;
  return {
    baseline: state.baseline.reviewName ?? `first picture (${state.baseline.picture.takenAt})`,
    users: Object.keys(current.users).length,
    fields: fields.length,
    gained: count('Gained'),
    lost: count('Lost'),
    outsideAudience: count('Outside Audience'),
    findings: findings.map((f) => ({
      kind: f.kind,
      username: f.username,
      classification: f.classification,
      fields: f.fields.length,
      grants: f.grants,
    })),
    written: upserts.length - failures.length,
    error: failures.length > 0 ? `Access_Change__c not written: ${failures.join('; ')}` : null,
  };
}

/** A picture step that failed: the pass goes on and reports it. */
export function failedAccessPicture(err: unknown): AccessPictureReport {
  const error = err instanceof Error ? err.message : String(err);
  return {
    baseline: '-',
    users: 0,
    fields: 0,
    gained: 0,
    lost: 0,
    outsideAudience: 0,
    findings: [],
    written: 0,
    error,
  };
}

interface SignedReview {
  readonly id: string;
  readonly name: string;
}

async function lastSignedReview(ctx: ReconcileContext): Promise<SignedReview | undefined> {
  const result = await ctx.deps.connection.query<{ Id: string; Name: string }>(
    "SELECT Id, Name FROM Governance_Review__c WHERE Status__c = 'Signed' AND Signed_At__c != null ORDER BY Signed_At__c DESC LIMIT 1",
  );
  if (!Array.isArray(result.records)) throw new Error('unexpected answer reading Governance_Review__c');
  const [r] = result.records;
  return r ? { id: r.Id, name: r.Name } : undefined;
}

/**
 * The baseline: kept while the last signed review stays the same; when a newer review is signed, the
 * picture taken the night before (the last one from before the signing) becomes the baseline and a new
 * review period's rows begin. No picture yet: tonight's is the baseline.
 */
function nextState(
  previous: StoredAccessPicture | undefined,
  review: SignedReview | undefined,
  current: AccessPicture,
): Omit<StoredAccessPicture, 'latest'> {
  const reviewId = review?.id ?? null;
  if (!previous)
    return { baseline: { reviewId, reviewName: review?.name ?? null, picture: current }, written: {} };
  if (reviewId === previous.baseline.reviewId) return previous;
  return { baseline: { reviewId, reviewName: review?.name ?? null, picture: previous.latest }, written: {} };
}

type Row = Record<string, unknown>;

/** The rows to upsert tonight: findings new or changed, and findings of this period no longer holding. */
function rowsToWrite(
  state: Omit<StoredAccessPicture, 'latest'>,
  findings: readonly AccessFinding[],
  now: string,
  runId: string,
): { rows: Row[]; written: StoredAccessPicture['written'] } {
  const period = state.baseline.reviewId ?? `first-${state.baseline.picture.takenAt}`;
  const since = state.baseline.reviewName ?? `the first access picture (${state.baseline.picture.takenAt})`;
  const written: Record<string, StoredAccessPicture['written'][string]> = {};
  const rows: Row[] = [];
  for (const f of findings) {
    const key = `${period}:${f.userId}:${f.classification}:${f.kind.replace(' ', '-').toLowerCase()}`;
    const row = findingRow(f, since);
    const digest = sha256Hex(JSON.stringify(row)).slice(0, 16);
    const before = state.written[key];
    // A finding that comes back after it was resolved is detected again.
    const detectedAt = before && !before.resolvedAt ? before.detectedAt : now;
    written[key] = { detectedAt, resolvedAt: null, digest };
    if (before?.digest === digest && !before.resolvedAt) continue;
    rows.push({
      ...row,
      Details__c: truncate(`${String(row.Details__c)}\nWritten by ${runId}.`, 32_768),
      Change_Key__c: key,
      Detected_At__c: detectedAt,
      Resolved_At__c: null,
    });
  }
  for (const [key, w] of Object.entries(state.written)) {
    if (written[key]) continue;
    written[key] = { ...w, resolvedAt: w.resolvedAt ?? now };
    if (!w.resolvedAt) rows.push({ Change_Key__c: key, Resolved_At__c: now });
  }
  return { rows, written };
}

function findingRow(f: AccessFinding, since: string): Row {
  const who = AUDIENCES_BY_CLASSIFICATION[f.classification].join(', ');
  const why =
    f.kind === 'Outside Audience'
      ? `Reads ${f.classification} fields, which the signed data map gives to ${who} only.`
      : `${f.kind === 'Gained' ? 'Can read' : 'Can no longer read'} these ${f.classification} fields since ${since}.`;
  return {
    User__c: f.userId,
    Username__c: f.username,
    Change_Type__c: f.kind,
    Field_Class__c: f.classification,
    Fields__c: f.fields.join('\n'),
    Path__c: truncate(f.grants.join('; '), 255),
    Details__c: truncate([why, ...f.detail].join('\n'), 32_000),
  };
}

const truncate = (s: string, max: number): string => (s.length <= max ? s : `${s.slice(0, max - 1)}…`);

async function upsert(ctx: ReconcileContext, rows: readonly Row[]): Promise<string[]> {
  if (rows.length === 0) return [];
  const results = await ctx.deps.writer.upsert('Access_Change__c', 'Change_Key__c', [...rows]);
  return results.filter((r) => !r.success).map((r) => `${r.key}: ${r.error?.code ?? 'failed'}`);
}
