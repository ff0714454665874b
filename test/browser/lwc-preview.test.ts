// Opens each Lightning Web Component in the local preview (scripts/preview-lwc) with the machine's
// Chromium, headless, checks the key text each one must show from its recorded fixtures, and saves
// a screenshot per component to test/browser/screenshots/ (not committed).
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPreview, type PreviewServer } from '../../scripts/preview-lwc/server.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const screenshots = fileURLToPath(new URL('./screenshots/', import.meta.url));

let preview: PreviewServer;
let context: BrowserContext;
let userDataDir: string;
const pageErrors: string[] = [];

async function open(query: string): Promise<Page> {
  const page = await context.newPage();
  page.on('pageerror', (error) => pageErrors.push(`${query}: ${error.message}`));
  await page.goto(`${preview.url}/?${query}`);
  return page;
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

  it('governanceReview can be completed, signed and locked', async () => {
    const page = await open('c=governanceReview');
    await page.getByText(/Quarterly governance review \d{4}-Q[1-4]/).waitFor();
    await page.getByText('Noah Patel (Cliniko 100101)').waitFor();
    expect(await page.getByText('2 access changes since GR-0002.', { exact: true }).count()).toBe(1);
    // Composed of one child component per agenda item, each rendering its own fieldset.
    for (const child of [
      'c-governance-data-map-item',
      'c-governance-access-item',
      'c-governance-spot-check-item',
      'c-governance-consent-item',
      'c-governance-sign-item',
    ]) {
      expect(await page.locator(`c-governance-review ${child} fieldset.item`).count(), child).toBe(1);
    }
    await shoot(page, 'governanceReview');

    // Work through the checklist with the keyboard only: focus each control, Space ticks a checkbox,
    // typing fills a field and Tab moves on (which commits it), Enter presses the button.
    const tickWithKeyboard = async (selector: string): Promise<void> => {
      for (const box of await page.locator(selector).all()) {
        await box.focus();
        await page.keyboard.press('Space');
        expect(await box.isChecked()).toBe(true);
      }
    };
    await tickWithKeyboard('input.map-unchanged');
    await tickWithKeyboard('input.access-reviewed');
    await tickWithKeyboard('input.spot-checked, input.spot-no-clinical');
    await page.getByLabel('Gap explanation').focus();
    await page.keyboard.type('Two opt-outs awaiting write-back.');
    await page.keyboard.press('Tab');
    await tickWithKeyboard('input.consent-reviewed');
    await page.getByLabel('Attendees').focus();
    await page.keyboard.type('Jane Citizen; Sam Lee');
    await page.keyboard.press('Tab');
    const sign = page.getByRole('button', { name: 'Sign and lock' });
    await expect.poll(() => sign.isEnabled()).toBe(true);
    await sign.focus();
    await page.keyboard.press('Enter');
    await page.getByText('Review signed and locked.').waitFor();
    expect(await page.locator('input.attendees').isDisabled()).toBe(true);
    const saves =
      await page.evaluate<Array<{ op: string; recordInput: { fields: Record<string, unknown> } }>>(
        'window.__previewSaves',
      );
    expect(saves).toHaveLength(1);
    expect(saves[0]!.recordInput.fields).toMatchObject({
      Status__c: 'Signed',
      Attendees__c: 'Jane Citizen; Sam Lee',
    });
    await shoot(page, 'governanceReview-signed');
    await page.close();
  });

  it('raised no uncaught page errors', () => {
    expect(pageErrors).toEqual([]);
  });
});
