/**
 * What the journey timeline says for each `Journey_Transition__c.Trigger__c` value: a sentence a
 * marketer reads ("Missed appointment"), the SLDS standard icon and the SLDS timeline item kind (the
 * colour of the line). The one home of these labels; the picklist values themselves ("T3 No-Show")
 * are the service's contract (sync-service/src/journey/types.ts TRIGGER_LABELS, docs/journey.md) and
 * stay visible in an entry's details, since admins build Flows on them.
 *
 * Keyed by the trigger code, the value's first word: a relabelled picklist value keeps its sentence.
 * A value not listed here (a trigger added later) shows its picklist label, so nothing is hidden.
 */

/** SLDS timeline item kinds (`slds-timeline__item_<kind>`): appointment facts and journey signals. */
export type TimelineKind = 'event' | 'task';

export interface TriggerPresentation {
  /** The sentence shown as the entry's title. */
  readonly label: string;
  /** SLDS standard icon name (`standard-sprite` symbol). */
  readonly icon: string;
  readonly kind: TimelineKind;
}

export const TRIGGER_PRESENTATION: Readonly<Record<string, TriggerPresentation>> = {
  T1: { label: 'Booked a new-patient consult', icon: 'event', kind: 'event' },
  T2: { label: 'Attended their first appointment', icon: 'service_appointment', kind: 'event' },
  T3: { label: 'Missed appointment', icon: 'incident', kind: 'event' },
  T4: { label: 'Cancelled an appointment', icon: 'cancel_checkout', kind: 'event' },
  T5: { label: 'At risk of dropping off: no next visit booked', icon: 'recent', kind: 'task' },
  T6: { label: 'Lapsed: no recent visit or booking', icon: 'today', kind: 'task' },
  T7: { label: 'Booked again after a break', icon: 'return_order', kind: 'event' },
  T8: { label: 'Moved to long-term nurture after a missed first visit', icon: 'lead', kind: 'task' },
  T9: { label: 'Maintenance reminder due', icon: 'timeslot', kind: 'task' },
};

/** Shown for an entry whose trigger is neither known nor readable. */
export const UNKNOWN_TRIGGER_LABEL = 'Journey update';

const FALLBACK: Omit<TriggerPresentation, 'label'> = { icon: 'record', kind: 'task' };

/** `T3` from `T3 No-Show`; undefined for anything else. */
export function triggerCode(value: string | undefined | null): string | undefined {
  const match = /^(T\d+)\b/.exec(value ?? '');
  return match?.[1];
}

/** The sentence, icon and kind for a trigger value; its own label when the code is not known. */
export function presentTrigger(
  value: string | undefined | null,
  displayValue: string | undefined | null,
): TriggerPresentation {
  const known = TRIGGER_PRESENTATION[triggerCode(value) ?? ''];
  if (known) return known;
  return { ...FALLBACK, label: displayValue || value || UNKNOWN_TRIGGER_LABEL };
}

/**
 * The SLDS sprite path of a standard icon as Lightning Experience serves it (`/_slds/icons/...`, the
 * path the base components' icons use); the local preview serves the same path from the SLDS package.
 */
export function standardIconHref(icon: string): string {
  return `/_slds/icons/standard-sprite/svg/symbols.svg#${icon}`;
}

/** The icon container's classes: the standard icon's background colour, placed on the timeline. */
export function standardIconClass(icon: string): string {
  return `slds-icon_container slds-icon-standard-${icon.replace(/_/g, '-')} slds-timeline__icon`;
}
