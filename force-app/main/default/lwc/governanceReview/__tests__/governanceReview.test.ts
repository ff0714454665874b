import { createElement } from 'lwc';
import { graphql } from 'lightning/graphql';
import { createRecord, getRecords, updateRecord } from 'lightning/uiRecordApi';
import { getObjectInfo } from 'lightning/uiObjectInfoApi';
import getDataMap from '@salesforce/apex/ClinikoGovernanceController.getDataMap';
import getFieldHistory from '@salesforce/apex/ClinikoGovernanceController.getFieldHistory';
import GovernanceReview from 'c/governanceReview';
import governanceData from './data/governanceData.json';
import fieldHistory from './data/fieldHistory.json';
import dataMapSignoff from './data/dataMapSignoff.json';
import sampledContacts from './data/sampledContacts.json';
import contactObjectInfo from './data/contactObjectInfo.json';

jest.mock('@salesforce/apex/ClinikoGovernanceController.getDataMap', () => ({ default: jest.fn() }), {
  virtual: true,
});
jest.mock('@salesforce/apex/ClinikoGovernanceController.getFieldHistory', () => ({ default: jest.fn() }), {
  virtual: true,
});

// sfdx-lwc-jest's platform stubs: the GraphQL wire adapter and the LDS record functions.
const graphqlAdapter = graphql as unknown as {
  emit(value: unknown, filter?: unknown, refresh?: () => Promise<void>): void;
  emitErrors(errors: unknown): void;
  getLastConfig(): Record<string, unknown>;
};
// LDS wire adapters (pre-stubbed): the sampled Contacts' fields and Contact's field labels.
// eslint-disable-next-line @lwc/lwc/no-unexpected-wire-adapter-usages -- the test drives the stub's emit()/error()
const getRecordsAdapter = getRecords as unknown as {
  emit(value: unknown): void;
  error(body?: unknown, statusCode?: number, statusText?: string): void;
  getLastConfig(): Record<string, unknown>;
};
// eslint-disable-next-line @lwc/lwc/no-unexpected-wire-adapter-usages -- the test drives the stub's emit()
const objectInfoAdapter = getObjectInfo as unknown as { emit(value: unknown): void };
const createRecordMock = createRecord as unknown as jest.Mock;
const updateRecordMock = updateRecord as unknown as jest.Mock;
const getDataMapMock = getDataMap as unknown as jest.Mock;
const getFieldHistoryMock = getFieldHistory as unknown as jest.Mock;

const SIGNED_HASH = dataMapSignoff.signoff.signedHash;
const NOW = Date.parse('2026-11-22T10:00:00.000Z');

