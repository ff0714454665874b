// Opens each Lightning Web Component in the local preview (scripts/preview-lwc) with the machine's
// Chromium, headless, checks the key text each one must show from its recorded fixtures, and saves
// a screenshot per component to test/browser/screenshots/ (not committed).
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPreview, type PreviewServer } from '../../scripts/preview-lwc/server.js';
import { lwcRoot } from '../../scripts/preview-lwc/build.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const screenshots = fileURLToPath(new URL('./screenshots/', import.meta.url));

let preview: PreviewServer;
let context: BrowserContext;
let userDataDir: string;
const pageErrors: string[] = [];
const failedRequests: string[] = [];
const SIGNED_HASH = (
  JSON.parse(
    readFileSync(path.join(lwcRoot, 'governanceReview/__tests__/data/dataMapSignoff.json'), 'utf8'),
  ) as { signoff: { signedHash: string } }
).signoff.signedHash;

async function open(query: string): Promise<Page> {
  const page = await context.newPage();
  page.on('pageerror', (error) => pageErrors.push(`${query}: ${error.message}`));
  // Every request the page makes (bundle, SLDS styles and fonts, icon sprites) must be served.
  page.on('response', (response) => {
    if (response.status() >= 400) failedRequests.push(`${query}: ${response.status()} ${response.url()}`);
  });
  await page.goto(`${preview.url}/?${query}`);
  return page;
}

/** The governance review, once its sampled records' fields have arrived (the last wire to answer). */
async function openReview(query: string): Promise<Page> {
  const page = await open(query);
  await page.locator('.spot-field').first().waitFor();
  return page;
}

/** The visible text of every element matching `selector` under `scope`, trimmed, in document order. */
async function texts(scope: Page | Locator, selector: string): Promise<string[]> {
  return (await scope.locator(selector).allInnerTexts()).map((t) => t.trim());
}

/** One sampled record of the spot check, by its label. */
function spotRecord(page: Page, label: string): Locator {
  return page.locator('li.spot-check', { has: page.locator('.spot-label', { hasText: label }) });
}

/** Focuses each unticked checkbox matching `selector` (the first `limit`) and ticks it with Space. */
async function tickWithKeyboard(page: Page, selector: string, limit = Infinity): Promise<void> {
  let ticked = 0;
  for (const box of await page.locator(selector).all()) {
    if (ticked >= limit) break;
    if (await box.isChecked()) continue;
    await box.focus();
    await page.keyboard.press('Space');
    expect(await box.isChecked()).toBe(true);
    ticked += 1;
  }
}

/** Focuses the field labelled `label`, types `text` and tabs away (which commits it). */
async function typeWithKeyboard(page: Page, label: string, text: string): Promise<void> {
  await page.getByLabel(label, { exact: true }).focus();
  await page.keyboard.type(text);
  await page.keyboard.press('Tab');
}

interface PreviewSave {
  op: string;
  recordInput: { fields: Record<string, unknown> };
}

/** What the page saved through the uiRecordApi stub (createRecord / updateRecord), in order. */
function previewSaves(page: Page): Promise<PreviewSave[]> {
  return page.evaluate<PreviewSave[]>('window.__previewSaves');
}

async function shoot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(screenshots, `${name}.png`), fullPage: true });
}

beforeAll(async () => {
  await mkdir(screenshots, { recursive: true });
  preview = await startPreview(0);
  // A fresh, empty profile for every run; Playwright passes it to Chromium as --user-data-dir.
  userDataDir = await mkdtemp(path.join(tmpdir(), 'lwc-chromium-'));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 900 },
    // The reviewer's browser in the clinic's time zone, the preview's @salesforce/i18n/timeZone.
    timezoneId: 'Australia/Sydney',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
});

afterAll(async () => {
  await context?.close();
  await preview?.close();
  if (userDataDir) await rm(userDataDir, { recursive: true, force: true });
});

