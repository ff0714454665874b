import { createElement } from 'lwc';
import { gqlNodes, gqlValue } from 'c/ldsUtils';
import GovernanceDataMapItem, { dataMapItemComplete, mapNeedsExplanation } from 'c/governanceDataMapItem';
// The container's recorded fixtures (one GraphQL response and one Apex answer for the whole review):
// this item is given slices of them, exactly as the container passes them.
import governanceData from '../../governanceReview/__tests__/data/governanceData.json';
import dataMapSignoff from '../../governanceReview/__tests__/data/dataMapSignoff.json';

interface DataMapItemElement extends HTMLElement {
  currentHash: string | null;
  signedHash: string | null;
  lastReviewHash: string | null;
  syncRuns: Array<Record<string, unknown>>;
  errors: unknown;
  unchanged: boolean;
  notes: string;
  disabled: boolean;
}

const SIGNED_HASH = dataMapSignoff.signoff.signedHash;
const OTHER_HASH = 'c'.repeat(64);
const fixtureSyncRuns = (): Array<Record<string, unknown>> =>
  JSON.parse(JSON.stringify(gqlNodes(governanceData, 'Sync_Run__c'))) as Array<Record<string, unknown>>;
// GR-0002, the last signed review before this quarter.
const LAST_REVIEW_HASH = gqlValue<string>(
  gqlNodes(governanceData, 'Governance_Review__c')[0],
  'Data_Map_Hash__c',
)!;

