import { LightningElement, api, wire } from 'lwc';
import { graphql, gql } from 'lightning/graphql';
import { gqlDisplay, gqlHas, gqlNodes, gqlValue } from 'c/ldsUtils';
import CARE_PLAN_OBJECT from '@salesforce/schema/Care_Plan__c';
import NAME_FIELD from '@salesforce/schema/Care_Plan__c.Name';
import STATUS_FIELD from '@salesforce/schema/Care_Plan__c.Status__c';
import SESSIONS_ALLOWED_FIELD from '@salesforce/schema/Care_Plan__c.Sessions_Allowed__c';
import SESSIONS_USED_FIELD from '@salesforce/schema/Care_Plan__c.Sessions_Used__c';
import SESSIONS_REMAINING_FIELD from '@salesforce/schema/Care_Plan__c.Sessions_Remaining__c';
import PROGRESS_PERCENT_FIELD from '@salesforce/schema/Care_Plan__c.Progress_Percent__c';
import ISSUE_DATE_FIELD from '@salesforce/schema/Care_Plan__c.Issue_Date__c';
import EXPIRY_DATE_FIELD from '@salesforce/schema/Care_Plan__c.Expiry_Date__c';
import FUNDING_SOURCE_FIELD from '@salesforce/schema/Care_Plan__c.Funding_Source__c';
import BILLING_LIMIT_FIELD from '@salesforce/schema/Care_Plan__c.Billing_Limit__c';
import AMOUNT_INVOICED_FIELD from '@salesforce/schema/Care_Plan__c.Amount_Invoiced__c';

/** One care plan as the template renders it. Optional members are absent when FLS hides the field. */
export interface CarePlanView {
  id: string;
  planName: string;
  planStatus?: string;
  sessionsLabel: string;
  percent: number;
  percentLabel: string;
  barStyle: string;
  remaining?: string;
  issued?: string;
  expires?: string;
  funding?: string;
  showBilling: boolean;
  invoiced?: string;
  billingLimit?: string;
  billingLabel: string;
  statusClass: string;
}

const MAX_PLANS = 50;

function toView(node: Record<string, unknown>): CarePlanView {
  const used = gqlValue<number>(node, SESSIONS_USED_FIELD) ?? 0;
  const allowed = gqlValue<number>(node, SESSIONS_ALLOWED_FIELD);
  const stored = gqlValue<number>(node, PROGRESS_PERCENT_FIELD);
  // The sync computes Progress_Percent__c; fall back to used/allowed when it has not yet.
  const raw = stored ?? (allowed ? (used / allowed) * 100 : 0);
  const percent = Math.max(0, Math.min(100, Math.round(raw)));
  const name = gqlDisplay(node, NAME_FIELD) || String(node.Id);
  const status = gqlDisplay(node, STATUS_FIELD);
  const invoiced = gqlHas(node, AMOUNT_INVOICED_FIELD)
    ? gqlDisplay(node, AMOUNT_INVOICED_FIELD) || '—'
    : undefined;
  const billingLimit = gqlHas(node, BILLING_LIMIT_FIELD)
    ? gqlDisplay(node, BILLING_LIMIT_FIELD) || '—'
    : undefined;
  return {
    id: String(node.Id),
    planName: name,
    planStatus: status,
    sessionsLabel:
      allowed === null || allowed === undefined
        ? `${used} sessions used`
        : `${used} of ${allowed} sessions used`,
    percent,
    percentLabel: `${percent}%`,
    barStyle: `width: ${percent}%`,
    remaining: gqlHas(node, SESSIONS_REMAINING_FIELD)
      ? gqlDisplay(node, SESSIONS_REMAINING_FIELD) || '—'
      : undefined,
    issued: gqlHas(node, ISSUE_DATE_FIELD) ? gqlDisplay(node, ISSUE_DATE_FIELD) || '—' : undefined,
    expires: gqlHas(node, EXPIRY_DATE_FIELD) ? gqlDisplay(node, EXPIRY_DATE_FIELD) || '—' : undefined,
    funding: gqlHas(node, FUNDING_SOURCE_FIELD) ? gqlDisplay(node, FUNDING_SOURCE_FIELD) || '—' : undefined,
    // Billing appears only when FLS returned at least one billing field (the billing audience).
    showBilling: invoiced !== undefined || billingLimit !== undefined,
    invoiced,
    billingLimit,
    billingLabel: `Invoiced ${invoiced ?? '—'} of ${billingLimit ?? '—'} limit`,
    statusClass: status === 'Open' ? 'slds-badge slds-theme_success' : 'slds-badge',
  };
}