describe('LWC preview in headless Chromium', () => {
  it('carePlanProgress shows sessions, progress and billing for the billing audience', async () => {
    const page = await open('c=carePlanProgress');
    await expect(page.getByText('CP-000101').waitFor()).resolves.toBeUndefined();
    expect(await page.getByText('6 of 10 sessions used (60%)').count()).toBe(1);
    expect(await page.getByRole('progressbar').count()).toBe(2);
    expect(await page.getByText('Invoiced $840.00 of $1,500.00 limit').count()).toBe(1);
    await shoot(page, 'carePlanProgress');
    await page.close();
  });

  it('carePlanProgress hides billing values from a user without billing access', async () => {
    const page = await open('c=carePlanProgress&audience=marketing');
    await page.getByText('CP-000101').waitFor();
    expect(await page.getByText('Invoiced').count()).toBe(0);
    expect(await page.locator('main').innerText()).not.toContain('$');
    await shoot(page, 'carePlanProgress-no-billing');
    await page.close();
  });

  it('patientJourney shows the stage and pages through the timeline', async () => {
    const page = await open('c=patientJourney');
    await page.getByText('Maintenance reminder due').first().waitFor();
    expect(await page.getByText('since 15/10/2026 10:00 am').count()).toBe(1);
    expect(await page.getByText('Page 1 of 2 (12 entries)').count()).toBe(1);
    expect(await page.locator('main').innerText()).not.toContain('In Care → In Care');
    // The timeline icons come from the SLDS sprite at the path Lightning Experience serves it.
    const sprite = await page.request.get(`${preview.url}/_slds/icons/standard-sprite/svg/symbols.svg`);
    expect(sprite.status()).toBe(200);
    await shoot(page, 'patientJourney');
    // Keyboard only: open the first entry's details, then focus the pager's Next button and press Enter.
    await page.getByRole('button', { name: 'Details of Maintenance reminder due' }).first().focus();
    await page.keyboard.press('Enter');
    await page.getByText('T9 Maintenance Reminder').first().waitFor({ state: 'visible' });
    await page.getByRole('button', { name: 'Next page of the timeline' }).focus();
    await page.keyboard.press('Enter');
    await page.getByText('Page 2 of 2 (12 entries)').waitFor();
    await page.close();
  });

  it('dataMapViewer shows the classification groups and the sign-off', async () => {
    const page = await open('c=dataMapViewer');
    await page.getByText('The deployed data map is the signed one.').waitFor();
    for (const group of ['Marketing-safe', 'Operations-safe', 'Billing', 'Clinician-only (never copied)']) {
      expect(await page.locator('.group-name', { hasText: group }).count()).toBeGreaterThan(0);
    }
    expect(await page.getByText('Contact.Cliniko_Patient_Id__c').count()).toBe(1);
    await shoot(page, 'dataMapViewer');
    await page.close();
  });

  it('consentReconciliation shows counts, gap, trend and the mismatch sample', async () => {
    const page = await open('c=consentReconciliation');
    await page.getByText('Salesforce has 2 fewer').waitFor();
    expect(await page.getByText('Email gap narrowed from 11 to 2').count()).toBe(1);
    expect(await page.getByText('100245').count()).toBe(1);
    await shoot(page, 'consentReconciliation');
    await page.close();
  });

  // The governance review walks its six agenda items (the five child components and the audit
  // verification the container shows itself) with the recorded data: the access picture's findings,
  // an intact verification, the quarter's counts, a spot check with a value that does not fit its shape.
  it('governanceReview shows every agenda item with its recorded data', async () => {
    const page = await openReview('c=governanceReview');
    // The page clock is pinned to the fixtures' time, so the review is the quarter they belong to.
    expect(await page.getByRole('heading', { name: 'Quarterly governance review 2026-Q4' }).count()).toBe(1);
    for (const child of [
      'c-governance-data-map-item',
      'c-governance-access-item',
      'c-governance-spot-check-item',
      'c-governance-consent-item',
      'c-governance-sign-item',
    ]) {
      expect(await page.locator(`c-governance-review ${child} fieldset.item`).count(), child).toBe(1);
    }
    expect(await texts(page, '.step-label')).toEqual([
      '1. Data map unchanged without sign-off',
      '2. Access changes reviewed',
      '3. Audit trail verified this quarter',
      '4. Change-log spot check',
      '5. Consent counts compared',
      '6. Attendees and notes',
    ]);
    // Item 3 is done by the data (verified this quarter, intact); the others wait for the reviewer.
    expect(await texts(page, '.step-state')).toEqual(['To do', 'To do', 'Done', 'To do', 'To do', 'To do']);

    // 1. The deployed map is the signed one and the one the last review saw: no warning.
    expect(await texts(page, '.item-1 .hash')).toEqual([SIGNED_HASH, SIGNED_HASH, SIGNED_HASH]);
    expect(await page.locator('.map-warning').count()).toBe(0);

    // 2. The access picture: one reader outside their audience (the resolved one is not flagged), and
    // every change since GR-0002 with the grant it comes through.
    expect(await texts(page, '.access-flag-summary')).toEqual([
      '1 user reads synced fields outside their audience.',
    ]);
    expect(await texts(page, '.access-flag-user')).toEqual(['mia.marketing@clinic.example']);
    expect(await texts(page, '.access-flag-path')).toEqual(['profile Marketing Team']);
    expect(await texts(page, '.access-flag-fields')).toEqual(['Cliniko_Invoice__c.Total_Amount__c']);
    expect(await texts(page, '.access-summary')).toEqual(['6 access changes since GR-0002.']);
    expect(await texts(page, '.access-user')).toEqual([
      'mia.marketing@clinic.example',
      'mia.marketing@clinic.example',
      'sam.lee@clinic.example',
      'ava.brown@clinic.example',
      'sam.lee@clinic.example',
      'ava.brown@clinic.example',
    ]);
    expect((await texts(page, '.access-what')).map((t) => t.replace(/Resolved .*$/s, '').trim())).toEqual([
      'Outside Audience: Billing fields',
      'Gained: Billing fields',
      'Assigned: Cliniko_Sync_Billing',
      'Lost: Marketing-safe fields',
      'Outside Audience: Operations-safe fields',
      'Removed: Cliniko_Sync_Marketing',
    ]);
    expect(await texts(page, '.access-resolved')).toEqual(['Resolved 27/10/2026 10:00 am']);
    expect(await page.locator('.access-flagged').count()).toBe(1);
    // The table of changes fits its item's box (long API names wrap rather than run past the card).
    const box = await page.locator('fieldset.item-2').boundingBox();
    const table = await page.locator('.access-table').boundingBox();
    expect(table!.x + table!.width).toBeLessThanOrEqual(box!.x + box!.width);

    // 3. The last verification and the quarter in numbers (en-AU grouping; the browser is in Sydney).
    expect(await texts(page, '.verification-result')).toEqual(['Intact']);
    expect(await texts(page, '.verification-text')).toEqual([
      'Last verified 21 Nov 2026, 1:00 pm, 12,840 entries, 91 Salesforce anchors.',
    ]);
    expect(await texts(page, '.quarter-created')).toEqual(['1,250', '5,120', '0']);
    expect(await texts(page, '.quarter-updated')).toEqual(['3,402', '880', '14']);
    expect((await texts(page, '.quarter-totals'))[0]).toContain(
      'Write-backs: 14; sign-offs: 2; dead letters: 3; quarantines: 1',
    );

    // 4. Every Contact synced this quarter (three, so all are sampled), ordered by record id, each with
    // its synced fields labelled from object info and checked against their declared shapes.
    expect(await texts(page, '.spot-label')).toEqual([
      'Noah Patel (Cliniko 100101)',
      'Olivia Jones (Cliniko 100102)',
      'Mia Chen (Cliniko 100103)',
    ]);
    const noah = spotRecord(page, 'Noah Patel');
    expect(await texts(noah, '.spot-field-label')).toEqual([
      'First Name',
      'Last Name',
      'Birthdate',
      'Email',
      'Mobile',
      'Mailing Zip/Postal Code',
      'Mailing Street',
    ]);
    expect((await texts(noah, '.history-row'))[0]).toBe(
      'Email: noah@old.example → noah@new.example, 3 Nov 2026, 1:00 pm AEDT by Cliniko Integration',
    );
    // Olivia's postcode holds a note: flagged by its label and the reason, never the value repeated.
    const olivia = spotRecord(page, 'Olivia Jones');
    expect(await texts(olivia, '.spot-field_flagged .spot-field-label')).toEqual(['Mailing Zip/Postal Code']);
    expect(await texts(olivia, '.spot-field_flagged .spot-field-flag')).toEqual([
      'Does not fit: not a postcode',
    ]);
    expect(await texts(olivia, '.spot-flagged')).toEqual(['1 value(s) do not fit their shape.']);
    expect(await page.locator('.spot-field_flagged').count()).toBe(1);
    // Every sampled record has something to check, so every box can be ticked.
    expect(await page.locator('.nothing-to-check').count()).toBe(0);
    const boxes = await page.locator('input.spot-checked, input.spot-no-clinical').all();
    expect(boxes).toHaveLength(6);
    for (const box of boxes) expect(await box.isEnabled()).toBe(true);

    // 5. The latest consent snapshot's gaps.
    expect(await texts(page, '.consent-gap')).toEqual(['-2', '1']);
    await shoot(page, 'governanceReview');
    await page.close();
  });

  it('governanceReview offers Sign and lock only once every item is done, then locks', async () => {
    const page = await openReview('c=governanceReview');
    const sign = page.getByRole('button', { name: 'Sign and lock' });
    const state = async (item: number): Promise<string> => (await texts(page, '.step-state'))[item - 1]!;

    // Work through the agenda with the keyboard only, asserting after each item that it is done and
    // that signing stays unavailable while anything is left.
    await tickWithKeyboard(page, 'input.map-unchanged');
    await expect.poll(() => state(1)).toBe('Done');
    expect(await sign.isDisabled()).toBe(true);
    await tickWithKeyboard(page, 'input.access-reviewed');
    await expect.poll(() => state(2)).toBe('Done');
    expect(await sign.isDisabled()).toBe(true);
    // The spot check is done only when every sampled record is checked.
    await tickWithKeyboard(page, 'input.spot-checked', 2);
    expect(await state(4)).toBe('To do');
    await tickWithKeyboard(page, 'input.spot-checked');
    await tickWithKeyboard(page, 'input.spot-no-clinical');
    await expect.poll(() => state(4)).toBe('Done');
    expect(await sign.isDisabled()).toBe(true);
    // A consent gap needs an explanation as well as the tick.
    await tickWithKeyboard(page, 'input.consent-reviewed');
    expect(await state(5)).toBe('To do');
    await typeWithKeyboard(page, 'Gap explanation', 'Two opt-outs awaiting write-back.');
    await expect.poll(() => state(5)).toBe('Done');
    expect(await sign.isDisabled()).toBe(true);
    expect(await texts(page, '.sign-hint')).toEqual(['Still to do: 6. Attendees and notes.']);
    await typeWithKeyboard(page, 'Attendees', 'Jane Citizen; Sam Lee');
    await expect
      .poll(() => texts(page, '.step-state'))
      .toEqual(['Done', 'Done', 'Done', 'Done', 'Done', 'Done']);
    await expect.poll(() => sign.isEnabled()).toBe(true);
    expect(await texts(page, '.sign-hint')).toEqual(['Every item is complete.']);

    await sign.focus();
    await page.keyboard.press('Enter');
    await page.getByText('Review signed and locked.').waitFor();
    expect(await page.locator('input.attendees').isDisabled()).toBe(true);
    for (const box of await page.locator('c-governance-review input[type="checkbox"]').all()) {
      expect(await box.isDisabled()).toBe(true);
    }
    // Saved as the platform would receive it: a draft first (never created signed), then the signing
    // update; who signed and when are left to Salesforce.
    const saves = await previewSaves(page);
    expect(saves.map((s) => s.op)).toEqual(['create', 'update']);
    expect(saves[0]!.recordInput.fields).toMatchObject({ Status__c: 'Draft', Quarter__c: '2026-Q4' });
    const signed = saves[1]!.recordInput.fields;
    expect(signed).toMatchObject({
      Status__c: 'Signed',
      Attendees__c: 'Jane Citizen; Sam Lee',
      Data_Map_Unchanged__c: true,
      Access_Changes_Reviewed__c: true,
      Spot_Check_Complete__c: true,
      No_Clinical_Content_Found__c: true,
      Consent_Reviewed__c: true,
      Consent_Gap_Explanation__c: 'Two opt-outs awaiting write-back.',
    });
    expect(signed).not.toHaveProperty('Signed_By__c');
    expect(signed).not.toHaveProperty('Signed_At__c');
    const sample = JSON.parse(String(signed.Spot_Check_Sample__c)) as Array<{ recordId: string }>;
    expect(sample.map((s) => s.recordId)).toEqual([
      '003000000000101AAA',
      '003000000000102AAA',
      '003000000000103AAA',
    ]);
    await shoot(page, 'governanceReview-signed');
    await page.close();
  });

  // The control for the test above: the same walk over a resumed draft whose sample names a Contact
  // deleted since (LDS answers 404), which has nothing to check. Its boxes are disabled, the container
  // refuses a forced tick, and Sign and lock never becomes available.
  it('governanceReview cannot be signed while a sampled record has nothing to check', async () => {
    const page = await openReview('c=governanceReview&review=draft');
    // The draft's saved answers are back: the map confirmed, the attendees typed.
    expect(await texts(page, '.step-state')).toEqual(['Done', 'To do', 'Done', 'To do', 'To do', 'Done']);
    expect(await page.locator('input.attendees').inputValue()).toBe('Jane Citizen');
    expect(await texts(page, '.spot-label')).toEqual([
      'Noah Patel (Cliniko 100101)',
      'Olivia Jones (Cliniko 100102)',
      'Mia Chen (Cliniko 100103)',
      'Cliniko patient 100104',
    ]);
    const gone = spotRecord(page, 'Cliniko patient 100104');
    expect((await texts(gone, '.nothing-to-check'))[0]).toContain('Nothing to check');
    expect(await gone.locator('input.spot-checked').isDisabled()).toBe(true);
    expect(await gone.locator('input.spot-no-clinical').isDisabled()).toBe(true);

    await tickWithKeyboard(page, 'input.access-reviewed');
    // Tab skips the disabled boxes: only the three records with something to check are ticked.
    await tickWithKeyboard(page, 'input.spot-checked:enabled, input.spot-no-clinical:enabled');
    await typeWithKeyboard(page, 'Gap explanation', 'Two opt-outs awaiting write-back.');
    await tickWithKeyboard(page, 'input.consent-reviewed');
    await expect
      .poll(() => texts(page, '.step-state'))
      .toEqual(['Done', 'Done', 'Done', 'To do', 'Done', 'Done']);
    // A change event on the disabled box anyway (as from devtools): the container refuses it.
    await gone.locator('input.spot-checked').evaluate((box: HTMLInputElement) => {
      box.checked = true;
      box.dispatchEvent(new Event('change'));
    });
    await page.waitForTimeout(50);
    expect(await texts(page, '.step-state')).toEqual(['Done', 'Done', 'Done', 'To do', 'Done', 'Done']);
    const sign = page.getByRole('button', { name: 'Sign and lock' });
    expect(await sign.isDisabled()).toBe(true);
    expect(await texts(page, '.sign-hint')).toEqual(['Still to do: 4. Change-log spot check.']);
    expect((await texts(page, '.summary-item')).join(' ')).toContain('Spot check: 3 of 4 records checked');

    // Saving the draft updates the resumed record rather than creating another.
    await page.getByRole('button', { name: 'Save draft' }).click();
    await page.getByText('Draft saved.').waitFor();
    const saves = await previewSaves(page);
    expect(saves).toHaveLength(1);
    expect(saves[0]!.op).toBe('update');
    expect(saves[0]!.recordInput.fields).toMatchObject({
      Id: 'a0R000000000003AAA',
      Status__c: 'Draft',
      Spot_Check_Complete__c: false,
    });
    await shoot(page, 'governanceReview-nothing-to-check');
    await page.close();
  });

  it('governanceReview follows the user locale', async () => {
    const page = await openReview('c=governanceReview&locale=de-DE&timeZone=Europe/Berlin');
    expect(await texts(page, '.quarter-created')).toEqual(['1.250', '5.120', '0']);
    expect((await texts(page, '.verification-text'))[0]).toContain('12.840 entries');
    // Control: the same page in the preview's default locale groups with commas.
    const page2 = await openReview('c=governanceReview');
    expect(await texts(page2, '.quarter-created')).toEqual(['1,250', '5,120', '0']);
    await page.close();
    await page2.close();
  });

  it('raised no uncaught page errors and every request was served', () => {
    expect(pageErrors).toEqual([]);
    expect(failedRequests).toEqual([]);
  });
});