function flushPromises(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

async function render(props: Partial<DataMapItemElement> = {}): Promise<DataMapItemElement> {
  const element = createElement('c-governance-data-map-item', {
    is: GovernanceDataMapItem,
  }) as unknown as DataMapItemElement;
  Object.assign(element, {
    currentHash: dataMapSignoff.signoff.currentHash,
    signedHash: SIGNED_HASH,
    lastReviewHash: LAST_REVIEW_HASH,
    syncRuns: fixtureSyncRuns(),
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

/** Collects the item's `itemchange` events. */
function listen(element: HTMLElement): Array<{ field: string; value: unknown }> {
  const seen: Array<{ field: string; value: unknown }> = [];
  element.addEventListener('itemchange', (event) => {
    seen.push((event as CustomEvent<{ field: string; value: unknown }>).detail);
  });
  return seen;
}

describe('c-governance-data-map-item', () => {
  afterEach(() => {
    while (document.body.firstChild) document.body.removeChild(document.body.firstChild);
    jest.clearAllMocks();
  });

  describe('data path', () => {
    it('shows the deployed, signed and last-review hashes and no warning when they agree', async () => {
      const element = await render();
      const root = element.shadowRoot!;
      expect(texts(root, '.current-hash')).toEqual([SIGNED_HASH]);
      expect(texts(root, '.signed-hash')).toEqual([SIGNED_HASH]);
      expect(texts(root, '.last-review-hash')).toEqual([SIGNED_HASH]);
      expect(root.querySelector('.map-warning')).toBeNull();
    });

    it('reports the confirmation and the notes to the container', async () => {
      // Arrange
      const element = await render();
      const seen = listen(element);
      const root = element.shadowRoot!;

      // Act
      const box = root.querySelector<HTMLInputElement>('input.map-unchanged')!;
      box.checked = true;
      box.dispatchEvent(new CustomEvent('change'));
      const notes = root.querySelector<HTMLTextAreaElement>('textarea.map-notes')!;
      notes.value = 'Hash matches the sign-off; no runs under another map.';
      notes.dispatchEvent(new CustomEvent('change'));

      // Assert
      expect(seen).toEqual([
        { field: 'dataMapUnchanged', value: true },
        { field: 'dataMapNotes', value: 'Hash matches the sign-off; no runs under another map.' },
      ]);
    });

    it('shows saved notes and disables its controls when told to', async () => {
      const element = await render({ notes: 'Re-signed on 5 Nov.', unchanged: true, disabled: true });
      const root = element.shadowRoot!;
      expect(root.querySelector<HTMLTextAreaElement>('textarea.map-notes')!.value).toBe(
        'Re-signed on 5 Nov.',
      );
      expect(root.querySelector<HTMLInputElement>('input.map-unchanged')!.checked).toBe(true);
      const controls = Array.from(root.querySelectorAll<HTMLInputElement>('input, textarea'));
      expect(controls).toHaveLength(2);
      expect(controls.every((c) => c.disabled)).toBe(true);
    });

    it('is complete on confirmation when nothing differs', () => {
      const facts = {
        currentHash: SIGNED_HASH,
        signedHash: SIGNED_HASH,
        lastReviewHash: LAST_REVIEW_HASH,
        syncRuns: fixtureSyncRuns(),
      };
      const answers = { loaded: true, errors: undefined, unchanged: false, notes: '' };
      expect(mapNeedsExplanation(facts)).toBe(false);
      expect(dataMapItemComplete(facts, answers)).toBe(false);
      expect(dataMapItemComplete(facts, { ...answers, unchanged: true })).toBe(true);
      // Not before the sign-off has been read.
      expect(dataMapItemComplete(facts, { ...answers, unchanged: true, loaded: false })).toBe(false);
    });

    it('is accessible', async () => {
      const element = await render();
      await expect(element).toBeAccessible();
    });
  });

  describe('data map changed without sign-off', () => {
    it('warns, lists runs under another map, and requires notes rather than a confirmation', async () => {
      // Arrange: the deployed map and one run this quarter use a hash nobody signed.
      const runs = fixtureSyncRuns();
      (runs[0]!.Data_Map_Hash__c as { value: string }).value = OTHER_HASH;
      const element = await render({ currentHash: OTHER_HASH, syncRuns: runs });
      const root = element.shadowRoot!;

      // Assert
      expect(root.querySelector('.map-warning')!.getAttribute('role')).toBe('alert');
      expect(texts(root, '.unsigned-runs li')).toEqual([
        `run-2026-11-20 started 20/11/2026 11:00 am with map ${OTHER_HASH}`,
      ]);
      const facts = {
        currentHash: OTHER_HASH,
        signedHash: SIGNED_HASH,
        lastReviewHash: LAST_REVIEW_HASH,
        syncRuns: runs,
      };
      const answers = { loaded: true, errors: undefined, unchanged: true, notes: '' };
      expect(dataMapItemComplete(facts, answers)).toBe(false);
      expect(
        dataMapItemComplete(facts, {
          ...answers,
          notes: 'Map edited on 3 Nov without sign-off; re-signed on 5 Nov.',
        }),
      ).toBe(true);
      await expect(element).toBeAccessible();
    });

    it('needs an explanation when the map changed since the last signed review', () => {
      expect(
        mapNeedsExplanation({
          currentHash: SIGNED_HASH,
          signedHash: SIGNED_HASH,
          lastReviewHash: OTHER_HASH,
          syncRuns: [],
        }),
      ).toBe(true);
    });
  });

  describe('error path', () => {
    it('shows the error panel when the sign-off cannot be loaded, and the item cannot be completed', async () => {
      // Arrange / Act: the Apex read failed, so there is no hash to verify.
      const errors = { body: { message: 'No access to Data_Map_Signoff__mdt' } };
      const element = await render({ errors, currentHash: null, signedHash: null });
      const root = element.shadowRoot!;

      // Assert
      const panel = root.querySelector<HTMLElement & { errors: unknown }>('c-error-panel.data-map-error')!;
      expect(panel.errors).toEqual(errors);
      expect(texts(root, '.current-hash')).toEqual(['unknown (no sign-off deployed)']);
      expect(texts(root, '.signed-hash')).toEqual(['—']);
      expect(root.querySelector('.map-warning')).not.toBeNull();
      const facts = {
        currentHash: null,
        signedHash: null,
        lastReviewHash: LAST_REVIEW_HASH,
        syncRuns: fixtureSyncRuns(),
      };
      expect(dataMapItemComplete(facts, { loaded: true, errors, unchanged: true, notes: 'Explained.' })).toBe(
        false,
      );
      await expect(element).toBeAccessible();
    });
  });
});
