import { LightningElement, api } from 'lwc';
import LOCALE from '@salesforce/i18n/locale';
import TIME_ZONE from '@salesforce/i18n/timeZone';
import { sampleOf } from 'c/ldsUtils';
import { hasSomethingToCheck } from 'c/fieldShapes';
import type { SpotField } from 'c/fieldShapes';

/** Records drawn for the change-log spot check. */
export const SPOT_CHECK_SIZE = 5;

/** One record of the change-log spot check, as stored in Spot_Check_Sample__c (no names: ids only). */
export interface SpotCheckEntry {
  recordId: string;
  clinikoPatientId: string | null;
  checked: boolean;
  noClinicalContent: boolean;
}

/** One row of `ClinikoGovernanceController.getFieldHistory`. */
export interface HistoryRow {
  recordId: string;
  field: string;
  oldValue: string | null;
  newValue: string | null;
  changedAt: string;
  changedBy: string | null;
}

/** A Contact synced this quarter that the sample may draw. */
export interface Candidate {
  id: string;
  label: string;
  clinikoPatientId: string | null;
}

/** Reads a saved Spot_Check_Sample__c; `undefined` when empty or not a JSON array (then draw again). */
export function parseSpotCheckSample(raw: string | null | undefined): SpotCheckEntry[] | undefined {
  if (!raw) return undefined;
  try {
    const parsed = JSON.parse(raw) as unknown;
    if (!Array.isArray(parsed)) return undefined;
    return parsed.map((e: Record<string, unknown>) => ({
      recordId: String(e.recordId),
      clinikoPatientId: typeof e.clinikoPatientId === 'string' ? e.clinikoPatientId : null,
      checked: e.checked === true,
      noClinicalContent: e.noClinicalContent === true,
    }));
  } catch {
    return undefined;
  }
}

/** Draws `SPOT_CHECK_SIZE` candidates at random, ordered by record id, nothing ticked yet. */
export function drawSpotCheckSample(candidates: readonly Candidate[]): SpotCheckEntry[] {
  return sampleOf(candidates, SPOT_CHECK_SIZE)
    .sort((a, b) => a.id.localeCompare(b.id))
    .map((c) => ({
      recordId: c.id,
      clinikoPatientId: c.clinikoPatientId,
      checked: false,
      noClinicalContent: false,
    }));
}

/** One tick reported by the spot check: which record, which of its two checkboxes, and its new state. */
export interface SpotCheckToggle {
  recordId: string;
  flag: 'checked' | 'noClinicalContent';
  value: boolean;
}

/**
 * The sample after one tick. The container applies each toggle to its own current sample (rather than
 * taking a copy from the child), so ticks in quick succession, before the child re-renders, all count.
 */
export function applySpotCheckToggle(
  entries: readonly SpotCheckEntry[],
  toggle: SpotCheckToggle,
): SpotCheckEntry[] {
  return entries.map((entry) => {
    if (entry.recordId !== toggle.recordId) return entry;
    return toggle.flag === 'checked'
      ? { ...entry, checked: toggle.value }
      : { ...entry, noClinicalContent: toggle.value };
  });
}

/** Item 3 is done (Spot_Check_Complete__c) when every sampled record is checked. */
export function spotCheckComplete(entries: readonly SpotCheckEntry[]): boolean {
  return entries.every((s) => s.checked);
}

/** No_Clinical_Content_Found__c: every sampled record was confirmed free of clinical content. */
export function noClinicalContentFound(entries: readonly SpotCheckEntry[]): boolean {
  return entries.every((s) => s.noClinicalContent);
}

/** A history row's time in the user's locale and time zone (`@salesforce/i18n`). */
export function formatHistoryTime(
  value: string,
  locale: string = LOCALE,
  timeZone: string = TIME_ZONE,
): string {
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return '—';
  return new Intl.DateTimeFormat(locale, {
    // dateStyle cannot be combined with timeZoneName: the parts, spelled out.
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: 'numeric',
    minute: '2-digit',
    timeZone,
    timeZoneName: 'short',
  }).format(date);
}

interface SpotFieldRow extends SpotField {
  valueText: string;
  shapeText: string;
  flagText: string;
  rowClass: string;
}

interface SpotCheckRow {
  key: string;
  label: string;
  checked: boolean;
  noClinicalContent: boolean;
  checkedLabel: string;
  clinicalLabel: string;
  fields: SpotFieldRow[];
  hasFields: boolean;
  flaggedText: string;
  tickDisabled: boolean;
  nothingToCheck: boolean;
  changes: Array<{ key: string; text: string }>;
  hasHistory: boolean;
}