/**
 * Newest issue date first, plans without one (or hidden by FLS) last, otherwise in query order. Sorted
 * here rather than by `orderBy: Issue_Date__c` because marketing and billing cannot read Issue_Date__c:
 * a GraphQL orderBy or where on a field the user's FLS hides fails the whole query for that user.
 */
function byIssueDateDesc(nodes: Array<Record<string, unknown>>): Array<Record<string, unknown>> {
  const issued = (node: Record<string, unknown>): string => gqlValue<string>(node, ISSUE_DATE_FIELD) ?? '';
  // ISO dates (yyyy-mm-dd) compare correctly as strings; '' sorts after every date.
  return [...nodes].sort((a, b) => (issued(a) === issued(b) ? 0 : issued(a) > issued(b) ? -1 : 1));
}

/**
 * Care-plan progress on the Contact record page: sessions used of allowed, remaining, dates, status,
 * and (billing audience only) invoiced against the billing limit. Every field is `@optional` in the
 * query, so fields the user's permission set hides are missing from the response and not rendered.
 */
export default class CarePlanProgress extends LightningElement {
  @api recordId: string | undefined;

  plans: CarePlanView[] = [];
  errors: unknown = undefined;
  loaded = false;

  get variables(): Record<string, unknown> {
    return { contactId: this.recordId, first: MAX_PLANS };
  }

  @wire(graphql, {
    query: gql`
      query carePlans($contactId: ID, $first: Int) {
        uiapi {
          query {
            Care_Plan__c(
              where: { Contact__c: { eq: $contactId } }
              orderBy: { CreatedDate: { order: DESC } }
              first: $first
            ) {
              edges {
                node {
                  Id
                  Name @optional {
                    value
                  }
                  Status__c @optional {
                    value
                    displayValue
                  }
                  Sessions_Allowed__c @optional {
                    value
                  }
                  Sessions_Used__c @optional {
                    value
                  }
                  Sessions_Remaining__c @optional {
                    value
                  }
                  Progress_Percent__c @optional {
                    value
                  }
                  Issue_Date__c @optional {
                    value
                    displayValue
                  }
                  Expiry_Date__c @optional {
                    value
                    displayValue
                  }
                  Funding_Source__c @optional {
                    value
                    displayValue
                  }
                  Billing_Limit__c @optional {
                    value
                    displayValue
                  }
                  Amount_Invoiced__c @optional {
                    value
                    displayValue
                  }
                }
              }
            }
          }
        }
      }
    `,
    variables: '$variables',
    operationName: 'carePlans',
  })
  handleCarePlans(result: GraphqlResult<unknown>): void {
    if (result.errors) {
      this.errors = result.errors;
      this.plans = [];
      this.loaded = true;
    } else if (result.data) {
      this.errors = undefined;
      this.plans = byIssueDateDesc(gqlNodes(result.data, CARE_PLAN_OBJECT.objectApiName)).map(toView);
      this.loaded = true;
    }
  }

  get isLoading(): boolean {
    return !this.loaded;
  }

  get hasError(): boolean {
    return this.errors !== undefined;
  }

  get isEmpty(): boolean {
    return this.loaded && !this.hasError && this.plans.length === 0;
  }

  get hasPlans(): boolean {
    return !this.hasError && this.plans.length > 0;
  }
}
