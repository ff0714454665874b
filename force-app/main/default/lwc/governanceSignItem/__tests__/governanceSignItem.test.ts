import { createElement } from 'lwc';
import GovernanceSignItem, { signItemComplete } from 'c/governanceSignItem';
// The container's recorded GraphQL response: a signed review's attendees and notes, as the container
// passes them when it resumes that review.
import governanceData from '../../governanceReview/__tests__/data/governanceData.json';

interface SignItemElement extends HTMLElement {
  attendees: string;
  notes: string;
  disabled: boolean;
  editable: boolean;
  signDisabled: boolean;
  signHint: string;
  statusMessage: string;
  saveErrors: unknown;
}

const savedReview = governanceData.uiapi.query.Governance_Review__c.edges[0]!.node;

function flushPromises(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

async function render(props: Partial<SignItemElement> = {}): Promise<SignItemElement> {
  const element = createElement('c-governance-sign-item', {
    is: GovernanceSignItem,
  }) as unknown as SignItemElement;
  Object.assign(element, {
    editable: true,
    signDisabled: true,
    signHint: 'Still to do: 6. Attendees and notes.',
    ...props,
  });
  document.body.appendChild(element);
  await flushPromises();
  return element;
}

function texts(root: ParentNode, selector: string): string[] {
  return Array.from(root.querySelectorAll(selector)).map((el) =>
    (el.textContent ?? '').replace(/\s+/g, ' ').trim(),
  );
}

describe('c-governance-sign-item', () => {
  afterEach(() => {
    while (document.body.firstChild) document.body.removeChild(document.body.firstChild);
    jest.clearAllMocks();
  });

  describe('data path', () => {
    it('needs attendees (notes are optional)', () => {
      expect(signItemComplete('')).toBe(false);
      expect(signItemComplete('   ')).toBe(false);
      expect(signItemComplete(savedReview.Attendees__c.value)).toBe(true);
    });

    it('reports attendees and notes, and asks the container to save a draft or sign', async () => {
      // Arrange
      const element = await render({ signDisabled: false, signHint: 'Every item is complete.' });
      const changes: unknown[] = [];
      const requests: string[] = [];
      element.addEventListener('itemchange', (event) => changes.push((event as CustomEvent).detail));
      element.addEventListener('savedraft', () => requests.push('savedraft'));
      element.addEventListener('sign', () => requests.push('sign'));
      const root = element.shadowRoot!;
      expect(texts(root, '.sign-hint')).toEqual(['Every item is complete.']);

      // Act
      const attendees = root.querySelector<HTMLInputElement>('input.attendees')!;
      attendees.value = 'Jane Citizen (Compliance Officer); Sam Lee (Practice Manager)';
      attendees.dispatchEvent(new CustomEvent('change'));
      const notes = root.querySelector<HTMLTextAreaElement>('textarea.notes')!;
      notes.value = 'No findings.';
      notes.dispatchEvent(new CustomEvent('change'));
      root.querySelector<HTMLButtonElement>('button.save-draft')!.click();
      root.querySelector<HTMLButtonElement>('button.sign')!.click();

      // Assert
      expect(changes).toEqual([
        { field: 'attendees', value: 'Jane Citizen (Compliance Officer); Sam Lee (Practice Manager)' },
        { field: 'notes', value: 'No findings.' },
      ]);
      expect(requests).toEqual(['savedraft', 'sign']);
    });

    it('keeps Sign and lock disabled while the container says so', async () => {
      const element = await render();
      const sign = element.shadowRoot!.querySelector<HTMLButtonElement>('button.sign')!;
      expect(sign.disabled).toBe(true);
      expect(texts(element.shadowRoot!, '.sign-hint')).toEqual(['Still to do: 6. Attendees and notes.']);
    });

    it('shows a signed review read-only: saved values, every control disabled, no buttons', async () => {
      const element = await render({
        attendees: savedReview.Attendees__c.value,
        notes: 'No findings.',
        disabled: true,
        editable: false,
        statusMessage: 'Review signed and locked.',
      });
      const root = element.shadowRoot!;
      expect(root.querySelector<HTMLInputElement>('input.attendees')!.value).toBe('Jane Citizen; Sam Lee');
      expect(root.querySelector<HTMLTextAreaElement>('textarea.notes')!.value).toBe('No findings.');
      expect(
        Array.from(root.querySelectorAll<HTMLInputElement>('input, textarea')).every((c) => c.disabled),
      ).toBe(true);
      expect(root.querySelector('button.sign')).toBeNull();
      expect(root.querySelector('button.save-draft')).toBeNull();
      expect(texts(root, '.status-message')).toEqual(['Review signed and locked.']);
      await expect(element).toBeAccessible();
    });

    it('is accessible', async () => {
      const element = await render();
      await expect(element).toBeAccessible();
    });
  });

  describe('error path', () => {
    it('shows why saving failed, and keeps the buttons', async () => {
      const saveErrors = { body: { message: 'Attendees__c: value too long' } };
      const element = await render({
        saveErrors,
        statusMessage: 'Not saved: Attendees__c: value too long',
        signDisabled: false,
      });
      const root = element.shadowRoot!;
      const panel = root.querySelector<HTMLElement & { errors: unknown }>('c-error-panel.save-error')!;
      expect(panel.errors).toEqual(saveErrors);
      expect(texts(root, '.status-message')).toEqual(['Not saved: Attendees__c: value too long']);
      expect(root.querySelector<HTMLButtonElement>('button.sign')!.disabled).toBe(false);
      await expect(element).toBeAccessible();
    });
  });
});
