import { z } from 'zod';
import { idFromLink, type ClinikoClient } from '../../cliniko/index.js';
import type { ProjectionContext } from '../../governance/transforms.js';
import type { Store } from '../../store/index.js';

/**
 * The reference records a projection needs (business, practitioner and appointment-type names, each
 * business's time zone, the clinic's date today), read whole from Cliniko: they are small. The same
 * context the runner builds each cycle, so that anything projecting records outside a cycle (dry run,
 * reconciliation) produces exactly the payloads a sync would write.
 */
export interface References {
  readonly context: ProjectionContext;
  readonly names: { readonly businesses: ReadonlyMap<string, string> };
  readonly appointmentTypes: ReadonlyMap<string, string>;
  readonly businessTimeZones: Record<string, string>;
}

/** How long cached reference lists serve before they are read again (issue #16). */
export const DEFAULT_REFERENCE_MAX_AGE_MS = 10 * 60_000;

/** The name the lists are saved under in the store. */
const SAVED_AS = 'cliniko';

/**
 * The lists as read from Cliniko, in the form they are saved in (JSON, encrypted by the store): names
 * by id and each business's time zone. Nothing about patients.
 */
const Lists = z.object({
  businesses: z.array(z.tuple([z.string(), z.string()])),
  practitioners: z.array(z.tuple([z.string(), z.string()])),
  appointmentTypes: z.array(z.tuple([z.string(), z.string()])),
  businessTimeZones: z.record(z.string(), z.string()),
});
type Lists = z.infer<typeof Lists>;

export interface ReferenceCacheOptions {
  readonly cliniko: Pick<ClinikoClient, 'streams'>;
  readonly clinicTimezone: string;
  readonly maxAgeMs?: number | undefined;
  /** Where the lists are kept across restarts; without it they live in memory only. */
  readonly store?: Pick<Store, 'getReferenceLists' | 'saveReferenceLists'>;
}

/**
 * The reference lists a cycle needs, cached across cycles: they rarely change, and reading them every
 * poll was half of an idle cycle's requests (issue #16). Read again when older than `maxAgeMs`, and
 * when a record links a business, practitioner or appointment type the lists do not hold (created
 * since they were read): at most once per cycle, so an id Cliniko does not list cannot cost a read per
 * record. Each read is saved in the store, so a service restarted while the lists are fresh serves the
 * saved ones instead of reading them at its start; saved lists that cannot be read back, or that were
 * read after the clock's present, are read again. The clinic's date (`today`) is computed every cycle.
 */
export function createReferenceCache(options: ReferenceCacheOptions) {
  const { cliniko, clinicTimezone, store } = options;
  const maxAgeMs = options.maxAgeMs ?? DEFAULT_REFERENCE_MAX_AGE_MS;
  // The References built from the lists, once per read: a cycle only gets its own clinic date.
  let cached: { refs: References; loadedAt: number } | undefined;
  let restored = store === undefined;
  // This cycle's read of the lists, if it made one: streams read at once (runner.ts) that meet an
  // unknown id while it is under way wait for it rather than project with the lists it replaces.
  let readThisCycle: Promise<References> | undefined;
  const stale = (loadedAt: number, now: number) => now < loadedAt || now - loadedAt >= maxAgeMs;
  const load = async (now: number): Promise<References> => {
    const lists = await readLists(cliniko);
    await store?.saveReferenceLists(SAVED_AS, now, JSON.stringify(lists));
    cached = { refs: referencesFrom(lists, clinicTimezone, now), loadedAt: now };
    return cached.refs;
  };
  return {
    /** The lists for a new cycle: cached (or saved) unless stale, with today's date. */
    async forCycle(now: number): Promise<References> {
      readThisCycle = undefined;
      if (!restored) {
        restored = true;
        const saved = await restore(store, (loadedAt) => !stale(loadedAt, now));
        if (saved)
          cached = { refs: referencesFrom(saved.lists, clinicTimezone, now), loadedAt: saved.loadedAt };
      }
      if (cached === undefined || stale(cached.loadedAt, now)) {
        readThisCycle = load(now);
        return readThisCycle;
      }
      return { ...cached.refs, context: { ...cached.refs.context, today: clinicDate(clinicTimezone, now) } };
    },
    /**
     * Fresh lists when `raw` links an id the cached ones lack: read at most once per cycle (a record
     * met during or after that read gets its lists); otherwise undefined.
     */
    async forRecord(raw: Readonly<Record<string, unknown>>, refs: References, now: number) {
      if (!linksUnknown(raw, refs)) return undefined;
      readThisCycle ??= load(now);
      return readThisCycle;
    },
  };
}

