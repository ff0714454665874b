import { createElement } from 'lwc';
import ErrorPanel from 'c/errorPanel';

interface ErrorPanelElement extends HTMLElement {
  friendlyMessage: string;
  errors: unknown;
}

function flushPromises(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

function render(props: Partial<ErrorPanelElement>): ErrorPanelElement {
  const element = createElement('c-error-panel', { is: ErrorPanel }) as unknown as ErrorPanelElement;
  Object.assign(element, props);
  document.body.appendChild(element);
  return element;
}

describe('c-error-panel', () => {
  afterEach(() => {
    while (document.body.firstChild) document.body.removeChild(document.body.firstChild);
    jest.clearAllMocks();
  });

  describe('data path', () => {
    it('shows the friendly message and reveals every underlying message on request', async () => {
      // Arrange
      const element = render({
        friendlyMessage: 'Care plans could not be loaded.',
        errors: [
          { body: { message: 'Insufficient access to Care_Plan__c' } },
          { body: [{ message: 'Row one failed' }, { message: 'Row two failed' }] },
          new Error('Network unreachable'),
        ],
      });
      await flushPromises();
      const root = element.shadowRoot!;
      expect(root.querySelector('.friendly-message')!.textContent).toBe('Care plans could not be loaded.');
      expect(root.querySelector('.error-details')).toBeNull();

      // Act
      (root.querySelector('button.toggle-details') as HTMLButtonElement).click();
      await flushPromises();

      // Assert
      const items = Array.from(root.querySelectorAll('.error-details li')).map((li) => li.textContent);
      expect(items).toEqual([
        'Insufficient access to Care_Plan__c',
        'Row one failed',
        'Row two failed',
        'Network unreachable',
      ]);
      expect(root.querySelector('button.toggle-details')!.getAttribute('aria-expanded')).toBe('true');
    });

    it('is accessible', async () => {
      const element = render({ errors: { body: { message: 'Denied' } } });
      await flushPromises();
      await expect(element).toBeAccessible();
    });
  });

  describe('error path', () => {
    it('shows no details control when the errors carry no message', async () => {
      // Arrange / Act
      const element = render({ errors: [null, {}, undefined] });
      await flushPromises();

      // Assert
      expect(element.shadowRoot!.querySelector('button.toggle-details')).toBeNull();
      expect(element.shadowRoot!.querySelector('.friendly-message')!.textContent).toContain(
        'Something went wrong',
      );
    });
  });
});
