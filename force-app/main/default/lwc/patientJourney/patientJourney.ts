import { LightningElement, api, wire } from 'lwc';
import { getRecord, getFieldDisplayValue, getFieldValue } from 'lightning/uiRecordApi';
import { graphql, gql } from 'lightning/graphql';
import { gqlDisplay, gqlNodes, gqlValue } from 'c/ldsUtils';
import JOURNEY_STAGE_FIELD from '@salesforce/schema/Contact.Journey_Stage__c';
import JOURNEY_STAGE_SINCE_FIELD from '@salesforce/schema/Contact.Journey_Stage_Since__c';
import APPOINTMENTS_ATTENDED_FIELD from '@salesforce/schema/Contact.Appointments_Attended__c';
import LAST_APPOINTMENT_FIELD from '@salesforce/schema/Contact.Last_Appointment_Date__c';
import NEXT_APPOINTMENT_FIELD from '@salesforce/schema/Contact.Next_Appointment_Date__c';
import LIFETIME_INVOICED_FIELD from '@salesforce/schema/Contact.Lifetime_Invoiced__c';
import UNPAID_BALANCE_FIELD from '@salesforce/schema/Contact.Unpaid_Balance__c';
import TRANSITION_OBJECT from '@salesforce/schema/Journey_Transition__c';
import TRIGGER_FIELD from '@salesforce/schema/Journey_Transition__c.Trigger__c';
import FROM_STAGE_FIELD from '@salesforce/schema/Journey_Transition__c.From_Stage__c';
import TO_STAGE_FIELD from '@salesforce/schema/Journey_Transition__c.To_Stage__c';
import OCCURRED_AT_FIELD from '@salesforce/schema/Journey_Transition__c.Occurred_At__c';
import { presentTrigger, standardIconClass, standardIconHref } from './labels';

/** Timeline entries shown per page. */
export const PAGE_SIZE = 10;

// optionalFields: LDS leaves out a field the user's FLS hides instead of failing the whole record,
// which is how the billing summary disappears for audiences without billing access.
const CONTACT_FIELDS = [
  JOURNEY_STAGE_FIELD,
  JOURNEY_STAGE_SINCE_FIELD,
  APPOINTMENTS_ATTENDED_FIELD,
  LAST_APPOINTMENT_FIELD,
  NEXT_APPOINTMENT_FIELD,
  LIFETIME_INVOICED_FIELD,
  UNPAID_BALANCE_FIELD,
];

/** One timeline entry (a `Journey_Transition__c` record) as the template draws it. */
interface TimelineEntry {
  id: string;
  /** The sentence for the trigger ("Missed appointment"). */
  title: string;
  /** The picklist label ("T3 No-Show"), kept in the details for admins who build Flows on it. */
  trigger: string;
  /** From = To: an event that leaves the stage as it is (T3, T4, T9), not a transition. */
  isEvent: boolean;
  fromStage: string;
  toStage: string;
  occurredAt: string;
  itemClass: string;
  iconClass: string;
  iconHref: string;
  iconTitle: string;
  detailsId: string;
  /** aria-expanded / aria-hidden as 'true' or 'false' (LWC renders a boolean true as an empty value). */
  expanded: string;
  detailsHidden: string;
  toggleLabel: string;
}

interface Connection {
  totalCount?: number;
  pageInfo?: { hasNextPage?: boolean; endCursor?: string | null };
}

/** Display text of an LDS field, or undefined when the field is absent (FLS) or empty. */
function ldsText(record: LdsRecord | undefined, field: SchemaFieldId): string | undefined {
  if (!record || record.fields[field.fieldApiName] === undefined) return undefined;
  const display = getFieldDisplayValue(record, field);
  const value = getFieldValue(record, field);
  if (display) return display;
  return value === null || value === undefined ? undefined : String(value as string | number);
}

/**
 * The patient journey on the Contact record page: the current stage and since when (from the
 * Contact through LDS), and a paginated SLDS activity timeline of Journey_Transition__c records,
 * newest first. Each entry reads as a sentence (labels.ts); a transition shows the stage it moved
 * from and to, an event that leaves the stage as it is (From = To) shows the stage it happened in.
 */
export default class PatientJourney extends LightningElement {
  @api recordId: string | undefined;

  contact: LdsRecord | undefined;
  contactError: unknown = undefined;
  contactLoaded = false;

  /** The current page's records, as read; `entries` derives what the template draws. */
  nodes: Array<Record<string, unknown>> = [];
  /** Ids of the entries whose details are open. */
  openIds: string[] = [];
  timelineError: unknown = undefined;
  timelineLoaded = false;
  totalCount = 0;
  hasNextPage = false;
  endCursor: string | null = null;
  /** `after` cursors of the pages visited so far; the last one is the current page's. */
  cursors: Array<string | null> = [null];

  @wire(getRecord, { recordId: '$recordId', optionalFields: CONTACT_FIELDS })
  handleContact(result: { data?: LdsRecord; error?: unknown }): void {
    if (result.error) {
      this.contactError = result.error;
      this.contact = undefined;
      this.contactLoaded = true;
    } else if (result.data) {
      this.contactError = undefined;
      this.contact = result.data;
      this.contactLoaded = true;
    }
  }

  get variables(): Record<string, unknown> {
    return {
      contactId: this.recordId,
      first: PAGE_SIZE,
      after: this.cursors[this.cursors.length - 1] ?? null,
    };
  }

