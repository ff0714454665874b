import type { ClinikoClient } from '../../cliniko/index.js';
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
  const today = new Intl.DateTimeFormat('en-CA', { timeZone: clinicTimezone }).format(new Date(now));
  return {
    context: { names: { businesses, practitioners, appointmentTypes }, today },
    names: { businesses },
    appointmentTypes,
    businessTimeZones,
  };
}
