import { createElement } from 'lwc';
import { readFileSync } from 'fs';
import { join } from 'path';
import { graphql } from 'lightning/graphql';
import CarePlanProgress from 'c/carePlanProgress';
import carePlans from './data/carePlans.json';
import carePlansNoBilling from './data/carePlansNoBilling.json';

// sfdx-lwc-jest's platform stub of the GraphQL wire adapter (emit / emitErrors).
const graphqlAdapter = graphql as unknown as {
  emit(value: unknown): void;
  emitErrors(errors: unknown): void;
  getLastConfig(): Record<string, unknown>;
};

// The component's source: the LWC jest transform compiles the gql template away, so the query text
// is read from the file itself.
const componentSource = readFileSync(join(__dirname, '..', 'carePlanProgress.ts'), 'utf8');

function flushPromises(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

function render(): HTMLElement & { recordId?: string } {
  const element = createElement('c-care-plan-progress', {
    is: CarePlanProgress,
  }) as unknown as HTMLElement & {
    recordId?: string;
  };
  element.recordId = '003000000000001AAA';
  document.body.appendChild(element);
  return element;
}

function texts(root: ShadowRoot, selector: string): string[] {
  return Array.from(root.querySelectorAll(selector)).map((el) => (el.textContent ?? '').trim());
}

describe('c-care-plan-progress', () => {
  afterEach(() => {
    while (document.body.firstChild) document.body.removeChild(document.body.firstChild);
    jest.clearAllMocks();
  });

  describe('data path', () => {
    it('asks for the care plans of the record it sits on', async () => {
      render();
      await flushPromises();
      expect(graphqlAdapter.getLastConfig()).toMatchObject({
        operationName: 'carePlans',
        variables: { contactId: '003000000000001AAA', first: 50 },
      });
    });

    it('shows a loading status until data arrives', async () => {
      const element = render();
      await flushPromises();
      expect(element.shadowRoot!.querySelector('.loading')!.textContent).toContain('Loading');
    });

    it('renders each plan with sessions, progress bar, dates, funding and billing', async () => {
      // Arrange
      const element = render();
      // Act
      graphqlAdapter.emit(carePlans);
      await flushPromises();
      // Assert
      const root = element.shadowRoot!;
      expect(texts(root, '.plan-name')).toEqual(['CP-000101', 'CP-000087']);
      expect(texts(root, '.sessions')).toEqual([
        '6 of 10 sessions used (60%)',
        '5 of 5 sessions used (100%)',
      ]);
      const bars = Array.from(root.querySelectorAll('[role="progressbar"]'));
      expect(bars.map((b) => b.getAttribute('aria-valuenow'))).toEqual(['60', '100']);
      expect(bars[0]!.getAttribute('aria-label')).toBe('6 of 10 sessions used');
      expect(texts(root, '.remaining')).toEqual(['4', '0']);
      expect(texts(root, '.issued')).toEqual(['01/09/2026', '10/01/2026']);
      expect(texts(root, '.expires')).toEqual(['01/03/2027', '—']);
      expect(texts(root, '.funding')).toEqual(['WorkCover', 'Private']);
      expect(texts(root, '.billing')).toEqual([
        'Invoiced $840.00 of $1,500.00 limit',
        'Invoiced $450.00 of — limit',
      ]);
    });

    it('is accessible', async () => {
      const element = render();
      graphqlAdapter.emit(carePlans);
      await flushPromises();
      await expect(element).toBeAccessible();
    });
  });

  describe('order', () => {
    it('orders by a field every audience can read, then shows the newest issue date first', async () => {
      // Marketing and billing cannot read Issue_Date__c; ordering by it server-side would fail their query.
      expect(componentSource).toMatch(/orderBy:\s*\{\s*CreatedDate:/);
      expect(componentSource).not.toMatch(/orderBy:\s*\{\s*Issue_Date__c/);
      const element = render();
      const [newer, older] = carePlans.uiapi.query.Care_Plan__c.edges as [
        (typeof carePlans.uiapi.query.Care_Plan__c.edges)[number],
        (typeof carePlans.uiapi.query.Care_Plan__c.edges)[number],
      ];
      const undated = { node: { ...older.node, Id: 'a01000000000003AAA', Name: { value: 'CP-000050' } } };
      delete (undated.node as Record<string, unknown>).Issue_Date__c;
      graphqlAdapter.emit({ uiapi: { query: { Care_Plan__c: { edges: [undated, older, newer] } } } });
      await flushPromises();
      expect(texts(element.shadowRoot!, '.plan-name')).toEqual(['CP-000101', 'CP-000087', 'CP-000050']);
    });
  });

  describe('user without billing access', () => {
    it('renders no billing values when FLS leaves the billing fields out of the response', async () => {
      const element = render();
      graphqlAdapter.emit(carePlansNoBilling);
      await flushPromises();
      const root = element.shadowRoot!;
      expect(texts(root, '.plan-name')).toEqual(['CP-000101']);
      expect(root.querySelector('.billing')).toBeNull();
      expect(root.textContent).not.toContain('$');
      expect(root.textContent).not.toContain('Invoiced');
      await expect(element).toBeAccessible();
    });
  });

  describe('empty state', () => {
    it('says the patient has no care plans', async () => {
      const element = render();
      graphqlAdapter.emit({ uiapi: { query: { Care_Plan__c: { edges: [] } } } });
      await flushPromises();
      const root = element.shadowRoot!;
      expect(root.querySelector('.empty-state')!.textContent).toBe('This patient has no care plans.');
      expect(root.querySelector('.plan')).toBeNull();
      await expect(element).toBeAccessible();
    });
  });

  describe('error path', () => {
    it('shows the shared error panel with the GraphQL error messages', async () => {
      const element = render();
      graphqlAdapter.emitErrors([{ message: 'No such column Sessions_Used__c' }]);
      await flushPromises();
      const panel = element.shadowRoot!.querySelector('c-error-panel') as HTMLElement & {
        friendlyMessage: string;
        errors: unknown;
      };
      expect(panel.friendlyMessage).toBe('Care plans could not be loaded.');
      expect(panel.errors).toEqual([{ message: 'No such column Sessions_Used__c' }]);
      expect(element.shadowRoot!.querySelector('.plan')).toBeNull();
      await expect(element).toBeAccessible();
    });
  });
});