  @wire(graphql, {
    query: gql`
      query journeyTransitions($contactId: ID, $first: Int, $after: String) {
        uiapi {
          query {
            Journey_Transition__c(
              where: { Contact__c: { eq: $contactId } }
              orderBy: { Occurred_At__c: { order: DESC } }
              first: $first
              after: $after
            ) {
              totalCount
              pageInfo {
                hasNextPage
                endCursor
              }
              edges {
                node {
                  Id
                  Trigger__c @optional {
                    value
                    displayValue
                  }
                  From_Stage__c @optional {
                    value
                    displayValue
                  }
                  To_Stage__c @optional {
                    value
                    displayValue
                  }
                  Occurred_At__c @optional {
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
    operationName: 'journeyTransitions',
  })
  handleTransitions(result: GraphqlResult<unknown>): void {
    if (result.errors) {
      this.timelineError = result.errors;
      this.nodes = [];
      this.timelineLoaded = true;
    } else if (result.data) {
      this.timelineError = undefined;
      const connection = (result.data as { uiapi?: { query?: Record<string, Connection> } }).uiapi?.query?.[
        TRANSITION_OBJECT.objectApiName
      ];
      this.totalCount = connection?.totalCount ?? 0;
      this.hasNextPage = connection?.pageInfo?.hasNextPage === true;
      this.endCursor = connection?.pageInfo?.endCursor ?? null;
      this.nodes = gqlNodes(result.data, TRANSITION_OBJECT.objectApiName);
      this.timelineLoaded = true;
    }
  }

  get entries(): TimelineEntry[] {
    return this.nodes.map((node) => {
      const id = String(node.Id);
      const triggerLabel = gqlDisplay(node, TRIGGER_FIELD);
      const presentation = presentTrigger(gqlValue<string>(node, TRIGGER_FIELD), triggerLabel);
      const fromStage = gqlDisplay(node, FROM_STAGE_FIELD);
      const toStage = gqlDisplay(node, TO_STAGE_FIELD);
      // Compared on the picklist values (the API names), shown by their labels.
      const toValue = gqlValue<string>(node, TO_STAGE_FIELD);
      const isEvent = Boolean(toValue) && gqlValue<string>(node, FROM_STAGE_FIELD) === toValue;
      const isOpen = this.openIds.includes(id);
      return {
        id,
        title: presentation.label,
        trigger: triggerLabel || 'Not recorded',
        isEvent,
        fromStage: fromStage || 'Not set',
        toStage: toStage || 'Not set',
        occurredAt: gqlDisplay(node, OCCURRED_AT_FIELD) || '',
        itemClass: `slds-timeline__item_expandable slds-timeline__item_${presentation.kind}${isOpen ? ' slds-is-open' : ''}`,
        iconClass: standardIconClass(presentation.icon),
        iconHref: standardIconHref(presentation.icon),
        iconTitle: isEvent ? 'Event' : 'Stage change',
        detailsId: `journey-details-${id}`,
        expanded: isOpen ? 'true' : 'false',
        detailsHidden: isOpen ? 'false' : 'true',
        toggleLabel: `Details of ${presentation.label}`,
      };
    });
  }

  handleToggle(event: Event): void {
    const id = (event.currentTarget as HTMLElement).dataset.id;
    if (!id) return;
    this.openIds = this.openIds.includes(id) ? this.openIds.filter((x) => x !== id) : [...this.openIds, id];
  }

  get stage(): string | undefined {
    return ldsText(this.contact, JOURNEY_STAGE_FIELD);
  }

  get stageSince(): string | undefined {
    return ldsText(this.contact, JOURNEY_STAGE_SINCE_FIELD);
  }

  get stageLabel(): string {
    return this.stage ?? 'No stage yet';
  }

  get attended(): string | undefined {
    return ldsText(this.contact, APPOINTMENTS_ATTENDED_FIELD);
  }

  get lastAppointment(): string | undefined {
    return ldsText(this.contact, LAST_APPOINTMENT_FIELD);
  }

  get nextAppointment(): string | undefined {
    return ldsText(this.contact, NEXT_APPOINTMENT_FIELD);
  }

  get lifetimeInvoiced(): string | undefined {
    return ldsText(this.contact, LIFETIME_INVOICED_FIELD);
  }

  get unpaidBalance(): string | undefined {
    return ldsText(this.contact, UNPAID_BALANCE_FIELD);
  }

  get isContactLoading(): boolean {
    return !this.contactLoaded;
  }

  get hasContactError(): boolean {
    return this.contactError !== undefined;
  }

  get isTimelineLoading(): boolean {
    return !this.timelineLoaded;
  }

  get hasTimelineError(): boolean {
    return this.timelineError !== undefined;
  }

  get isTimelineEmpty(): boolean {
    return this.timelineLoaded && !this.hasTimelineError && this.nodes.length === 0;
  }

  get hasEntries(): boolean {
    return !this.hasTimelineError && this.nodes.length > 0;
  }

  get pageNumber(): number {
    return this.cursors.length;
  }

  get pageCount(): number {
    return Math.max(1, Math.ceil(this.totalCount / PAGE_SIZE));
  }

  get pageLabel(): string {
    return `Page ${this.pageNumber} of ${this.pageCount} (${this.totalCount} entries)`;
  }

  get isFirstPage(): boolean {
    return this.cursors.length <= 1;
  }

  get isLastPage(): boolean {
    return !this.hasNextPage;
  }

  handleNext(): void {
    if (!this.hasNextPage || !this.endCursor) return;
    this.cursors = [...this.cursors, this.endCursor];
  }

  handlePrevious(): void {
    if (this.cursors.length <= 1) return;
    this.cursors = this.cursors.slice(0, -1);
  }
}