function flushPromises(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

type Root = ShadowRoot;

async function render(
  data: unknown = governanceData,
  refresh?: () => Promise<void>,
  records: unknown = sampledContacts,
): Promise<HTMLElement> {
  const element = createElement('c-governance-review', { is: GovernanceReview }) as unknown as HTMLElement;
  document.body.appendChild(element);
  graphqlAdapter.emit(data, undefined, refresh);
  objectInfoAdapter.emit(contactObjectInfo);
  await flushPromises();
  await flushPromises();
  // The sample is drawn and the data map read: now the sampled records' fields arrive.
  if (records !== null) getRecordsAdapter.emit(records);
  await flushPromises();
  return element;
}

/**
 * Every element matching `selector` in `scope` and in the shadow trees of the components inside it,
 * in document order. The agenda items are child components, so their controls live in the children's
 * shadow roots, which a plain querySelector on the container does not enter.
 */
function all<T extends Element = HTMLElement>(scope: ParentNode, selector: string): T[] {
  const found: T[] = [];
  const visit = (node: ParentNode): void => {
    for (const child of Array.from(node.children)) {
      if (child.matches(selector)) found.push(child as T);
      if (child.shadowRoot) visit(child.shadowRoot);
      visit(child);
    }
  };
  visit(scope);
  return found;
}

/** The first match of `selector` across the container and its children, or null. */
function find<T extends Element = HTMLElement>(scope: ParentNode, selector: string): T | null {
  return all<T>(scope, selector)[0] ?? null;
}

function q<T extends Element = HTMLElement>(root: Root, selector: string): T {
  const found = find<T>(root, selector);
  if (!found) throw new Error(`no element matches ${selector}`);
  return found;
}

function texts(root: ParentNode, selector: string): string[] {
  return all(root, selector).map((el) => (el.textContent ?? '').replace(/\s+/g, ' ').trim());
}

/** The text of the container and of every child component's shadow tree. */
function allText(root: Root): string {
  return [root, ...all(root, '*').flatMap((el) => (el.shadowRoot ? [el.shadowRoot] : []))]
    .map((scope) => scope.textContent ?? '')
    .join(' ');
}

function tick(root: Root, selector: string, index = 0): void {
  const box = all<HTMLInputElement>(root, selector)[index]!;
  box.checked = true;
  box.dispatchEvent(new CustomEvent('change'));
}

function type(root: Root, selector: string, value: string): void {
  const field = q<HTMLInputElement | HTMLTextAreaElement>(root, selector);
  field.value = value;
  field.dispatchEvent(new CustomEvent('change'));
}

/** Works through every agenda item the way the compliance officer would (item 3 is done by the data). */
async function completeChecklist(root: Root): Promise<void> {
  tick(root, 'input.map-unchanged');
  type(root, 'textarea.map-notes', 'Hash matches the sign-off; no runs under another map.');
  tick(root, 'input.access-reviewed');
  type(root, 'textarea.access-notes', 'Billing assignment for Sam Lee approved by the practice manager.');
  for (let i = 0; i < 3; i++) {
    tick(root, 'input.spot-checked', i);
    tick(root, 'input.spot-no-clinical', i);
  }
  type(root, 'textarea.consent-explanation', 'Two email opt-outs pending the nightly write-back.');
  tick(root, 'input.consent-reviewed');
  type(root, 'input.attendees', 'Jane Citizen (Compliance Officer); Sam Lee (Practice Manager)');
  type(root, 'textarea.notes', 'No findings.');
  await flushPromises();
}

describe('c-governance-review', () => {
  beforeEach(() => {
    jest.spyOn(Date, 'now').mockReturnValue(NOW);
    getDataMapMock.mockResolvedValue(dataMapSignoff);
    getFieldHistoryMock.mockResolvedValue(fieldHistory);
    createRecordMock.mockResolvedValue({ id: 'a0R000000000003AAA' });
    updateRecordMock.mockResolvedValue({ id: 'a0R000000000003AAA' });
  });

  afterEach(() => {
    while (document.body.firstChild) document.body.removeChild(document.body.firstChild);
    jest.restoreAllMocks();
    jest.clearAllMocks();
  });

  describe('data path', () => {
    it("shows the audit trail's last verification and the quarter's counts (en-US)", async () => {
      // Arrange + act
      const element = await render();
      const root = element.shadowRoot!;
      // Assert
      expect(texts(root, '.verification-result')).toEqual(['Intact']);
      expect(texts(root, '.verification-text')[0]).toContain('12,840 entries, 91 Salesforce anchors');
      expect(texts(root, '.quarter-created')).toEqual(['1,250', '5,120', '0']);
      expect(texts(root, '.quarter-totals')[0]).toContain(
        'Write-backs: 14; sign-offs: 2; dead letters: 3; quarantines: 1',
      );
      expect(texts(root, '.summary-item').join(' ')).toContain('Audit trail verification: Intact.');
    });

    it('shows the first failing sequence of a broken verification, and no quarter summary of another quarter', async () => {
      const data = JSON.parse(JSON.stringify(governanceData)) as typeof governanceData;
      const v = data.uiapi.query.Audit_Verification__c.edges[0]!.node;
      v.Result__c.value = 'Broken';
      (v.First_Failing_Sequence__c as { value: number | null }).value = 12001;
      data.uiapi.query.Quarter_Summary__c.edges[0]!.node.Quarter__c.value = '2026-Q3';
      const element = await render(data);
      const root = element.shadowRoot!;
      expect(texts(root, '.verification-result')).toEqual(['Broken']);
      expect(texts(root, '.verification-text')[0]).toContain('first failing sequence 12,001');
      expect(texts(root, '.no-quarter')).toHaveLength(1);
    });

    it('shows this quarter and the data-map hashes (item 1)', async () => {
      const element = await render();
      const root = element.shadowRoot!;
      expect(graphqlAdapter.getLastConfig()).toMatchObject({
        operationName: 'governanceReviewData',
        variables: { since: '2026-10-01T00:00:00.000Z' },
      });
      expect(q(root, '#review-heading').textContent).toBe('Quarterly governance review 2026-Q4');
      expect(texts(root, '.current-hash')).toEqual([SIGNED_HASH]);
      expect(texts(root, '.signed-hash')).toEqual([SIGNED_HASH]);
      expect(texts(root, '.last-review-hash')).toEqual([SIGNED_HASH]);
      expect(find(root, '.map-warning')).toBeNull();
    });

    it('lists only the access changes detected since the last signed review (item 2)', async () => {
      const element = await render();
      const root = element.shadowRoot!;
      expect(texts(root, '.access-summary')).toEqual(['2 access changes since GR-0002.']);
      expect(texts(root, '.access-user')).toEqual(['sam.lee@clinic.example', 'ava.brown@clinic.example']);
      expect(texts(root, '.access-what')).toEqual([
        'Assigned: Cliniko_Sync_Billing',
        'Removed: Cliniko_Sync_Marketing',
      ]);
    });

    it('samples records synced this quarter and shows their synced fields, shape checks and field history (item 4)', async () => {
      const element = await render();
      const root = element.shadowRoot!;
      expect(getFieldHistoryMock).toHaveBeenCalledWith({
        contactIds: ['003000000000101AAA', '003000000000102AAA', '003000000000103AAA'],
      });
      expect(texts(root, '.spot-label')).toEqual([
        'Noah Patel (Cliniko 100101)',
        'Olivia Jones (Cliniko 100102)',
        'Mia Chen (Cliniko 100103)',
      ]);
      // The LDS request: the sampled ids, every synced Contact field of the map, optional (FLS may hide it).
      expect(getRecordsAdapter.getLastConfig()).toEqual({
        records: [
          {
            recordIds: ['003000000000101AAA', '003000000000102AAA', '003000000000103AAA'],
            optionalFields: [
              'Contact.FirstName',
              'Contact.LastName',
              'Contact.Email',
              'Contact.MobilePhone',
              'Contact.MailingPostalCode',
              'Contact.Birthdate',
              'Contact.MailingStreet',
            ],
          },
        ],
      });
      const first = all(root, '.spot-check')[0]!;
      expect(texts(first, '.spot-field-label')).toEqual([
        'First Name',
        'Last Name',
        'Email',
        'Mobile',
        'Mailing Zip/Postal Code',
        'Birthdate',
        'Mailing Street',
      ]);
      expect(texts(first, '.spot-field-value')[5]).toBe('Feb 29, 1984');
      expect(texts(first, '.spot-field-flag')).toEqual([
        'Fits',
        'Fits',
        'Fits',
        'Fits',
        'Fits',
        'Fits',
        'Not checked',
      ]);
      // Olivia's postcode holds a note: flagged, without repeating the value in the reason.
      const second = all(root, '.spot-check')[1]!;
      expect(texts(second, '.spot-field-flag')[4]).toBe('Does not fit: not a postcode');
      expect(texts(second, '.spot-flagged')).toEqual(['1 value(s) do not fit their shape.']);
      // History rows carry labels and the user's time zone (sfdx-lwc-jest: en-US, America/Los_Angeles).
      expect(texts(first, '.history-row')).toEqual([
        'Email: noah@old.example → noah@new.example, Nov 2, 2026, 6:00 PM PST by Cliniko Integration',
        'Journey Stage: Started Care → In Care, Oct 19, 2026, 7:00 PM PDT by Cliniko Integration',
      ]);
      expect(texts(all(root, '.spot-check')[1]!, '.no-history')).toEqual(['No field history recorded.']);
      expect(all(root, 'input.spot-checked')[0]!.getAttribute('aria-label')).toBe(
        'Checked: Noah Patel (Cliniko 100101)',
      );
    });

    it('compares consent counts (item 4) and lists previous reviews', async () => {
      const element = await render();
      const root = element.shadowRoot!;
      expect(texts(root, '.consent-gap')).toEqual(['-2', '1']);
      expect(texts(root, '.previous-quarter')).toEqual(['2026-Q3', '2026-Q2']);
    });

    it('keeps Sign and lock disabled until every item is complete', async () => {
      const element = await render();
      const root = element.shadowRoot!;
      const sign = q<HTMLButtonElement>(root, 'button.sign');
      expect(sign.disabled).toBe(true);
      // Item 3 is done by the data: an intact verification this quarter.
      expect(texts(root, '.step-label')).toEqual([
        '1. Data map unchanged without sign-off',
        '2. Access changes reviewed',
        '3. Audit trail verified this quarter',
        '4. Change-log spot check',
        '5. Consent counts compared',
        '6. Attendees and notes',
      ]);
      expect(texts(root, '.step-state')).toEqual(['To do', 'To do', 'Done', 'To do', 'To do', 'To do']);

      tick(root, 'input.consent-reviewed');
      await flushPromises();
      // The consent gap is not zero, so the item needs an explanation too.
      expect(texts(root, '.step-state')[4]).toBe('To do');
      type(root, 'textarea.consent-explanation', 'Explained.');
      await flushPromises();
      expect(texts(root, '.step-state')[4]).toBe('Done');
      expect(sign.disabled).toBe(true);
    });

    it('is accessible', async () => {
      const element = await render();
      await expect(element).toBeAccessible();
    });
  });

  describe('end to end: complete, sign and lock', () => {
    it('saves a Governance_Review__c with every item, signs it and locks editing', async () => {
      // Arrange
      const refresh = jest.fn().mockResolvedValue(undefined);
      const element = await render(governanceData, refresh);
      const root = element.shadowRoot!;

      // Act: every item, then sign
      await completeChecklist(root);
      expect(texts(root, '.step-state')).toEqual(['Done', 'Done', 'Done', 'Done', 'Done', 'Done']);
      const sign = q<HTMLButtonElement>(root, 'button.sign');
      expect(sign.disabled).toBe(false);
      sign.click();
      await flushPromises();
      await flushPromises();

      // Assert: the record saved with the expected field values
      expect(createRecordMock).toHaveBeenCalledTimes(1);
      const input = createRecordMock.mock.calls[0]![0] as {
        apiName: string;
        fields: Record<string, unknown>;
      };
      expect(input.apiName).toBe('Governance_Review__c');
      // Never created signed (rule Signed_Only_From_Draft): a draft, then the signing update.
      expect(updateRecordMock).toHaveBeenCalledTimes(1);
      expect(
        (updateRecordMock.mock.calls[0]![0] as { fields: Record<string, unknown> }).fields,
      ).toMatchObject({
        Id: 'a0R000000000003AAA',
        Status__c: 'Signed',
      });
      expect(input.fields).toEqual({
        Quarter__c: '2026-Q4',
        Status__c: 'Draft',
        Data_Map_Hash__c: SIGNED_HASH,
        Data_Map_Unchanged__c: true,
        Data_Map_Notes__c: 'Hash matches the sign-off; no runs under another map.',
        Access_Changes_Reviewed__c: true,
        Access_Notes__c: 'Billing assignment for Sam Lee approved by the practice manager.',
        Spot_Check_Complete__c: true,
        No_Clinical_Content_Found__c: true,
        Spot_Check_Sample__c: JSON.stringify([
          {
            recordId: '003000000000101AAA',
            clinikoPatientId: '100101',
            checked: true,
            noClinicalContent: true,
          },
          {
            recordId: '003000000000102AAA',
            clinikoPatientId: '100102',
            checked: true,
            noClinicalContent: true,
          },
          {
            recordId: '003000000000103AAA',
            clinikoPatientId: '100103',
            checked: true,
            noClinicalContent: true,
          },
        ]),
        Consent_Reviewed__c: true,
        Consent_Gap_Explanation__c: 'Two email opt-outs pending the nightly write-back.',
        Attendees__c: 'Jane Citizen (Compliance Officer); Sam Lee (Practice Manager)',
        Notes__c: 'No findings.',
      });
      // Who signed and when are Salesforce's (formula fields), never sent by the browser.
      const signedFields = (updateRecordMock.mock.calls[0]![0] as { fields: Record<string, unknown> }).fields;
      expect(signedFields).not.toHaveProperty('Signed_By__c');
      expect(signedFields).not.toHaveProperty('Signed_At__c');
      expect(refresh).toHaveBeenCalled();

      // Assert: editing is locked
      expect(texts(root, '.status-message')).toEqual(['Review signed and locked.']);
      expect(find(root, '.locked')).not.toBeNull();
      expect(find(root, 'button.sign')).toBeNull();
      expect(find(root, 'button.save-draft')).toBeNull();
      const controls = all<HTMLInputElement>(root, '.item input, .item textarea');
      expect(controls.length).toBeGreaterThan(8);
      expect(controls.every((c) => c.disabled)).toBe(true);

      // A change event on a locked control (e.g. from devtools) changes nothing.
      const notes = q<HTMLTextAreaElement>(root, 'textarea.notes');
      notes.value = 'edited after signing';
      notes.dispatchEvent(new CustomEvent('change'));
      await flushPromises();
      expect(texts(root, '.summary-item')).toContain('Notes: No findings.');
      expect(createRecordMock).toHaveBeenCalledTimes(1);
      expect(updateRecordMock).toHaveBeenCalledTimes(1);
      await expect(element).toBeAccessible();
    });

    it('saves a draft first, then signs the same record with updateRecord', async () => {
      const element = await render();
      const root = element.shadowRoot!;
      tick(root, 'input.access-reviewed');
      q<HTMLButtonElement>(root, 'button.save-draft').click();
      await flushPromises();
      expect(createRecordMock).toHaveBeenCalledTimes(1);
      const draft = createRecordMock.mock.calls[0]![0] as { fields: Record<string, unknown> };
      expect(draft.fields).toMatchObject({ Status__c: 'Draft', Access_Changes_Reviewed__c: true });
      expect(draft.fields).not.toHaveProperty('Signed_By__c');
      expect(texts(root, '.status-message')).toEqual(['Draft saved.']);

      await completeChecklist(root);
      q<HTMLButtonElement>(root, 'button.sign').click();
      await flushPromises();
      expect(createRecordMock).toHaveBeenCalledTimes(1);
      expect(updateRecordMock).toHaveBeenCalledTimes(1);
      const signed = updateRecordMock.mock.calls[0]![0] as { fields: Record<string, unknown> };
      expect(signed.fields).toMatchObject({ Id: 'a0R000000000003AAA', Status__c: 'Signed' });
      expect(signed.fields).not.toHaveProperty('Signed_By__c');
      expect(signed.fields).not.toHaveProperty('Signed_At__c');
    });

    it("opens this quarter's signed review read-only with its saved values", async () => {
      const data = JSON.parse(JSON.stringify(governanceData)) as typeof governanceData;
      const signedThisQuarter = JSON.parse(
        JSON.stringify(data.uiapi.query.Governance_Review__c.edges[0]),
      ) as (typeof data.uiapi.query.Governance_Review__c.edges)[0];
      signedThisQuarter.node.Id = 'a0R000000000009AAA';
      signedThisQuarter.node.Name.value = 'GR-0003';
      signedThisQuarter.node.Quarter__c.value = '2026-Q4';
      signedThisQuarter.node.Signed_At__c = { value: '2026-11-20T04:00:00.000Z' };
      signedThisQuarter.node.Spot_Check_Sample__c.value = JSON.stringify([
        {
          recordId: '003000000000102AAA',
          clinikoPatientId: '100102',
          checked: true,
          noClinicalContent: true,
        },
      ]);
      data.uiapi.query.Governance_Review__c.edges.unshift(signedThisQuarter);

      const element = await render(data);
      const root = element.shadowRoot!;
      expect(texts(root, '.locked')).toEqual([
        // The user's locale (the jest default, en-US) and the time zone of the test run.
        `Signed by Jane Citizen on ${new Intl.DateTimeFormat('en-US', { dateStyle: 'medium', timeStyle: 'short' }).format(new Date('2026-11-20T04:00:00.000Z'))}. This review is locked.`,
      ]);
      expect(find(root, 'button.sign')).toBeNull();
      expect(q<HTMLInputElement>(root, 'input.attendees').value).toBe('Jane Citizen; Sam Lee');
      expect(q<HTMLInputElement>(root, 'input.attendees').disabled).toBe(true);
      expect(q<HTMLTextAreaElement>(root, 'textarea.consent-explanation').value).toBe(
        'Two patients opted out in Salesforce before the fix.',
      );
      expect(q<HTMLTextAreaElement>(root, 'textarea.access-notes').value).toBe(
        'Two marketing assignments, both expected.',
      );
      // The saved sample is shown again, not a new random draw.
      expect(texts(root, '.spot-label')).toEqual(['Olivia Jones (Cliniko 100102)']);
      expect(texts(root, '.previous-quarter')).toEqual(['2026-Q3', '2026-Q2']);
      await expect(element).toBeAccessible();
    });
  });

  describe('data map changed without sign-off', () => {
    it('warns, lists runs under another map, and requires notes for item 1', async () => {
      getDataMapMock.mockResolvedValue({
        entries: [],
        signoff: { ...dataMapSignoff.signoff, currentHash: 'c'.repeat(64) },
      });
      const data = JSON.parse(JSON.stringify(governanceData)) as typeof governanceData;
      data.uiapi.query.Sync_Run__c.edges[0]!.node.Data_Map_Hash__c.value = 'c'.repeat(64);
      const element = await render(data);
      const root = element.shadowRoot!;
      expect(q(root, '.map-warning').getAttribute('role')).toBe('alert');
      expect(texts(root, '.unsigned-runs li')).toEqual([
        `run-2026-11-20 started 20/11/2026 11:00 am with map ${'c'.repeat(64)}`,
      ]);
      tick(root, 'input.map-unchanged');
      await flushPromises();
      expect(texts(root, '.step-state')[0]).toBe('To do');
      type(root, 'textarea.map-notes', 'Map edited on 3 Nov without sign-off; re-signed on 5 Nov.');
      await flushPromises();
      expect(texts(root, '.step-state')[0]).toBe('Done');
    });
  });

  describe('user without billing access', () => {
    it('renders only the history rows the controller returns (it withholds unreadable fields) and no billing values', async () => {
      getFieldHistoryMock.mockResolvedValue(fieldHistory.filter((row) => row.field !== 'Email'));
      const element = await render();
      const root = element.shadowRoot!;
      expect(texts(root, '.history-row')).toEqual([
        'Journey Stage: Started Care → In Care, Oct 19, 2026, 7:00 PM PDT by Cliniko Integration',
        'Mobile: (empty) → +61 400 000 103, Nov 9, 2026, 6:00 PM PST by Cliniko Integration',
      ]);
      expect(allText(root)).not.toContain('$');
    });

    it('cannot tick a sampled record none of whose shaped fields the user can read (control: the others can be ticked)', async () => {
      // Arrange: field-level security hides every shaped field of the third record.
      const records = JSON.parse(JSON.stringify(sampledContacts)) as typeof sampledContacts;
      (records.results[2]!.result as { fields: Record<string, unknown> }).fields = {
        MailingStreet: { value: '3 Hill Ave', displayValue: null },
      };
      const element = await render(governanceData, undefined, records);
      const root = element.shadowRoot!;
      // Assert: the third record says why and its boxes are disabled; the first two are not.
      const boxes = all<HTMLInputElement>(root, 'input.spot-no-clinical');
      expect(boxes.map((b) => b.disabled)).toEqual([false, false, true]);
      expect(all<HTMLInputElement>(root, 'input.spot-checked').map((b) => b.disabled)).toEqual([
        false,
        false,
        true,
      ]);
      expect(texts(all(root, '.spot-check')[2]!, '.nothing-to-check')[0]).toContain('Nothing to check');
      // Act: a change event on the disabled box anyway (e.g. from devtools), and ticks on the others.
      for (let i = 0; i < 3; i++) {
        tick(root, 'input.spot-checked', i);
        tick(root, 'input.spot-no-clinical', i);
      }
      await flushPromises();
      // Assert: the container refused the third tick, so the spot check stays open.
      expect(texts(root, '.step-state')[3]).toBe('To do');
      expect(texts(root, '.summary-item').join(' ')).toContain('Spot check: 2 of 3 records checked');
    });
  });

  describe('error path: the sampled records', () => {
    it('shows why the sampled records could not be loaded, and nothing can be ticked', async () => {
      const element = await render(governanceData, undefined, null);
      getRecordsAdapter.error({ message: 'Insufficient access' }, 403, 'Forbidden');
      await flushPromises();
      const root = element.shadowRoot!;
      expect(find(root, '.fields-error')).not.toBeNull();
      expect(all<HTMLInputElement>(root, 'input.spot-checked').every((b) => b.disabled)).toBe(true);
      await expect(element).toBeAccessible();
    });
  });

  describe('empty state', () => {
    it('starts a first review when nothing has been recorded yet', async () => {
      const element = await render({
        uiapi: {
          query: {
            Governance_Review__c: { edges: [] },
            Access_Change__c: { edges: [] },
            Consent_Reconciliation__c: { edges: [] },
            Sync_Run__c: { edges: [] },
            Contact: { edges: [] },
          },
        },
      });
      const root = element.shadowRoot!;
      expect(texts(root, '.no-previous')).toEqual(['No previous reviews.']);
      expect(texts(root, '.access-summary')).toEqual(['0 access changes on record.']);
      expect(texts(root, '.no-sample')).toEqual(['No records were synced this quarter; nothing to sample.']);
      expect(texts(root, '.no-consent')).toEqual(['No consent reconciliation snapshot yet.']);
      expect(getFieldHistoryMock).not.toHaveBeenCalled();
      await expect(element).toBeAccessible();
    });
  });

  describe('error path', () => {
    it('shows the error panel when the review data cannot be loaded', async () => {
      const element = createElement('c-governance-review', {
        is: GovernanceReview,
      }) as unknown as HTMLElement;
      document.body.appendChild(element);
      graphqlAdapter.emitErrors([{ message: 'Governance_Review__c is not accessible' }]);
      await flushPromises();
      const root = element.shadowRoot!;
      const panel = q<HTMLElement & { errors: unknown }>(root, 'c-error-panel.load-error');
      expect(panel.errors).toEqual([{ message: 'Governance_Review__c is not accessible' }]);
      expect(find(root, '.item')).toBeNull();
      await expect(element).toBeAccessible();
    });

    it('keeps the review editable and shows why when saving fails', async () => {
      createRecordMock.mockRejectedValue({ body: { message: 'Attendees__c: value too long' } });
      const element = await render();
      const root = element.shadowRoot!;
      await completeChecklist(root);
      q<HTMLButtonElement>(root, 'button.sign').click();
      await flushPromises();
      await flushPromises();
      expect(texts(root, '.status-message')).toEqual(['Not saved: Attendees__c: value too long']);
      expect(find(root, 'c-error-panel.save-error')).not.toBeNull();
      expect(find(root, '.locked')).toBeNull();
      expect(q<HTMLButtonElement>(root, 'button.sign').disabled).toBe(false);
    });

    it('shows the error panels when the sign-off or the field history cannot be loaded', async () => {
      getDataMapMock.mockRejectedValue({ body: { message: 'No access to Data_Map_Signoff__mdt' } });
      getFieldHistoryMock.mockRejectedValue({ body: { message: 'No access to ContactHistory' } });
      const element = await render();
      const root = element.shadowRoot!;
      expect(find(root, 'c-error-panel.data-map-error')).not.toBeNull();
      expect(find(root, 'c-error-panel.history-error')).not.toBeNull();
      // Without a verifiable hash, item 1 cannot be completed.
      tick(root, 'input.map-unchanged');
      await flushPromises();
      expect(texts(root, '.step-state')[0]).toBe('To do');
    });
  });

  describe('print-friendly summary', () => {
    it('prints the summary on request', async () => {
      const print = jest.fn();
      Object.defineProperty(window, 'print', { value: print, configurable: true });
      const element = await render();
      const root = element.shadowRoot!;
      q<HTMLButtonElement>(root, 'button.print').click();
      expect(print).toHaveBeenCalledTimes(1);
      expect(texts(root, '.summary-item')[0]).toBe(`Data map hash: ${SIGNED_HASH} (signed: ${SIGNED_HASH})`);
    });
  });
});
