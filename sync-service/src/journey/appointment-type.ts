import { distance } from 'fastest-levenshtein';
import { fundingTag } from './aggregates.js';
import type { JourneyConfig } from './config.js';
import { isInitialConsultType } from './replay.js';
import { TRIGGER_LABELS, type FundingSource, type TriggerCode } from './types.js';

/**
 * What the journey does with an appointment type name: the logic behind
 * `npm run sync -- appointment-type "<name>"` and `GET /appointment-types/validate?name=`.
 * Names match exactly, so the most useful answer for a typo is the configured name it nearly is.
 * The HTTP route returns this object as JSON unchanged; the CLI prints it.
 */
export interface AppointmentTypeInfo {
  name: string;
  /** initial-consult: opens the journey (T1); excluded: listed in excludedTypes; standard: neither. */
  category: 'initial-consult' | 'excluded' | 'standard';
  /** The trigger the type itself maps to (T1 for initial consults), or null. */
  trigger: TriggerCode | null;
  triggerLabel: string | null;
  /** The platform event published when it fires. */
  event: 'Patient_Journey_Event__e' | null;
  /** The Flow/workflow that listens for the trigger (config `workflows`), or null if none is named. */
  workflow: string | null;
  fundingSource: FundingSource | null;
  /**
   * Configured names `name` nearly is: equal ignoring letter case and spacing, or (for typos) within a
   * small edit distance of it, closest first. Empty for a configured name.
   */
  nearMatches: string[];
  /** Whether the name appears anywhere in config/journey.yaml (initial, excluded or funding-tagged). */
  configured: boolean;
  /** Other triggers any appointment can fire, whatever its type (T2, T3, T4, T7), with their workflows. */
  alsoFires: Array<{ trigger: TriggerCode; triggerLabel: string; workflow: string | null }>;
  explanation: string;
}

function loose(name: string): string {
  return name.toLowerCase().replace(/\s+/g, ' ').trim();
}

/** Typos tolerated: up to 2 edits, or one in five characters for longer names. */
function typoBudget(name: string): number {
  return Math.max(2, Math.floor(name.length / 5));
}

/** Configured names within the typo budget of `name` (after case and spacing folding), closest first. */
function nearNames(name: string, known: ReadonlySet<string>): string[] {
  const target = loose(name);
  if (target === '') return [];
  return [...known]
    .filter((k) => k !== name)
    .map((k) => ({ k, d: distance(loose(k), target) }))
    .filter(({ k, d }) => d <= typoBudget(k))
    .sort((a, b) => a.d - b.d || a.k.localeCompare(b.k))
    .map(({ k }) => k);
}

/** Triggers that depend on attendance and stage, not on the type: any appointment can fire them. */
const TYPE_INDEPENDENT: readonly TriggerCode[] = ['T2', 'T3', 'T4', 'T7'];

export function appointmentTypeInfo(name: string, config: JourneyConfig): AppointmentTypeInfo {
  const funding = fundingTag(name, config);
  const known = new Set([
    ...config.initialConsultTypes,
    ...config.excludedTypes,
    ...Object.keys(config.fundingTags),
  ]);
  const configured = known.has(name);
  const nearMatches = configured ? [] : nearNames(name, known);
  const alsoFires = TYPE_INDEPENDENT.map((trigger) => ({
    trigger,
    triggerLabel: TRIGGER_LABELS[trigger],
    workflow: config.workflows[trigger] ?? null,
  }));
  const fundingText = funding ? ` It sets Funding_Source__c to ${funding}.` : '';

  if (isInitialConsultType(name, config)) {
    const workflow = config.workflows.T1 ?? null;
    return {
      name,
      category: 'initial-consult',
      trigger: 'T1',
      triggerLabel: TRIGGER_LABELS.T1,
      event: 'Patient_Journey_Event__e',
      workflow,
      fundingSource: funding,
      nearMatches,
      configured,
      alsoFires,
      explanation:
        `Initial consult: when it is the patient's first-ever booking it fires ${TRIGGER_LABELS.T1} ` +
        `(Lead -> New Patient Booked) and publishes Patient_Journey_Event__e` +
        `${workflow ? ` for the "${workflow}" workflow` : ''}.${fundingText}`,
    };
  }
  const generic =
    'Like every appointment it can still fire T2 (first visit attended), T3 (no-show), T4 (cancelled) and ' +
    'T7 (booking by a lapsed, drop-off-risk or nurtured patient), and counts towards visit intervals.';
  if (config.excludedTypes.includes(name)) {
    return {
      name,
      category: 'excluded',
      trigger: null,
      triggerLabel: null,
      event: null,
      workflow: null,
      fundingSource: funding,
      nearMatches,
      configured,
      alsoFires,
      explanation: `Excluded from the initial-consult list: a first booking of this type does not fire T1. ${generic}${fundingText}`,
    };
  }
  const hint =
    nearMatches.length > 0
      ? ` Did you mean ${nearMatches.map((m) => `"${m}"`).join(' or ')}? Names match exactly.`
      : configured
        ? ''
        : ' It is not named in config/journey.yaml.';
  return {
    name,
    category: 'standard',
    trigger: null,
    triggerLabel: null,
    event: null,
    workflow: null,
    fundingSource: funding,
    nearMatches,
    configured,
    alsoFires,
    explanation: `Not an initial consult type: it fires no trigger of its own. ${generic}${fundingText}${hint}`,
  };
}
