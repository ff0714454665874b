import { createElement } from 'lwc';
import DataMapViewer from 'c/dataMapViewer';
import getDataMap from '@salesforce/apex/ClinikoGovernanceController.getDataMap';
import dataMap from './data/dataMap.json';

// Custom metadata is out of the UI API's reach, so the map comes from Apex; mock the method module.
jest.mock('@salesforce/apex/ClinikoGovernanceController.getDataMap', () => ({ default: jest.fn() }), {
  virtual: true,
});
const getDataMapMock = getDataMap as unknown as jest.Mock;

function flushPromises(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

async function render(): Promise<HTMLElement> {
  const element = createElement('c-data-map-viewer', { is: DataMapViewer }) as unknown as HTMLElement;
  document.body.appendChild(element);
  await flushPromises();
  return element;
}

function texts(root: ParentNode, selector: string): string[] {
  return Array.from(root.querySelectorAll(selector)).map((el) =>
    (el.textContent ?? '').replace(/\s+/g, ' ').trim(),
  );
}

describe('c-data-map-viewer', () => {
  afterEach(() => {
    while (document.body.firstChild) document.body.removeChild(document.body.firstChild);
    jest.clearAllMocks();
  });

  describe('data path', () => {
    it('groups every entry by classification with target, direction and audiences', async () => {
      // Arrange
      getDataMapMock.mockResolvedValue(dataMap);
      // Act
      const element = await render();
      // Assert
      const root = element.shadowRoot!;
      expect(getDataMapMock).toHaveBeenCalledTimes(1);
      expect(texts(root, '.group-name')).toEqual([
        'Marketing-safe',
        'Operations-safe',
        'Billing',
        'Clinician-only (never copied)',
      ]);
      expect(texts(root, '.group-count')).toEqual(['(3 fields)', '(3 fields)', '(3 fields)', '(3 fields)']);
      expect(root.querySelectorAll('.entry')).toHaveLength(dataMap.entries.length);
      const marketing = root.querySelectorAll('.group')[0]!;
      expect(texts(marketing, '.target')).toEqual([
        'Contact.Cliniko_Patient_Id__c',
        'Contact.FirstName',
        'Contact.LastName',
      ]);
      expect(texts(marketing, '.direction')[0]).toBe('Cliniko → Salesforce');
      expect(texts(marketing, '.audience').slice(0, 4)).toEqual([
        'marketing',
        'operations',
        'billing',
        'compliance',
      ]);
      const billing = root.querySelectorAll('.group')[2]!;
      expect(texts(billing, '.audience').slice(0, 2)).toEqual(['billing', 'compliance']);
      const clinicianOnly = root.querySelectorAll('.group')[3]!;
      expect(texts(clinicianOnly, '.target')).toEqual(['—', '—', '—']);
    });

    it('shows the sign-off and confirms the deployed map is the signed one', async () => {
      getDataMapMock.mockResolvedValue(dataMap);
      const element = await render();
      const root = element.shadowRoot!;
      expect(texts(root, '.approved-by')).toEqual([dataMap.signoff.approvedBy]);
      expect(texts(root, '.approved-on')).toEqual(['2026-11-22']);
      expect(texts(root, '.signed-hash')).toEqual([dataMap.signoff.signedHash]);
      expect(root.querySelector('.signed-ok')).not.toBeNull();
      expect(root.querySelector('.hash-warning')).toBeNull();
    });

    it('warns clearly when the deployed map is not the signed one', async () => {
      getDataMapMock.mockResolvedValue({
        ...dataMap,
        signoff: { ...dataMap.signoff, currentHash: 'f'.repeat(64) },
      });
      const element = await render();
      const root = element.shadowRoot!;
      const warning = root.querySelector('.hash-warning')!;
      expect(warning.getAttribute('role')).toBe('alert');
      expect(warning.textContent).toContain('the deployed data map is not the signed one');
      expect(texts(root, '.current-hash')).toEqual(['f'.repeat(64)]);
      expect(root.querySelector('.signed-ok')).toBeNull();
      await expect(element).toBeAccessible();
    });

    it('warns when no sign-off is deployed', async () => {
      getDataMapMock.mockResolvedValue({ entries: dataMap.entries, signoff: null });
      const element = await render();
      expect(element.shadowRoot!.querySelector('.no-signoff')!.textContent).toContain(
        'no sign-off is deployed',
      );
    });

    it('is accessible', async () => {
      getDataMapMock.mockResolvedValue(dataMap);
      const element = await render();
      await expect(element).toBeAccessible();
    });
  });

  describe('user without billing access', () => {
    it('lists the billing entries by name only: the map holds field names, never record values', async () => {
      getDataMapMock.mockResolvedValue(dataMap);
      const element = await render();
      const root = element.shadowRoot!;
      const billing = root.querySelectorAll('.group')[2]!;
      expect(texts(billing, '.target')).toContain('Care_Plan__c.Billing_Limit__c');
      // No currency or amount is ever rendered by this component.
      expect(root.textContent).not.toMatch(/\$\s?\d/);
    });
  });

  describe('empty state', () => {
    it('says no entries are deployed and still warns about the missing sign-off', async () => {
      getDataMapMock.mockResolvedValue({ entries: [], signoff: null });
      const element = await render();
      const root = element.shadowRoot!;
      expect(root.querySelector('.empty-state')!.textContent).toBe('No data-map entries are deployed.');
      expect(root.querySelector('.entry')).toBeNull();
      expect(root.querySelector('.no-signoff')).not.toBeNull();
      await expect(element).toBeAccessible();
    });
  });

  describe('error path', () => {
    it('shows the shared error panel when Apex fails', async () => {
      getDataMapMock.mockRejectedValue({ body: { message: 'Insufficient privileges' }, status: 403 });
      const element = await render();
      const root = element.shadowRoot!;
      const panel = root.querySelector('c-error-panel') as HTMLElement & {
        friendlyMessage: string;
        errors: unknown;
      };
      expect(panel.friendlyMessage).toBe('The data map could not be loaded.');
      expect(panel.errors).toMatchObject({ body: { message: 'Insufficient privileges' } });
      expect(root.querySelector('.entry')).toBeNull();
      expect(root.querySelector('.signed-ok')).toBeNull();
      await expect(element).toBeAccessible();
    });
  });
});
