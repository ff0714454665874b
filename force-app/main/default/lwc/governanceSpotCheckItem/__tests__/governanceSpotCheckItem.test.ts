import { createElement } from 'lwc';
import { gqlNodes, gqlValue } from 'c/ldsUtils';
import GovernanceSpotCheckItem, {
  SPOT_CHECK_SIZE,
  applySpotCheckToggle,
  drawSpotCheckSample,
  noClinicalContentFound,
  parseSpotCheckSample,
  spotCheckComplete,
  type Candidate,
  type HistoryRow,
  type SpotCheckEntry,
} from 'c/governanceSpotCheckItem';
// The container's recorded fixtures: the Contacts synced this quarter (GraphQL) and their field history
// (Apex), given to this item exactly as the container passes them.
import { spotFieldsOf, type SpotField } from 'c/fieldShapes';
import governanceData from '../../governanceReview/__tests__/data/governanceData.json';
import dataMap from '../../governanceReview/__tests__/data/dataMapSignoff.json';
import sampledContacts from '../../governanceReview/__tests__/data/sampledContacts.json';
import fieldHistory from '../../governanceReview/__tests__/data/fieldHistory.json';

interface SpotCheckItemElement extends HTMLElement {
  entries: SpotCheckEntry[];
  candidates: Candidate[];
  fieldsByRecord: Record<string, SpotField[]>;
  fieldLabels: Record<string, string>;
  historyRows: HistoryRow[];
  errors: unknown;
  disabled: boolean;
}

const CANDIDATES: Candidate[] = gqlNodes(governanceData, 'Contact').map((node) => ({
  id: String(node.Id),
  label: gqlValue<string>(node, 'Name') ?? String(node.Id),
  clinikoPatientId: gqlValue<string>(node, 'Cliniko_Patient_Id__c') ?? null,
}));
const ENTRIES: SpotCheckEntry[] = drawSpotCheckSample(CANDIDATES);
const LABELS = { Email: 'Email address', Journey_Stage__c: 'Journey Stage', FirstName: 'First Name' };
/** What the container passes: each recorded Contact's synced fields, checked against the map's shapes. */
const FIELDS: Record<string, SpotField[]> = Object.fromEntries(
  sampledContacts.results.map((r) => [
    r.result.id,
    spotFieldsOf('Contact', dataMap.entries, r.result.fields as Parameters<typeof spotFieldsOf>[2], LABELS),
  ]),
);

