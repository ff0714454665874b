import type { ReconcileContext } from './context.js';
import {
  ACCESS_SNAPSHOT_KEY,
  MONITORED_PERMISSION_SETS,
  type AccessChange,
  type AccessSnapshot,
  type StoredAccessSnapshot,
  type StoredAssignment,
} from './types.js';

/**
 * The access snapshot (Access_Change__c): who holds the Cliniko_Sync_* permission sets now, compared
 * with the snapshot of the previous night; every assignment and removal since is recorded once.
 */
export async function accessSnapshot(ctx: ReconcileContext, runId: string): Promise<AccessSnapshot> {
  const current = await readAssignments(ctx);
  const stored = await ctx.deps.store.getJourneyState(ACCESS_SNAPSHOT_KEY);
  const previous = stored ? (JSON.parse(stored.state) as StoredAccessSnapshot) : undefined;
  const changes = accessChanges(previous?.assignments ?? [], current);
  const detectedAt = new Date(ctx.deps.now()).toISOString();
  const { written, failures } = await writeChanges(ctx, changes, detectedAt, (c) =>
    changeDetails(c, previous, runId),
  );
  // The snapshot moves only once every change is recorded, so a failed write is detected again next time.
  if (failures.length === 0) {
    const state: StoredAccessSnapshot = { takenAt: detectedAt, assignments: current };
    await ctx.deps.store.commitBatch({
      stream: 'reconcile',
      journeyStates: [{ patientId: ACCESS_SNAPSHOT_KEY, state: JSON.stringify(state) }],
      now: ctx.deps.now(),
    });
  }
  return {
    baseline: previous === undefined,
    assignments: current.length,
    changes,
    written,
    error: failures.length > 0 ? `Access_Change__c not written: ${failures.join('; ')}` : null,
  };
}

/** A snapshot that could not be taken: the pass goes on and reports it. */
export function failedAccessSnapshot(err: unknown): AccessSnapshot {
  const error = err instanceof Error ? err.message : String(err);
  return { baseline: false, assignments: 0, changes: [], written: 0, error };
}

async function readAssignments(ctx: ReconcileContext): Promise<StoredAssignment[]> {
  const { connection } = ctx.deps;
  const names = MONITORED_PERMISSION_SETS.map((n) => `'${n}'`).join(', ');
  const sets = await connection.query<{ Id: string; Name: string }>(
    `SELECT Id, Name FROM PermissionSet WHERE Name IN (${names})`,
    { autoFetch: true },
  );
  const setName = new Map(sets.records.map((s) => [s.Id, s.Name]));
  const current: StoredAssignment[] = [];
  if (setName.size > 0) {
    const ids = [...setName.keys()].map((id) => `'${id}'`).join(', ');
    const assignments = await connection.query<{
      Id: string;
      AssigneeId: string;
      PermissionSetId: string;
      Assignee: { Username?: string } | null;
    }>(
      `SELECT Id, AssigneeId, PermissionSetId, Assignee.Username FROM PermissionSetAssignment WHERE PermissionSetId IN (${ids})`,
      { autoFetch: true, maxFetch: 1_000_000 },
    );
    for (const a of assignments.records) {
      current.push({
        assignmentId: a.Id,
        userId: a.AssigneeId,
        username: a.Assignee?.Username ?? '',
        permissionSet: setName.get(a.PermissionSetId) ?? a.PermissionSetId,
      });
    }
  }
  return current.sort((a, b) => identity(a).localeCompare(identity(b)));
}

const identity = (a: { userId: string; permissionSet: string }): string => `${a.userId}|${a.permissionSet}`;

/** Assignments held now and not before, then those held before and not now. */
export function accessChanges(
  previous: readonly StoredAssignment[],
  current: readonly StoredAssignment[],
): AccessChange[] {
  const before = new Map(previous.map((a) => [identity(a), a]));
  const now = new Map(current.map((a) => [identity(a), a]));
  const change = (a: StoredAssignment, type: AccessChange['changeType']): AccessChange => ({
    changeKey: `${a.userId}:${a.permissionSet}:${type === 'Assigned' ? 'assigned' : 'removed'}:${a.assignmentId}`,
    changeType: type,
    userId: a.userId,
    username: a.username,
    permissionSet: a.permissionSet,
  });
  return [
    ...[...now].filter(([k]) => !before.has(k)).map(([, a]) => change(a, 'Assigned')),
    ...[...before].filter(([k]) => !now.has(k)).map(([, a]) => change(a, 'Removed')),
  ];
}

function changeDetails(c: AccessChange, previous: StoredAccessSnapshot | undefined, runId: string): string {
  if (previous === undefined)
    return `Held when access monitoring began (baseline taken by ${runId}), not necessarily a new assignment.`;
  return c.changeType === 'Assigned'
    ? `Assigned since the snapshot of ${previous.takenAt}; detected by ${runId}.`
    : `Removed since the snapshot of ${previous.takenAt}; detected by ${runId}.`;
}

/** Upserts the changes; counts those written and names (`key: code`) those not. */
async function writeChanges(
  ctx: ReconcileContext,
  changes: readonly AccessChange[],
  detectedAt: string,
  details: (c: AccessChange) => string,
): Promise<{ written: number; failures: string[] }> {
  if (changes.length === 0) return { written: 0, failures: [] };
  const results = await ctx.deps.writer.upsert(
    'Access_Change__c',
    'Change_Key__c',
    changes.map((c) => ({
      Change_Key__c: c.changeKey,
      Detected_At__c: detectedAt,
      User__c: c.userId,
      Username__c: c.username,
      Permission_Set__c: c.permissionSet,
      Change_Type__c: c.changeType,
      Details__c: details(c),
    })),
  );
  return {
    written: results.filter((r) => r.success).length,
    failures: results.filter((r) => !r.success).map((r) => `${r.key}: ${r.error?.code ?? 'failed'}`),
  };
}
