import { createElement } from 'lwc';
import { graphql } from 'lightning/graphql';
import * as uiRecordApi from 'lightning/uiRecordApi';
import PatientJourney from 'c/patientJourney';
import contact from './data/contact.json';
import contactNoBilling from './data/contactNoBilling.json';
import transitionsPage1 from './data/transitionsPage1.json';
import transitionsPage2 from './data/transitionsPage2.json';

// sfdx-lwc-jest's platform stubs of the wire adapters.
const graphqlAdapter = graphql as unknown as {
  emit(value: unknown): void;
  emitErrors(errors: unknown): void;
  getLastConfig(): { variables: Record<string, unknown> };
};
// Read through the namespace: the lint rule allows the adapter itself only inside @wire.
const getRecordAdapter = uiRecordApi.getRecord as unknown as {
  emit(value: unknown): void;
  error(body?: unknown, httpStatus?: number, statusText?: string): void;
  getLastConfig(): Record<string, unknown>;
};

function flushPromises(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

function render(): HTMLElement & { recordId?: string } {
  const element = createElement('c-patient-journey', { is: PatientJourney }) as unknown as HTMLElement & {
    recordId?: string;
  };
  element.recordId = '003000000000001AAA';
  document.body.appendChild(element);
  return element;
}

function text(root: ShadowRoot, selector: string): string | undefined {
  return root.querySelector(selector)?.textContent?.trim();
}

function texts(root: ShadowRoot, selector: string): string[] {
  return Array.from(root.querySelectorAll(selector)).map((el) => (el.textContent ?? '').trim());
}

describe('c-patient-journey', () => {
  afterEach(() => {
    while (document.body.firstChild) document.body.removeChild(document.body.firstChild);
    jest.clearAllMocks();
  });

  describe('data path', () => {
    it('shows the current stage, since when, and the appointment summary', async () => {
      // Arrange
      const element = render();
      // Act
      getRecordAdapter.emit(contact);
      graphqlAdapter.emit(transitionsPage1);
      await flushPromises();
      // Assert
      const root = element.shadowRoot!;
      expect(getRecordAdapter.getLastConfig()).toMatchObject({ recordId: '003000000000001AAA' });
      expect(text(root, '.stage')).toBe('In Care');
      expect(text(root, '.stage-since')).toBe('since 15/10/2026 10:00 am');
      expect(text(root, '.attended')).toBe('7');
      expect(text(root, '.last-appointment')).toBe('18/11/2026');
      expect(text(root, '.next-appointment')).toBe('25/11/2026');
      expect(text(root, '.lifetime-invoiced')).toBe('$1,260.00');
      expect(text(root, '.unpaid-balance')).toBe('$90.00');
    });

    it('lists transitions newest first with trigger, from, to and when', async () => {
      const element = render();
      getRecordAdapter.emit(contact);
      graphqlAdapter.emit(transitionsPage1);
      await flushPromises();
      const root = element.shadowRoot!;
      expect(graphqlAdapter.getLastConfig().variables).toEqual({
        contactId: '003000000000001AAA',
        first: 10,
        after: null,
      });
      expect(root.querySelectorAll('.transition')).toHaveLength(10);
      expect(texts(root, '.trigger').slice(0, 2)).toEqual(['T9 Maintenance Reminder', 'T7 Reactivated']);
      expect(texts(root, '.from-stage')[1]).toBe('Lapsed');
      expect(texts(root, '.to-stage')[1]).toBe('In Care');
      expect(texts(root, '.occurred-at')[0]).toBe('21/11/2026 11:00 am');
      expect(text(root, '.page-label')).toBe('Page 1 of 2 (12 transitions)');
    });

    it('pages forward with the end cursor and back again', async () => {
      // Arrange
      const element = render();
      getRecordAdapter.emit(contact);
      graphqlAdapter.emit(transitionsPage1);
      await flushPromises();
      const root = element.shadowRoot!;
      expect((root.querySelector('button.previous') as HTMLButtonElement).disabled).toBe(true);

      // Act: next page
      (root.querySelector('button.next') as HTMLButtonElement).click();
      await flushPromises();
      expect(graphqlAdapter.getLastConfig().variables).toMatchObject({ after: 'djE6OQ==' });
      graphqlAdapter.emit(transitionsPage2);
      await flushPromises();

      // Assert
      expect(root.querySelectorAll('.transition')).toHaveLength(2);
      expect(text(root, '.page-label')).toBe('Page 2 of 2 (12 transitions)');
      expect((root.querySelector('button.next') as HTMLButtonElement).disabled).toBe(true);

      // Act: back to the first page
      (root.querySelector('button.previous') as HTMLButtonElement).click();
      await flushPromises();
      expect(graphqlAdapter.getLastConfig().variables).toMatchObject({ after: null });
    });

    it('is accessible', async () => {
      const element = render();
      getRecordAdapter.emit(contact);
      graphqlAdapter.emit(transitionsPage1);
      await flushPromises();
      await expect(element).toBeAccessible();
    });
  });

  describe('user without billing access', () => {
    it('renders no billing values when LDS omits the billing fields', async () => {
      const element = render();
      getRecordAdapter.emit(contactNoBilling);
      graphqlAdapter.emit(transitionsPage1);
      await flushPromises();
      const root = element.shadowRoot!;
      expect(text(root, '.stage')).toBe('In Care');
      expect(root.querySelector('.lifetime-invoiced')).toBeNull();
      expect(root.querySelector('.unpaid-balance')).toBeNull();
      expect(root.textContent).not.toContain('$');
      expect(root.textContent).not.toContain('invoiced');
      await expect(element).toBeAccessible();
    });
  });

  describe('empty state', () => {
    it('says no transitions are recorded and that no stage is set', async () => {
      const element = render();
      getRecordAdapter.emit({ apiName: 'Contact', id: '003000000000001AAA', fields: {} });
      graphqlAdapter.emit({
        uiapi: {
          query: {
            Journey_Transition__c: {
              totalCount: 0,
              pageInfo: { hasNextPage: false, endCursor: null },
              edges: [],
            },
          },
        },
      });
      await flushPromises();
      const root = element.shadowRoot!;
      expect(text(root, '.stage')).toBe('No stage yet');
      expect(root.querySelector('.stage-since')).toBeNull();
      expect(text(root, '.empty-state')).toBe('No journey transitions recorded yet.');
      expect(root.querySelector('nav')).toBeNull();
      await expect(element).toBeAccessible();
    });
  });

  describe('error path', () => {
    it('shows the error panel for the contact and for the timeline independently', async () => {
      const element = render();
      getRecordAdapter.error({ message: 'You do not have access to this record.' }, 403, 'Forbidden');
      graphqlAdapter.emitErrors([{ message: 'Journey_Transition__c is not supported' }]);
      await flushPromises();
      const root = element.shadowRoot!;
      const contactPanel = root.querySelector('c-error-panel.contact-error') as HTMLElement & {
        errors: unknown;
      };
      const timelinePanel = root.querySelector('c-error-panel.timeline-error') as HTMLElement & {
        errors: unknown;
      };
      expect(contactPanel).not.toBeNull();
      expect(contactPanel.errors).toMatchObject({
        body: { message: 'You do not have access to this record.' },
      });
      expect(timelinePanel.errors).toEqual([{ message: 'Journey_Transition__c is not supported' }]);
      expect(root.querySelector('.transition')).toBeNull();
      await expect(element).toBeAccessible();
    });
  });
});
