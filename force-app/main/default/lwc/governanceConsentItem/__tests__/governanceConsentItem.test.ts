import { createElement } from 'lwc';
import { gqlNodes } from 'c/ldsUtils';
import GovernanceConsentItem, { consentItemComplete, consentRowsOf } from 'c/governanceConsentItem';
// The container's recorded GraphQL response: this item is given its latest Consent_Reconciliation__c
// node, exactly as the container passes it.
import governanceData from '../../governanceReview/__tests__/data/governanceData.json';

interface ConsentItemElement extends HTMLElement {
  consent: Record<string, unknown> | undefined;
  reviewed: boolean;
  gapExplanation: string;
  disabled: boolean;
}

const CONSENT = gqlNodes(governanceData, 'Consent_Reconciliation__c')[0];

function flushPromises(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

async function render(props: Partial<ConsentItemElement> = {}): Promise<ConsentItemElement> {
  const element = createElement('c-governance-consent-item', {
    is: GovernanceConsentItem,
  }) as unknown as ConsentItemElement;
  Object.assign(element, { consent: CONSENT, ...props });
  document.body.appendChild(element);
  await flushPromises();
  return element;
}

function texts(root: ParentNode, selector: string): string[] {
  return Array.from(root.querySelectorAll(selector)).map((el) =>
    (el.textContent ?? '').replace(/\s+/g, ' ').trim(),
  );
}

describe('c-governance-consent-item', () => {
  afterEach(() => {
    while (document.body.firstChild) document.body.removeChild(document.body.firstChild);
    jest.clearAllMocks();
  });

  describe('data path', () => {
    it('compares the latest consent counts, Salesforce minus Cliniko', async () => {
      const element = await render();
      const root = element.shadowRoot!;
      expect(texts(root, '.consent-snapshot')).toEqual(['Snapshot of 22/11/2026 2:00 am']);
      expect(texts(root, '.consent-gap')).toEqual(['-2', '1']);
      expect(consentRowsOf(CONSENT).map((r) => [r.channel, r.cliniko, r.salesforce])).toEqual([
        ['Email', 812, 810],
        ['SMS', 604, 605],
      ]);
    });

    it('needs an explanation of a non-zero gap as well as the confirmation', () => {
      expect(consentItemComplete(CONSENT, true, '')).toBe(false);
      expect(consentItemComplete(CONSENT, false, 'Explained.')).toBe(false);
      expect(consentItemComplete(CONSENT, true, 'Explained.')).toBe(true);
      // No snapshot, no gap: the confirmation alone completes the item.
      expect(consentItemComplete(undefined, true, '')).toBe(true);
    });

    it('reports the explanation and the confirmation to the container, and shows a saved explanation', async () => {
      // Arrange
      const element = await render({
        gapExplanation: 'Two patients opted out in Salesforce before the fix.',
      });
      const seen: unknown[] = [];
      element.addEventListener('itemchange', (event) => seen.push((event as CustomEvent).detail));
      const root = element.shadowRoot!;
      const area = root.querySelector<HTMLTextAreaElement>('textarea.consent-explanation')!;
      expect(area.value).toBe('Two patients opted out in Salesforce before the fix.');

      // Act
      area.value = 'Two email opt-outs pending the nightly write-back.';
      area.dispatchEvent(new CustomEvent('change'));
      const box = root.querySelector<HTMLInputElement>('input.consent-reviewed')!;
      box.checked = true;
      box.dispatchEvent(new CustomEvent('change'));

      // Assert
      expect(seen).toEqual([
        { field: 'consentGapExplanation', value: 'Two email opt-outs pending the nightly write-back.' },
        { field: 'consentReviewed', value: true },
      ]);
    });

    it('is accessible', async () => {
      const element = await render();
      await expect(element).toBeAccessible();
    });
  });

  describe('empty state', () => {
    it('says there is no snapshot yet', async () => {
      const element = await render({ consent: undefined });
      const root = element.shadowRoot!;
      expect(texts(root, '.no-consent')).toEqual(['No consent reconciliation snapshot yet.']);
      expect(root.querySelector('.consent-table')).toBeNull();
      await expect(element).toBeAccessible();
    });
  });

  describe('error path', () => {
    it('counts a count the user cannot read (absent from the node) as 0 rather than failing', async () => {
      // Arrange: FLS withheld the Salesforce SMS count.
      const partial = JSON.parse(JSON.stringify(CONSENT)) as Record<string, unknown>;
      delete partial.Salesforce_SMS_Opt_In__c;
      const element = await render({ consent: partial });

      // Assert
      expect(texts(element.shadowRoot!, '.consent-gap')).toEqual(['-2', '-604']);
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
