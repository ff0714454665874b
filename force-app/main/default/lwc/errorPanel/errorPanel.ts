import { LightningElement, api } from 'lwc';
import { reduceErrors } from 'c/ldsUtils';

/**
 * The one error presentation every component uses: a friendly message, and the underlying error
 * messages behind a disclosure for whoever reports the problem.
 */
export default class ErrorPanel extends LightningElement {
  /** Human-readable summary shown first. */
  @api friendlyMessage = 'Something went wrong while loading this information.';
  /** Raw errors from a wire, LDS, GraphQL or Apex call. */
  @api errors: unknown;

  viewDetails = false;

  get errorMessages(): string[] {
    return reduceErrors(this.errors);
  }

  get hasDetails(): boolean {
    return this.errorMessages.length > 0;
  }

  get detailsLabel(): string {
    return this.viewDetails ? 'Hide details' : 'Show details';
  }

  handleToggleDetails(): void {
    this.viewDetails = !this.viewDetails;
  }
}
