import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createElement } from 'lwc';
import { graphql } from 'lightning/graphql';
import * as uiRecordApi from 'lightning/uiRecordApi';
import PatientJourney from 'c/patientJourney';
import contact from './data/contact.json';
import contactNoBilling from './data/contactNoBilling.json';
import transitionsPage1 from './data/transitionsPage1.json';
import transitionsPage2 from './data/transitionsPage2.json';
import transitionsEvents from './data/transitionsEvents.json';
import { TRIGGER_PRESENTATION, presentTrigger } from '../labels';

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

function texts(root: ShadowRoot | Element, selector: string): string[] {
  return Array.from(root.querySelectorAll(selector)).map((el) => (el.textContent ?? '').trim());
}

/** The timeline entries, each with what it shows. */
function entries(root: ShadowRoot) {
  return Array.from(root.querySelectorAll('li.entry')).map((li) => ({
    title: li.querySelector('.title')?.textContent?.trim(),
    item: li.querySelector('.slds-timeline__item_expandable')!,
    icon: li.querySelector('.slds-media__figure div.slds-icon_container use')?.getAttribute('xlink:href'),
    stageNote: li.querySelector('.stage-note')?.textContent?.replace(/\s+/g, ' ').trim(),
    from: li.querySelector('.stages .from-stage')?.textContent?.trim(),
    to: li.querySelector('.stages .to-stage')?.textContent?.trim(),
    trigger: li.querySelector('.details .trigger')?.textContent?.trim(),
    toggle: li.querySelector('button.toggle') as HTMLButtonElement,
    details: li.querySelector('.details')!,
  }));
}

/** Trigger__c picklist values, read from the package's field definition. */
function triggerPicklistValues(): string[] {
  const xml = readFileSync(
    path.join(__dirname, '../../../objects/Journey_Transition__c/fields/Trigger__c.field-meta.xml'),
    'utf8',
  );
  return [...xml.matchAll(/<value>\s*<fullName>([^<]+)<\/fullName>/g)].map((m) => m[1]!);
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

    it('draws an SLDS activity timeline, newest first, with a sentence per trigger', async () => {
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
      const shown = entries(root);
      expect(shown).toHaveLength(10);
      // Human sentences, not picklist codes, as titles.
      expect(shown.slice(0, 6).map((e) => e.title)).toEqual([
        'Maintenance reminder due',
        'Booked again after a break',
        'Lapsed: no recent visit or booking',
        'At risk of dropping off: no next visit booked',
        'Attended their first appointment',
        'Booked a new-patient consult',
      ]);
      expect(texts(root, '.title').join('|')).not.toMatch(/\bT\d\b/);
      // The same-stage T9 reads as an event in its stage; the T7 reads as a transition (the control).
      expect(shown[0]).toMatchObject({ stageNote: 'While In Care', from: undefined, to: undefined });
      expect(shown[0]!.item.classList).toContain('slds-timeline__item_task');
      expect(shown[1]).toMatchObject({ stageNote: undefined, from: 'Lapsed', to: 'In Care' });
      expect(shown[1]!.item.classList).toContain('slds-timeline__item_event');
      expect(root.textContent).not.toContain('In Care → In Care');
      // SLDS activity timeline markup with a standard icon per kind of entry.
      expect(root.querySelector('ul.slds-timeline')).not.toBeNull();
      expect(shown[0]!.icon).toBe('/_slds/icons/standard-sprite/svg/symbols.svg#timeslot');
      expect(shown[5]!.icon).toBe('/_slds/icons/standard-sprite/svg/symbols.svg#event');
      // The picklist label stays available in the details, for admins who build Flows on it.
      expect(shown[0]!.trigger).toBe('T9 Maintenance Reminder');
      expect(texts(root, '.occurred-at')[0]).toBe('21/11/2026 11:00 am');
      expect(text(root, '.page-label')).toBe('Page 1 of 2 (12 entries)');
    });

    it('reads no-shows and cancellations as events, and shows an unknown trigger by its label', async () => {
      // Arrange
      const element = render();
      // Act
      getRecordAdapter.emit(contact);
      graphqlAdapter.emit(transitionsEvents);
      await flushPromises();
      // Assert
      const shown = entries(element.shadowRoot!);
      expect(shown.map((e) => [e.title, e.stageNote ?? `${e.from} → ${e.to}`])).toEqual([
        ['Cancelled an appointment', 'While In Care'],
        [
          'Moved to long-term nurture after a missed first visit',
          'New Patient Booked → Long-Term Lead Nurture',
        ],
        ['Missed appointment', 'While New Patient Booked'],
        // A trigger this version does not know keeps its picklist label; a hidden one (FLS) a neutral title.
        ['T10 Birthday Greeting', 'While Lead'],
        ['Journey update', 'Lead → New Patient Booked'],
      ]);
      expect(shown[2]!.icon).toBe('/_slds/icons/standard-sprite/svg/symbols.svg#incident');
      expect(shown[4]!.trigger).toBe('Not recorded');
      await expect(element).toBeAccessible();
    });

    it("opens and closes an entry's details with its toggle button", async () => {
      // Arrange
      const element = render();
      getRecordAdapter.emit(contact);
      graphqlAdapter.emit(transitionsPage1);
      await flushPromises();
      const root = element.shadowRoot!;
      const first = entries(root)[0]!;
      expect(first.toggle.getAttribute('aria-expanded')).toBe('false');
      expect(first.details.getAttribute('aria-hidden')).toBe('true');
      expect(first.toggle.getAttribute('aria-controls')).toBe(first.details.getAttribute('id'));

      // Act: open
      first.toggle.click();
      await flushPromises();

      // Assert: only that entry is open
      const opened = entries(root);
      expect(opened[0]!.item.classList).toContain('slds-is-open');
      expect(opened[0]!.toggle.getAttribute('aria-expanded')).toBe('true');
      expect(opened[0]!.details.getAttribute('aria-hidden')).toBe('false');
      expect(opened[1]!.item.classList).not.toContain('slds-is-open');
      await expect(element).toBeAccessible();

      // Act: close again
      opened[0]!.toggle.click();
      await flushPromises();
      expect(entries(root)[0]!.item.classList).not.toContain('slds-is-open');
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
      expect(root.querySelectorAll('li.entry')).toHaveLength(2);
      expect(text(root, '.page-label')).toBe('Page 2 of 2 (12 entries)');
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

  describe('labels', () => {
    it('gives every Trigger__c picklist value a sentence without its code', () => {
      const values = triggerPicklistValues();
      expect(values).toHaveLength(9);
      for (const value of values) {
        const { label } = presentTrigger(value, value);
        expect(label).not.toBe(value);
        expect(label).not.toMatch(/\bT\d\b/);
      }
      expect(Object.keys(TRIGGER_PRESENTATION)).toHaveLength(values.length);
    });

    it('falls back to the label it is given for a value it does not know (the control)', () => {
      expect(presentTrigger('T10 Birthday Greeting', 'T10 Birthday Greeting').label).toBe(
        'T10 Birthday Greeting',
      );
      expect(presentTrigger(undefined, undefined).label).toBe('Journey update');
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
      expect(text(root, '.empty-state')).toBe('Nothing on the journey yet.');
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
      expect(root.querySelector('li.entry')).toBeNull();
      await expect(element).toBeAccessible();
    });
  });
});
