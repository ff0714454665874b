import { LightningElement, api } from 'lwc';

/** Item 5 is done when the attendees are recorded (notes are optional). */
export function signItemComplete(attendees: string): boolean {
  return attendees.trim().length > 0;
}

/**
 * Agenda item 5 of the governance review: attendees and notes (reported as `itemchange` events,
 * `detail: { field: 'attendees' | 'notes', value }`), what is still to do, and the Save draft and
 * Sign and lock buttons (`savedraft` and `sign` events). The container decides when signing is
 * allowed, saves the record and passes back the outcome (`statusMessage`, `saveErrors`).
 */
export default class GovernanceSignItem extends LightningElement {
  @api attendees = '';
  @api notes = '';
  /** Every control disabled: the review is signed, or a save is under way. */
  @api disabled = false;
  /** The review is still a draft: the buttons show. */
  @api editable = false;
  @api signDisabled = false;
  /** "Every item is complete." or "Still to do: …". */
  @api signHint = '';
  @api statusMessage = '';
  /** Why the last save failed (LDS error), if it failed. */
  @api saveErrors: unknown = undefined;

  get hasSaveError(): boolean {
    return this.saveErrors !== undefined;
  }

  /** A <textarea> has no `value` attribute to bind in a template: its property is set from `notes`. */
  renderedCallback(): void {
    const area = (this.template as unknown as ParentNode).querySelector('textarea');
    if (area && area.value !== this.notes) area.value = this.notes;
  }

  handleAttendees(event: Event): void {
    this.report('attendees', (event.target as HTMLInputElement).value);
  }

  handleNotes(event: Event): void {
    this.report('notes', (event.target as HTMLTextAreaElement).value);
  }

  handleSaveDraft(): void {
    this.dispatchEvent(new CustomEvent('savedraft'));
  }

  handleSign(): void {
    this.dispatchEvent(new CustomEvent('sign'));
  }

  report(field: string, value: string): void {
    this.dispatchEvent(new CustomEvent('itemchange', { detail: { field, value } }));
  }
}
