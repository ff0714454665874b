import { createElement } from 'lwc';
import { graphql } from 'lightning/graphql';
import ConsentReconciliation from 'c/consentReconciliation';
import snapshots from './data/snapshots.json';

// sfdx-lwc-jest's platform stub of the GraphQL wire adapter (emit / emitErrors).
const graphqlAdapter = graphql as unknown as {
  emit(value: unknown): void;
  emitErrors(errors: unknown): void;
  getLastConfig(): Record<string, unknown>;
};

function flushPromises(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

function render(): HTMLElement {
  const element = createElement('c-consent-reconciliation', {
    is: ConsentReconciliation,
  }) as unknown as HTMLElement;
  document.body.appendChild(element);
  return element;
}

function texts(root: ParentNode, selector: string): string[] {
  return Array.from(root.querySelectorAll(selector)).map((el) =>
    (el.textContent ?? '').replace(/\s+/g, ' ').trim(),
  );
}

function withLatestSample(sample: string | null): unknown {
  const copy = JSON.parse(JSON.stringify(snapshots)) as typeof snapshots;
  copy.uiapi.query.Consent_Reconciliation__c.edges[0]!.node.Mismatch_Sample__c.value = sample as string;
  return copy;
}

describe('c-consent-reconciliation', () => {
  afterEach(() => {
    while (document.body.firstChild) document.body.removeChild(document.body.firstChild);
    jest.clearAllMocks();
  });

  describe('data path', () => {
    it('compares Cliniko and Salesforce opted-in counts per channel with the gap', async () => {
      // Arrange
      const element = render();
      // Act
      graphqlAdapter.emit(snapshots);
      await flushPromises();
      // Assert
      const root = element.shadowRoot!;
      expect(graphqlAdapter.getLastConfig()).toMatchObject({
        operationName: 'consentSnapshots',
        variables: { first: 8 },
      });
      expect(texts(root, '.latest-label')).toEqual([
        'Latest snapshot CR-00100 taken 22/11/2026 2:00 am, 1240 patients compared',
      ]);
      expect(texts(root, '.channel')).toEqual(['Email', 'SMS']);
      expect(texts(root, '.cliniko-count')).toEqual(['812', '604']);
      expect(texts(root, '.salesforce-count')).toEqual(['810', '605']);
      expect(texts(root, '.gap')).toEqual(['Salesforce has 2 fewer', 'Salesforce has 1 more']);
    });

    it('shows the gap trend oldest first and summarises it', async () => {
      const element = render();
      graphqlAdapter.emit(snapshots);
      await flushPromises();
      const root = element.shadowRoot!;
      expect(texts(root, '.email-gap')).toEqual(['-11', '-12', '-7', '-2']);
      expect(texts(root, '.sms-gap')).toEqual(['4', '4', '3', '1']);
      expect(texts(root, '.trend-summary')).toEqual([
        'Email gap narrowed from 11 to 2; SMS gap narrowed from 4 to 1 over 4 snapshots.',
      ]);
    });

    it('lists the sample of mismatched patients from the latest snapshot', async () => {
      const element = render();
      graphqlAdapter.emit(snapshots);
      await flushPromises();
      const root = element.shadowRoot!;
      expect(texts(root, '.patient-id')).toEqual(['100245', '100871', '101002']);
      expect(texts(root, '.mismatch-channel')).toEqual(['Email', 'SMS', 'Email']);
      const firstRow = Array.from(root.querySelectorAll('.mismatch')[0]!.children).map((c) => c.textContent);
      expect(firstRow).toEqual(['100245', 'Email', 'Opted in', 'Not opted in']);
    });

    it('is accessible', async () => {
      const element = render();
      graphqlAdapter.emit(snapshots);
      await flushPromises();
      await expect(element).toBeAccessible();
    });
  });

  describe('user without billing access', () => {
    it('shows the full reconciliation, which carries counts only and no billing values', async () => {
      const element = render();
      graphqlAdapter.emit(snapshots);
      await flushPromises();
      const root = element.shadowRoot!;
      expect(texts(root, '.cliniko-count')).toEqual(['812', '604']);
      expect(root.textContent).not.toContain('$');
    });
  });

  describe('empty state', () => {
    it('explains that no reconciliation has run yet', async () => {
      const element = render();
      graphqlAdapter.emit({ uiapi: { query: { Consent_Reconciliation__c: { edges: [] } } } });
      await flushPromises();
      const root = element.shadowRoot!;
      expect(texts(root, '.empty-state')[0]).toContain('No consent reconciliation has run yet');
      expect(root.querySelector('.counts')).toBeNull();
      await expect(element).toBeAccessible();
    });

    it('says there is nothing to investigate when the latest sample is empty', async () => {
      const element = render();
      graphqlAdapter.emit(withLatestSample(null));
      await flushPromises();
      expect(texts(element.shadowRoot!, '.no-mismatches')).toEqual([
        'No mismatched patients in the latest snapshot.',
      ]);
    });
  });

  describe('error path', () => {
    it('shows the shared error panel when the query fails', async () => {
      const element = render();
      graphqlAdapter.emitErrors([{ message: 'Consent_Reconciliation__c is not accessible' }]);
      await flushPromises();
      const root = element.shadowRoot!;
      const panel = root.querySelector('c-error-panel') as HTMLElement & {
        friendlyMessage: string;
        errors: unknown;
      };
      expect(panel.friendlyMessage).toBe('Consent snapshots could not be loaded.');
      expect(panel.errors).toEqual([{ message: 'Consent_Reconciliation__c is not accessible' }]);
      expect(root.querySelector('.counts')).toBeNull();
      await expect(element).toBeAccessible();
    });

    it('names the snapshot and field when the mismatch sample is not valid JSON, and keeps the counts', async () => {
      const element = render();
      graphqlAdapter.emit(withLatestSample('[{"clinikoPatientId": '));
      await flushPromises();
      const root = element.shadowRoot!;
      const panel = root.querySelector('c-error-panel.mismatch-error') as HTMLElement & { errors: unknown };
      expect(panel.errors).toBe('CR-00100: Mismatch_Sample__c is not valid JSON.');
      expect(texts(root, '.cliniko-count')).toEqual(['812', '604']);
      expect(root.querySelector('.no-mismatches')).toBeNull();
    });
  });
});