function flushPromises(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

async function render(props: Partial<SpotCheckItemElement> = {}): Promise<SpotCheckItemElement> {
  const element = createElement('c-governance-spot-check-item', {
    is: GovernanceSpotCheckItem,
  }) as unknown as SpotCheckItemElement;
  Object.assign(element, {
    entries: ENTRIES,
    candidates: CANDIDATES,
    fieldsByRecord: FIELDS,
    fieldLabels: LABELS,
    historyRows: fieldHistory,
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

describe('c-governance-spot-check-item', () => {
  afterEach(() => {
    while (document.body.firstChild) document.body.removeChild(document.body.firstChild);
    jest.clearAllMocks();
  });

  describe('data path', () => {
    it('draws at most five records, ordered by id, nothing ticked', () => {
      expect(SPOT_CHECK_SIZE).toBe(5);
      expect(ENTRIES).toEqual([
        {
          recordId: '003000000000101AAA',
          clinikoPatientId: '100101',
          checked: false,
          noClinicalContent: false,
        },
        {
          recordId: '003000000000102AAA',
          clinikoPatientId: '100102',
          checked: false,
          noClinicalContent: false,
        },
        {
          recordId: '003000000000103AAA',
          clinikoPatientId: '100103',
          checked: false,
          noClinicalContent: false,
        },
      ]);
      const many = Array.from({ length: 8 }, (_, i) => ({
        id: `00300000000020${i}AAA`,
        label: 'x',
        clinikoPatientId: null,
      }));
      const drawn = drawSpotCheckSample(many);
      expect(drawn).toHaveLength(SPOT_CHECK_SIZE);
      expect(new Set(drawn.map((e) => e.recordId)).size).toBe(SPOT_CHECK_SIZE);
      expect(drawn.map((e) => e.recordId)).toEqual([...drawn.map((e) => e.recordId)].sort());
    });

    it('shows each sampled record with its field history and labelled checkboxes', async () => {
      const element = await render();
      const root = element.shadowRoot!;
      expect(texts(root, '.spot-label')).toEqual([
        'Noah Patel (Cliniko 100101)',
        'Olivia Jones (Cliniko 100102)',
        'Mia Chen (Cliniko 100103)',
      ]);
      const first = root.querySelectorAll('.spot-check')[0]!;
      // Labels given by the container; times in the user's time zone (sfdx-lwc-jest: America/Los_Angeles).
      expect(texts(first, '.history-row')).toEqual([
        'Email address: noah@old.example → noah@new.example, Nov 2, 2026, 6:00 PM PST by Cliniko Integration',
        'Journey Stage: Started Care → In Care, Oct 19, 2026, 7:00 PM PDT by Cliniko Integration',
      ]);
      expect(texts(root.querySelectorAll('.spot-check')[1]!, '.no-history')).toEqual([
        'No field history recorded.',
      ]);
      expect(root.querySelectorAll('input.spot-checked')[0]!.getAttribute('aria-label')).toBe(
        'Checked: Noah Patel (Cliniko 100101)',
      );
    });

    it('flags a value that does not fit its shape, naming the field and never repeating the value', async () => {
      const element = await render();
      const second = element.shadowRoot!.querySelectorAll('.spot-check')[1]!;
      const flagged = Array.from(second.querySelectorAll('.spot-field_flagged'));
      expect(flagged.map((row) => texts(row, '.spot-field-label')[0])).toEqual(['MailingPostalCode']);
      expect(texts(second, '.spot-field-flag')).toContain('Does not fit: not a postcode');
      expect(texts(second, '.spot-flagged')).toEqual(['1 value(s) do not fit their shape.']);
      // Control: the first record's values all fit, so nothing is flagged there.
      const first = element.shadowRoot!.querySelectorAll('.spot-check')[0]!;
      expect(first.querySelectorAll('.spot-field_flagged')).toHaveLength(0);
      expect(first.querySelector('.spot-flagged')).toBeNull();
    });

    it('disables both ticks of a record with nothing to check (control: a record with values can be ticked)', async () => {
      const element = await render({
        fieldsByRecord: { ...FIELDS, '003000000000103AAA': [] },
      });
      const root = element.shadowRoot!;
      const boxes = Array.from(root.querySelectorAll<HTMLInputElement>('input'));
      expect(boxes.map((b) => b.disabled)).toEqual([false, false, false, false, true, true]);
      expect(texts(root.querySelectorAll('.spot-check')[2]!, '.nothing-to-check')[0]).toContain(
        'cannot be ticked',
      );
    });

    it('reports each tick to the container, which applies it to its own sample', async () => {
      // Arrange
      const element = await render();
      const seen: Array<{ field: string; value: unknown }> = [];
      element.addEventListener('itemchange', (event) => seen.push((event as CustomEvent).detail));
      const root = element.shadowRoot!;

      // Act: two ticks in a row, before anything re-renders.
      const checked = root.querySelectorAll<HTMLInputElement>('input.spot-checked')[1]!;
      checked.checked = true;
      checked.dispatchEvent(new CustomEvent('change'));
      const clinical = root.querySelectorAll<HTMLInputElement>('input.spot-no-clinical')[1]!;
      clinical.checked = true;
      clinical.dispatchEvent(new CustomEvent('change'));

      // Assert: both ticks survive when applied in turn.
      expect(seen).toEqual([
        { field: 'spotCheck', value: { recordId: '003000000000102AAA', flag: 'checked', value: true } },
        {
          field: 'spotCheck',
          value: { recordId: '003000000000102AAA', flag: 'noClinicalContent', value: true },
        },
      ]);
      const after = seen.reduce(
        (sample, change) =>
          applySpotCheckToggle(sample, change.value as Parameters<typeof applySpotCheckToggle>[1]),
        ENTRIES,
      );
      expect(after[1]).toEqual({
        recordId: '003000000000102AAA',
        clinikoPatientId: '100102',
        checked: true,
        noClinicalContent: true,
      });
      expect(spotCheckComplete(after)).toBe(false);
      const all = after.map((e) => ({ ...e, checked: true, noClinicalContent: true }));
      expect(spotCheckComplete(all)).toBe(true);
      expect(noClinicalContentFound(all)).toBe(true);
    });

    it('shows a resumed sample again, labelled from its stored ids when the Contact is not among the candidates', async () => {
      const saved = parseSpotCheckSample(
        JSON.stringify([
          {
            recordId: '003000000000102AAA',
            clinikoPatientId: '100102',
            checked: true,
            noClinicalContent: true,
          },
          {
            recordId: '003000000000021AAA',
            clinikoPatientId: '900002',
            checked: true,
            noClinicalContent: false,
          },
        ]),
      )!;
      const element = await render({ entries: saved, disabled: true });
      const root = element.shadowRoot!;
      expect(texts(root, '.spot-label')).toEqual(['Olivia Jones (Cliniko 100102)', 'Cliniko patient 900002']);
      const boxes = Array.from(root.querySelectorAll<HTMLInputElement>('input'));
      expect(boxes.map((b) => b.checked)).toEqual([true, true, true, false]);
      expect(boxes.every((b) => b.disabled)).toBe(true);
    });

    it('is accessible', async () => {
      const element = await render();
      await expect(element).toBeAccessible();
    });
  });

  describe('user without billing access', () => {
    it('renders only the history rows the controller returns (it withholds unreadable fields)', async () => {
      const element = await render({ historyRows: fieldHistory.filter((row) => row.field !== 'Email') });
      const root = element.shadowRoot!;
      expect(texts(root, '.history-row')).toEqual([
        'Journey Stage: Started Care → In Care, Oct 19, 2026, 7:00 PM PDT by Cliniko Integration',
        'MobilePhone: (empty) → +61 400 000 103, Nov 9, 2026, 6:00 PM PST by Cliniko Integration',
      ]);
      expect(root.textContent).not.toContain('$');
    });
  });

  describe('empty state', () => {
    it('says there is nothing to sample when no records were synced this quarter', async () => {
      const element = await render({ entries: drawSpotCheckSample([]), candidates: [], historyRows: [] });
      expect(texts(element.shadowRoot!, '.no-sample')).toEqual([
        'No records were synced this quarter; nothing to sample.',
      ]);
      await expect(element).toBeAccessible();
    });
  });

  describe('error path', () => {
    it('shows the error panel when the field history cannot be loaded, and still lists the sample', async () => {
      const errors = { body: { message: 'No access to ContactHistory' } };
      const element = await render({ historyRows: [], errors });
      const root = element.shadowRoot!;
      const panel = root.querySelector<HTMLElement & { errors: unknown }>('c-error-panel.history-error')!;
      expect(panel.errors).toEqual(errors);
      expect(root.querySelectorAll('.spot-check')).toHaveLength(3);
      await expect(element).toBeAccessible();
    });

    it('draws again rather than failing when the stored sample is not a JSON array', () => {
      expect(parseSpotCheckSample('not json')).toBeUndefined();
      expect(parseSpotCheckSample('{"recordId":"003"}')).toBeUndefined();
      expect(parseSpotCheckSample('')).toBeUndefined();
    });
  });
});
