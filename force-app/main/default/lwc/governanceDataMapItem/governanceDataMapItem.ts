import { LightningElement, api } from 'lwc';
import { gqlDisplay, gqlValue } from 'c/ldsUtils';

/** What agenda item 1 compares: the deployed, signed and last-review map hashes and this quarter's runs. */
export interface DataMapFacts {
  currentHash: string | null;
  signedHash: string | null;
  lastReviewHash: string | null;
  syncRuns: ReadonlyArray<Record<string, unknown>>;
}

/** Item 1 as the reviewer left it, plus whether the sign-off could be read at all. */
export interface DataMapAnswers {
  loaded: boolean;
  errors: unknown;
  unchanged: boolean;
  notes: string;
}

export function currentHashLabel(currentHash: string | null): string {
  return currentHash ?? 'unknown (no sign-off deployed)';
}

export function signedHashLabel(signedHash: string | null): string {
  return signedHash ?? '—';
}

/** Sync runs this quarter that ran under a map hash other than the signed one. */
export function unsignedRunsOf(
  syncRuns: ReadonlyArray<Record<string, unknown>>,
  signedHash: string | null,
): Array<{ key: string; label: string }> {
  return syncRuns
    .filter((run) => {
      const hash = gqlValue<string>(run, 'Data_Map_Hash__c');
      return !!hash && hash !== signedHash;
    })
    .map((run) => ({
      key: String(run.Id),
      label: `${gqlValue<string>(run, 'Run_Id__c') ?? String(run.Id)} started ${gqlDisplay(run, 'Started_At__c') ?? ''} with map ${gqlValue<string>(run, 'Data_Map_Hash__c') ?? ''}`,
    }));
}

/**
 * The map needs an explanation (notes) rather than a confirmation when the deployed map is not the
 * signed one (or none is signed), when it changed since the last signed review, or when a run this
 * quarter used another map.
 */
export function mapNeedsExplanation(facts: DataMapFacts): boolean {
  const mismatch = !facts.signedHash || facts.signedHash !== facts.currentHash;
  const changedSinceLastReview = !!facts.lastReviewHash && facts.lastReviewHash !== facts.currentHash;
  return mismatch || changedSinceLastReview || unsignedRunsOf(facts.syncRuns, facts.signedHash).length > 0;
}

/** Item 1 is done when the hash is verifiable and the reviewer confirmed it, or explained a change. */
export function dataMapItemComplete(facts: DataMapFacts, answers: DataMapAnswers): boolean {
  if (!answers.loaded || answers.errors !== undefined) return false;
  return mapNeedsExplanation(facts) ? answers.notes.trim().length > 0 : answers.unchanged;
}

/**
 * Agenda item 1 of the governance review: the data map has not changed without sign-off. Shows the
 * deployed, signed and last-review hashes, warns (and lists the runs under another map) when anything
 * differs, and reports the reviewer's confirmation and notes to the container as `itemchange`
 * events (`detail: { field: 'dataMapUnchanged' | 'dataMapNotes', value }`); the container owns the
 * review's state and saves it.
 */
export default class GovernanceDataMapItem extends LightningElement {
  @api currentHash: string | null = null;
  @api signedHash: string | null = null;
  @api lastReviewHash: string | null = null;
  @api syncRuns: ReadonlyArray<Record<string, unknown>> = [];
  /** Why the sign-off could not be read (Apex error), if it could not. */
  @api errors: unknown = undefined;
  @api unchanged = false;
  @api notes = '';
  @api disabled = false;

  get facts(): DataMapFacts {
    return {
      currentHash: this.currentHash,
      signedHash: this.signedHash,
      lastReviewHash: this.lastReviewHash,
      syncRuns: this.syncRuns ?? [],
    };
  }

  get hasError(): boolean {
    return this.errors !== undefined;
  }

  get mapHashLabel(): string {
    return currentHashLabel(this.currentHash);
  }

  get signedHashLabel(): string {
    return signedHashLabel(this.signedHash);
  }

  get lastReviewHashLabel(): string {
    return this.lastReviewHash ?? '—';
  }

  get needsExplanation(): boolean {
    return mapNeedsExplanation(this.facts);
  }

  get unsignedRuns(): Array<{ key: string; label: string }> {
    return unsignedRunsOf(this.facts.syncRuns, this.signedHash);
  }

  get hasUnsignedRuns(): boolean {
    return this.unsignedRuns.length > 0;
  }

  /** A <textarea> has no `value` attribute to bind in a template: its property is set from `notes`. */
  renderedCallback(): void {
    const area = (this.template as unknown as ParentNode).querySelector('textarea');
    if (area && area.value !== this.notes) area.value = this.notes;
  }

  handleUnchanged(event: Event): void {
    this.report('dataMapUnchanged', (event.target as HTMLInputElement).checked);
  }

  handleNotes(event: Event): void {
    this.report('dataMapNotes', (event.target as HTMLTextAreaElement).value);
  }

  report(field: string, value: boolean | string): void {
    this.dispatchEvent(new CustomEvent('itemchange', { detail: { field, value } }));
  }
}