/**
 * Agenda item 4 of the governance review: the change-log spot check. Shows each sampled record's synced
 * fields with their labels and values, each value checked against the shape its data-map entry
 * declares (c/fieldShapes), flagging any that does not fit; then its field history this quarter, in
 * the user's locale and time zone. A record with nothing to check (no shaped value the user can read)
 * cannot be ticked. Two checkboxes per record; a tick is reported to the container as an `itemchange`
 * event (`detail: { field: 'spotCheck', value: SpotCheckToggle }`), which the container applies with
 * `applySpotCheckToggle`.
 */
export default class GovernanceSpotCheckItem extends LightningElement {
  /** The sample, as stored in Spot_Check_Sample__c. */
  @api entries: readonly SpotCheckEntry[] = [];
  /** Contacts synced this quarter: names for the labels (names are never stored in the sample). */
  @api candidates: readonly Candidate[] = [];
  /** Each sampled record's synced fields (c/fieldShapes spotFieldsOf), keyed by record id. */
  @api fieldsByRecord: Readonly<Record<string, readonly SpotField[]>> = {};
  /** Field labels (object info), for the history rows. */
  @api fieldLabels: Readonly<Record<string, string>> = {};
  @api historyRows: readonly HistoryRow[] = [];
  /** Why the field history could not be loaded (Apex error), if it could not. */
  @api errors: unknown = undefined;
  /** Why the records' fields could not be loaded (LDS error), if they could not. */
  @api fieldErrors: unknown = undefined;
  @api disabled = false;

  get hasError(): boolean {
    return this.errors !== undefined;
  }

  get hasFieldError(): boolean {
    return this.fieldErrors !== undefined;
  }

  get hasEntries(): boolean {
    return (this.entries ?? []).length > 0;
  }

  get rows(): SpotCheckRow[] {
    const candidates = this.candidates ?? [];
    const history = this.historyRows ?? [];
    const labels = this.fieldLabels ?? {};
    return (this.entries ?? []).map((entry) => {
      const candidate = candidates.find((c) => c.id === entry.recordId);
      const label = candidate
        ? `${candidate.label} (Cliniko ${candidate.clinikoPatientId ?? '—'})`
        : `Cliniko patient ${entry.clinikoPatientId ?? entry.recordId}`;
      const changes = history
        .filter((h) => h.recordId === entry.recordId)
        .map((h, index) => ({
          key: `${entry.recordId}-${index}`,
          text: `${labels[h.field] ?? h.field}: ${h.oldValue ?? '(empty)'} → ${h.newValue ?? '(empty)'}, ${formatHistoryTime(h.changedAt)} by ${h.changedBy ?? 'unknown'}`,
        }));
      const spotFields = this.fieldsByRecord?.[entry.recordId] ?? [];
      const fields = spotFields.map((f) => ({
        ...f,
        valueText: f.display === '' ? '(empty)' : f.display,
        shapeText: f.shape ?? '—',
        flagText: !f.checked ? 'Not checked' : f.fits ? 'Fits' : `Does not fit: ${f.reason}`,
        rowClass: f.checked && !f.fits ? 'spot-field spot-field_flagged' : 'spot-field',
      }));
      const flagged = spotFields.filter((f) => f.checked && !f.fits).length;
      const nothingToCheck = !hasSomethingToCheck(spotFields);
      return {
        key: entry.recordId,
        label,
        checked: entry.checked,
        noClinicalContent: entry.noClinicalContent,
        checkedLabel: `Checked: ${label}`,
        clinicalLabel: `No clinical content: ${label}`,
        fields,
        hasFields: fields.length > 0,
        flaggedText:
          flagged === 0
            ? ''
            : `${new Intl.NumberFormat(LOCALE).format(flagged)} value(s) do not fit their shape.`,
        tickDisabled: this.disabled || nothingToCheck,
        nothingToCheck,
        changes,
        hasHistory: changes.length > 0,
      };
    });
  }

  handleToggle(event: Event): void {
    const target = event.target as HTMLInputElement;
    const value: SpotCheckToggle = {
      recordId: target.dataset.recordId ?? '',
      flag: target.dataset.flag === 'checked' ? 'checked' : 'noClinicalContent',
      value: target.checked,
    };
    this.dispatchEvent(new CustomEvent('itemchange', { detail: { field: 'spotCheck', value } }));
  }
}
