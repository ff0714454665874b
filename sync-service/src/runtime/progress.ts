/**
 * The live progress of the job in progress, for the console: records read per Cliniko stream (from
 * the runner's per-page `onProgress`), records written per Salesforce object (from the outbox worker's
 * `onWritten`), and during a backfill an ETA for the reading that is left, from the Cliniko request
 * budget. Counts only: nothing here ever holds a record.
 *
 * The ETA is what the budget allows, not a guess from speed so far: a backfill is paced by Cliniko's
 * rate limit, so the pages left divided by the pages the budget grants per second is the honest
 * floor. It covers the streams whose size Cliniko has told us (`total_entries` on their first page);
 * `etaCovers` names them, and streams not reached yet are listed with a null total.
 */

/** Cliniko's largest page, which the client always asks for. */
export const CLINIKO_PAGE_SIZE = 100;

/** Display order of the streams a cycle reads (unknown streams are appended as they report). */
const STREAM_ORDER = ['patients', 'patient_cases', 'individual_appointments', 'invoices'];

export interface StreamProgress {
  readonly stream: string;
  readonly pages: number;
  readonly read: number;
  /** Cliniko's `total_entries` for this read, null until its first page. */
  readonly total: number | null;
}

export interface ProgressSnapshot {
  readonly running: boolean;
  readonly kind: string | null;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  readonly status: string | null;
  readonly streams: readonly StreamProgress[];
  readonly written: Readonly<Record<string, number>>;
  readonly readTotal: number;
  readonly writtenTotal: number;
  /** Share of the known totals read, 0..1; null when no total is known. */
  readonly readFraction: number | null;
  /** Seconds of reading left at the Cliniko budget's pace (backfill only); null otherwise. */
  readonly etaSeconds: number | null;
  readonly etaCovers: readonly string[];
}

export interface ProgressDeps {
  readonly now: () => number;
  /** The Cliniko budget: requests allowed per window. */
  readonly budget: () => { readonly limit: number; readonly windowMs: number };
}

export function createProgress(deps: ProgressDeps) {
  let kind: string | null = null;
  let startedAt: number | null = null;
  let finishedAt: number | null = null;
  let status: string | null = null;
  let running = false;
  let streams = new Map<string, { pages: number; read: number; total: number | null }>();
  let written = new Map<string, number>();

  return {
    begin(jobKind: string): void {
      running = true;
      kind = jobKind;
      startedAt = deps.now();
      finishedAt = null;
      status = null;
      streams = new Map();
      if (jobKind === 'incremental' || jobKind === 'backfill') {
        for (const name of STREAM_ORDER) streams.set(name, { pages: 0, read: 0, total: null });
      }
      written = new Map();
    },
    /** The runner's onProgress, called after each page: `records` counts the whole read so far. */
    read(progress: { stream: string; pages: number; records: number; totalEntries?: number }): void {
      const previous = streams.get(progress.stream);
      // The first page's total_entries is the whole read: a backfill pages by keyset (`id:>last`), so
      // later pages report only what is left after their cursor.
      streams.set(progress.stream, {
        pages: progress.pages,
        read: progress.records,
        total: previous?.total ?? progress.totalEntries ?? null,
      });
    },
    /** The outbox worker's onWritten. */
    written(object: string, count: number): void {
      written.set(object, (written.get(object) ?? 0) + count);
    },
    end(jobStatus: string): void {
      running = false;
      finishedAt = deps.now();
      status = jobStatus;
    },
    snapshot(): ProgressSnapshot {
      const list: StreamProgress[] = [...streams].map(([stream, s]) => ({ stream, ...s }));
      const readTotal = list.reduce((n, s) => n + s.read, 0);
      const known = list.filter((s) => s.total !== null);
      const knownTotal = known.reduce((n, s) => n + (s.total ?? 0), 0);
      const knownRead = known.reduce((n, s) => n + Math.min(s.read, s.total ?? 0), 0);
      let etaSeconds: number | null = null;
      if (running && kind === 'backfill' && known.length > 0) {
        const pagesLeft = known.reduce(
          (n, s) => n + Math.ceil(Math.max(0, (s.total ?? 0) - s.read) / CLINIKO_PAGE_SIZE),
          0,
        );
        const { limit, windowMs } = deps.budget();
        etaSeconds = Math.ceil((pagesLeft * windowMs) / Math.max(1, limit) / 1000);
      }
      const writtenObj = Object.fromEntries(written);
      return {
        running,
        kind,
        startedAt: startedAt === null ? null : new Date(startedAt).toISOString(),
        finishedAt: finishedAt === null ? null : new Date(finishedAt).toISOString(),
        status,
        streams: list,
        written: writtenObj,
        readTotal,
        writtenTotal: [...written.values()].reduce((a, b) => a + b, 0),
        // A finished read has read everything there was (rows that failed validation are counted in
        // Cliniko's totals but quarantined, not read), so a completed job shows a full bar.
        readFraction:
          !running && (status === 'succeeded' || status === 'partial')
            ? 1
            : knownTotal > 0
              ? Math.min(1, knownRead / knownTotal)
              : null,
        etaSeconds,
        etaCovers: etaSeconds === null ? [] : known.map((s) => s.stream),
      };
    },
  };
}

export type Progress = ReturnType<typeof createProgress>;
