import { idFromLink, type ClinikoClient } from '../../cliniko/index.js';
import type { ProjectionContext } from '../../governance/transforms.js';

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

/**
 * The reference lists a cycle needs, cached across cycles: they rarely change, and reading them every
 * poll was half of an idle cycle's requests (issue #16). Read again when older than `maxAgeMs`, and
 * when a record links a business, practitioner or appointment type the lists do not hold (created
 * since they were read): at most once per cycle, so an id Cliniko does not list cannot cost a read per
 * record. The clinic's date (`today`) is computed every cycle.
 */
export function createReferenceCache(
  cliniko: Pick<ClinikoClient, 'streams'>,
  clinicTimezone: string,
  maxAgeMs = DEFAULT_REFERENCE_MAX_AGE_MS,
) {
  let cached: { refs: References; loadedAt: number } | undefined;
  let refreshedThisCycle = false;
  const load = async (now: number): Promise<References> => {
    cached = { refs: await loadReferences(cliniko, clinicTimezone, now), loadedAt: now };
    return cached.refs;
  };
  return {
    /** The lists for a new cycle: cached unless stale, with today's date. */
    async forCycle(now: number): Promise<References> {
      refreshedThisCycle = false;
      if (cached === undefined || now - cached.loadedAt >= maxAgeMs) {
        refreshedThisCycle = true;
        return load(now);
      }
      return { ...cached.refs, context: { ...cached.refs.context, today: clinicDate(clinicTimezone, now) } };
    },
    /** Fresh lists when `raw` links an id the cached ones lack (once per cycle); otherwise undefined. */
    async forRecord(raw: Readonly<Record<string, unknown>>, refs: References, now: number) {
      if (refreshedThisCycle || !linksUnknown(raw, refs)) return undefined;
      refreshedThisCycle = true;
      return load(now);
    },
  };
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

export async function loadReferences(
  cliniko: Pick<ClinikoClient, 'streams'>,
  clinicTimezone: string,
  now: number,
): Promise<References> {
  const businesses = new Map<string, string>();
  const businessTimeZones: Record<string, string> = {};
  const practitioners = new Map<string, string>();
  const appointmentTypes = new Map<string, string>();
  for await (const ev of cliniko.streams.businesses.read()) {
    if (ev.kind !== 'record') continue;
    const b = ev.record;
    businesses.set(b.id, b.display_name ?? b.business_name ?? b.label ?? b.id);
    if (b.time_zone_identifier) businessTimeZones[b.id] = b.time_zone_identifier;
  }
  for await (const ev of cliniko.streams.practitioners.read()) {
    if (ev.kind !== 'record') continue;
    const p = ev.record;
    practitioners.set(
      p.id,
      p.display_name ?? p.label ?? [p.first_name, p.last_name].filter(Boolean).join(' '),
    );
  }
  for await (const ev of cliniko.streams.appointmentTypes.read()) {
    if (ev.kind === 'record') appointmentTypes.set(ev.record.id, ev.record.name);
  }
  const today = clinicDate(clinicTimezone, now);
  return {
    context: { names: { businesses, practitioners, appointmentTypes }, today },
    names: { businesses },
    appointmentTypes,
    businessTimeZones,
  };
}