/** The saved lists when they are fresh and well formed; otherwise undefined (they are read again). */
async function restore(
  store: ReferenceCacheOptions['store'],
  fresh: (loadedAt: number) => boolean,
): Promise<{ lists: Lists; loadedAt: number } | undefined> {
  const saved = await store?.getReferenceLists(SAVED_AS);
  if (saved === undefined || !fresh(saved.loadedAt)) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(saved.lists);
  } catch {
    return undefined;
  }
  const lists = Lists.safeParse(json);
  return lists.success ? { lists: lists.data, loadedAt: saved.loadedAt } : undefined;
}

export type ReferenceCache = ReturnType<typeof createReferenceCache>;

const LINKS = [
  ['business', 'businesses', (r: References) => r.context.names?.businesses],
  ['practitioner', 'practitioners', (r: References) => r.context.names?.practitioners],
  ['appointment_type', 'appointment_types', (r: References) => r.context.names?.appointmentTypes],
] as const;

/** True when the record links a reference record the lists do not hold. */
export function linksUnknown(raw: Readonly<Record<string, unknown>>, refs: References): boolean {
  for (const [field, collection, names] of LINKS) {
    const link = raw[field] as { links?: { self?: string } } | null | undefined;
    const id = idFromLink(link?.links?.self, collection);
    if (id !== undefined && names(refs)?.has(id) !== true) return true;
  }
  return false;
}

function clinicDate(clinicTimezone: string, now: number): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: clinicTimezone }).format(new Date(now));
}

/** The reference lists read whole from Cliniko, with today's clinic date (no cache). */
export async function loadReferences(
  cliniko: Pick<ClinikoClient, 'streams'>,
  clinicTimezone: string,
  now: number,
): Promise<References> {
  return referencesFrom(await readLists(cliniko), clinicTimezone, now);
}

async function readLists(cliniko: Pick<ClinikoClient, 'streams'>): Promise<Lists> {
  const lists: Lists = { businesses: [], practitioners: [], appointmentTypes: [], businessTimeZones: {} };
  for await (const ev of cliniko.streams.businesses.read()) {
    if (ev.kind !== 'record') continue;
    const b = ev.record;
    lists.businesses.push([b.id, b.display_name ?? b.business_name ?? b.label ?? b.id]);
    if (b.time_zone_identifier) lists.businessTimeZones[b.id] = b.time_zone_identifier;
  }
  for await (const ev of cliniko.streams.practitioners.read()) {
    if (ev.kind !== 'record') continue;
    const p = ev.record;
    lists.practitioners.push([
      p.id,
      p.display_name ?? p.label ?? [p.first_name, p.last_name].filter(Boolean).join(' '),
    ]);
  }
  for await (const ev of cliniko.streams.appointmentTypes.read()) {
    if (ev.kind === 'record') lists.appointmentTypes.push([ev.record.id, ev.record.name]);
  }
  return lists;
}

function referencesFrom(lists: Lists, clinicTimezone: string, now: number): References {
  const businesses = new Map(lists.businesses);
  const appointmentTypes = new Map(lists.appointmentTypes);
  return {
    context: {
      names: { businesses, practitioners: new Map(lists.practitioners), appointmentTypes },
      today: clinicDate(clinicTimezone, now),
    },
    names: { businesses },
    appointmentTypes,
    businessTimeZones: { ...lists.businessTimeZones },
  };
}
