import { createElement } from 'lwc';
import { gqlNodes, gqlValue } from 'c/ldsUtils';
import GovernanceAccessItem, { accessSummaryOf, type ReviewBaseline } from 'c/governanceAccessItem';
// The container's recorded GraphQL response: this item is given its Access_Change__c nodes and the last
// signed review (GR-0002), exactly as the container passes them.
import governanceData from '../../governanceReview/__tests__/data/governanceData.json';
// The nightly access picture's findings (Gained / Lost / Outside Audience), as the container's query
// returns them with Field_Class__c, Path__c, Fields__c and Resolved_At__c.
import accessFindings from './data/accessFindings.json';

interface AccessItemElement extends HTMLElement {
  accessChanges: Array<Record<string, unknown>>;
  baseline: ReviewBaseline | undefined;
  reviewed: boolean;
  notes: string;
  disabled: boolean;
}

const ACCESS_CHANGES = gqlNodes(governanceData, 'Access_Change__c');
const lastReview = gqlNodes(governanceData, 'Governance_Review__c')[0];
const BASELINE: ReviewBaseline = {
  label: gqlValue<string>(lastReview, 'Name')!,
  signedAt: gqlValue<string>(lastReview, 'Signed_At__c')!,
};

function flushPromises(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

async function render(props: Partial<AccessItemElement> = {}): Promise<AccessItemElement> {
  const element = createElement('c-governance-access-item', {
    is: GovernanceAccessItem,
  }) as unknown as AccessItemElement;
  Object.assign(element, { accessChanges: ACCESS_CHANGES, baseline: BASELINE, ...props });
  document.body.appendChild(element);
  await flushPromises();
  return element;
}

function texts(root: ParentNode, selector: string): string[] {
  return Array.from(root.querySelectorAll(selector)).map((el) =>
    (el.textContent ?? '').replace(/\s+/g, ' ').trim(),
  );
}

describe('c-governance-access-item', () => {
  afterEach(() => {
    while (document.body.firstChild) document.body.removeChild(document.body.firstChild);
    jest.clearAllMocks();
  });

  describe('data path', () => {
    it('lists only the access changes detected since the last signed review', async () => {
      const element = await render();
      const root = element.shadowRoot!;
      expect(texts(root, '.access-summary')).toEqual(['2 access changes since GR-0002.']);
      expect(texts(root, '.access-user')).toEqual(['sam.lee@clinic.example', 'ava.brown@clinic.example']);
      expect(texts(root, '.access-what')).toEqual([
        'Assigned: Cliniko_Sync_Billing',
        'Removed: Cliniko_Sync_Marketing',
      ]);
      // The container's summary uses the same rule.
      expect(accessSummaryOf(ACCESS_CHANGES, BASELINE)).toBe('2 access changes since GR-0002.');
    });

    it('lists every change on record when no review has been signed yet', async () => {
      const element = await render({ baseline: undefined });
      expect(texts(element.shadowRoot!, '.access-summary')).toEqual(['3 access changes on record.']);
    });

    it('reports "reviewed" and the notes to the container, and shows saved notes', async () => {
      // Arrange
      const element = await render({ notes: 'Two marketing assignments, both expected.' });
      const seen: unknown[] = [];
      element.addEventListener('itemchange', (event) => seen.push((event as CustomEvent).detail));
      const root = element.shadowRoot!;
      const notes = root.querySelector<HTMLTextAreaElement>('textarea.access-notes')!;
      expect(notes.value).toBe('Two marketing assignments, both expected.');

      // Act
      const box = root.querySelector<HTMLInputElement>('input.access-reviewed')!;
      box.checked = true;
      box.dispatchEvent(new CustomEvent('change'));
      notes.value = 'Billing assignment for Sam Lee approved by the practice manager.';
      notes.dispatchEvent(new CustomEvent('change'));

      // Assert
      expect(seen).toEqual([
        { field: 'accessReviewed', value: true },
        { field: 'accessNotes', value: 'Billing assignment for Sam Lee approved by the practice manager.' },
      ]);
    });

    it('is accessible', async () => {
      const element = await render();
      await expect(element).toBeAccessible();
    });
  });

  describe('data path: the access picture', () => {
    const FINDINGS = accessFindings as Array<Record<string, unknown>>;

    it('flags readers outside their audience with the grant and the fields, resolved ones not', async () => {
      // Arrange / act
      const element = await render({ accessChanges: FINDINGS });
      const root = element.shadowRoot!;

      // Assert: one flag (Sam's was resolved), naming the profile and the field.
      expect(texts(root, '.access-flag-summary')).toEqual([
        '1 user reads synced fields outside their audience.',
      ]);
      expect(texts(root, '.access-flag-user')).toEqual(['mia.marketing@clinic.example']);
      expect(texts(root, '.access-flag-path')).toEqual(['profile Marketing Team']);
      expect(texts(root, '.access-flag-fields')).toEqual(['Cliniko_Invoice__c.Total_Amount__c']);
      expect(texts(root, '.access-flag')[0]).toContain('Outside Audience: Billing fields');
    });

    it('lists gains and losses per field class with human labels, the path and a resolved badge', async () => {
      const element = await render({ accessChanges: FINDINGS });
      const root = element.shadowRoot!;
      expect(texts(root, '.access-resolved')).toEqual(['Resolved 03/04/2027, 2:00 pm']);
      expect(texts(root, '.access-what').map((t) => t.replace(/Resolved .*$/, '').trim())).toEqual([
        'Outside Audience: Billing fields',
        'Gained: Billing fields',
        'Outside Audience: Operations-safe fields',
        // No picklist label in the node: the classification's own label.
        'Lost: Marketing-safe fields',
      ]);
      expect(texts(root, '.access-path')).toEqual([
        'profile Marketing Team',
        'profile Marketing Team',
        'permission set group Front_Desk',
        'permission set Cliniko_Sync_Marketing',
      ]);
      expect(root.querySelectorAll('tr.access-flagged')).toHaveLength(1);
      await expect(element).toBeAccessible();
    });

    it('control: assignment changes alone raise no flag', async () => {
      const element = await render();
      expect(element.shadowRoot!.querySelector('.access-flags')).toBeNull();
    });
  });

  describe('empty state', () => {
    it('says so when there are no access changes', async () => {
      const element = await render({ accessChanges: [], baseline: undefined });
      const root = element.shadowRoot!;
      expect(texts(root, '.access-summary')).toEqual(['0 access changes on record.']);
      expect(root.querySelector('.access-table')).toBeNull();
      await expect(element).toBeAccessible();
    });
  });

  describe('error path', () => {
    it('shows a change whose fields the user cannot read (absent from the node) with placeholders, never hides it', async () => {
      // Arrange: FLS withheld every field but the Id (the query marks them @optional).
      const element = await render({ accessChanges: [{ Id: 'a0A000000000009AAA' }] });
      const root = element.shadowRoot!;

      // Assert: listed (no detection time cannot prove it predates the review), with dashes.
      expect(texts(root, '.access-summary')).toEqual(['1 access change since GR-0002.']);
      expect(texts(root, '.access-user')).toEqual(['—']);
      expect(texts(root, '.access-what')).toEqual(['Changed: —']);
      await expect(element).toBeAccessible();
    });

    it('disables its controls when told to (a signed review)', async () => {
      const element = await render({ disabled: true });
      const controls = Array.from(element.shadowRoot!.querySelectorAll<HTMLInputElement>('input, textarea'));
      expect(controls).toHaveLength(2);
      expect(controls.every((c) => c.disabled)).toBe(true);
    });
  });
});
