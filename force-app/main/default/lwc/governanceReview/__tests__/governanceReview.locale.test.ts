import { createElement } from 'lwc';
import { graphql } from 'lightning/graphql';
import getDataMap from '@salesforce/apex/ClinikoGovernanceController.getDataMap';
import getFieldHistory from '@salesforce/apex/ClinikoGovernanceController.getFieldHistory';
import GovernanceReview, { formatCount, formatDateTime } from 'c/governanceReview';
import governanceData from './data/governanceData.json';
import dataMapSignoff from './data/dataMapSignoff.json';

// Issue #17, item 8: the review's dates and numbers follow the user's locale. This file runs the
// component as a German user (the other test file runs it with sfdx-lwc-jest's default, en-US).
jest.mock('@salesforce/i18n/locale', () => ({ default: 'de-DE' }), { virtual: true });
jest.mock('@salesforce/apex/ClinikoGovernanceController.getDataMap', () => ({ default: jest.fn() }), {
  virtual: true,
});
jest.mock('@salesforce/apex/ClinikoGovernanceController.getFieldHistory', () => ({ default: jest.fn() }), {
  virtual: true,
});

const graphqlAdapter = graphql as unknown as { emit(value: unknown): void };
const NOW = Date.parse('2026-11-22T10:00:00.000Z');

function flushPromises(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

async function render(): Promise<ShadowRoot> {
  const element = createElement('c-governance-review', { is: GovernanceReview }) as unknown as HTMLElement;
  document.body.appendChild(element);
  graphqlAdapter.emit(governanceData);
  await flushPromises();
  await flushPromises();
  return element.shadowRoot!;
}

const texts = (root: ShadowRoot, selector: string): string[] =>
  Array.from(root.querySelectorAll(selector)).map((e) => (e.textContent ?? '').trim());

describe('c-governance-review in the user locale', () => {
  beforeEach(() => {
    jest.spyOn(Date, 'now').mockReturnValue(NOW);
    (getDataMap as unknown as jest.Mock).mockResolvedValue(dataMapSignoff);
    (getFieldHistory as unknown as jest.Mock).mockResolvedValue([]);
  });

  afterEach(() => {
    while (document.body.firstChild) document.body.removeChild(document.body.firstChild);
    jest.restoreAllMocks();
    jest.clearAllMocks();
  });

  describe('data path', () => {
    it('formats counts and dates the German way (de-DE), not the American way', async () => {
      // Arrange + act
      const root = await render();
      // Assert: 12.840 entries (German grouping), and the verification time as de-DE formats it
      const verifiedAt = new Intl.DateTimeFormat('de-DE', { dateStyle: 'medium', timeStyle: 'short' }).format(
        new Date('2026-11-21T02:00:00.000Z'),
      );
      const [verification] = texts(root, '.verification-text');
      expect(verification).toContain('12.840 entries');
      expect(verification).toContain(verifiedAt);
      expect(verification).not.toContain('12,840');
      expect(texts(root, '.quarter-created')).toEqual(['1.250', '5.120', '0']);
      expect(texts(root, '.quarter-updated')).toEqual(['3.402', '880', '14']);
      // Control: the same values in en-US read differently, so the test can tell the locales apart.
      expect(formatCount(12840, 'en-US')).toBe('12,840');
      expect(formatDateTime('2026-11-21T02:00:00.000Z', 'en-US')).not.toBe(verifiedAt);
      // The previous reviews' signing times follow the locale too.
      const signed = texts(root, '.previous-review td');
      expect(signed.join(' ')).toContain(
        new Intl.DateTimeFormat('de-DE', { dateStyle: 'medium', timeStyle: 'short' }).format(
          new Date('2026-09-30T04:00:00.000Z'),
        ),
      );
    });
  });

  describe('error path', () => {
    it('shows a dash for a missing or malformed date or count, in any locale', () => {
      expect(formatDateTime(null, 'de-DE')).toBe('—');
      expect(formatDateTime('not a date', 'de-DE')).toBe('—');
      expect(formatCount(undefined, 'de-DE')).toBe('—');
    });
  });
});
