/**
 * `npx tsx scripts/bench-salesforce-emulator.ts [--patients N] [--repo DIR] [--max-events N]`
 *
 * The Salesforce emulator's memory at benchmark scale, without the sync service: the emulator runs in
 * its own process (as `npm run bench` runs it) and this script writes to it, through sObject
 * Collections upserts of 200 records, what a backfill of N patients writes. The mix per patient is the
 * one `npm run bench` measured at 2,000 patients (docs/benchmarks.md): a Contact written twice (the
 * projection, then the journey slot), 9.1 appointments, 7.0 invoices, 8.3 journey transitions, 0.35
 * care plans written twice and 0.15 platform events, every mapped field filled by its type (picklists
 * with a valid value; clinic, practitioner, appointment type, state and country from 8 names; about a
 * tenth of optional fields left empty). Prints one JSON line: records,
 * history rows and events held, and the emulator's peak and current RSS (VmHWM, VmRSS) after the load.
 *
 * `--repo DIR` runs the emulator of another checkout (e.g. an export of an earlier commit) against the
 * same load, for before/after numbers. Not a test: nothing here asserts on time or memory.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { FieldDef, ObjectDef } from '../test/emulators/salesforce/schema.js';
import { loadSchema } from '../test/emulators/salesforce/schema.js';
import { memoryOf, startChild } from './bench/processes.js';

const { values } = parseArgs({
  options: {
    patients: { type: 'string', default: '2000' },
    repo: { type: 'string', default: '.' },
    'max-events': { type: 'string' },
  },
});
const patients = Number(values.patients);
const repo = resolve(values.repo);

const schema = loadSchema(resolve('.'));
const objectOf = (name: string): ObjectDef => {
  const o = schema.objects.get(name.toLowerCase());
  if (!o) throw new Error(`no object ${name}`);
  return o;
};

/** A deterministic generator (mulberry32), so that every run writes the same data. */
let seed = 7;
const random = (): number => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
const word = (n: number): string =>
  Array.from({ length: n }, () => String.fromCharCode(97 + Math.floor(random() * 26))).join('');

/** Fields whose values come from a practice's few clinics, practitioners and appointment types. */
const FEW = new Set([
  'Appointment_Type__c',
  'Practitioner__c',
  'Clinic__c',
  'Home_Clinic__c',
  'Last_Appointment_Type__c',
  'MailingCountry',
  'MailingState',
]);
const FEW_VALUES = Array.from({ length: 8 }, (_, i) => `Name ${String.fromCharCode(65 + i)}${'x'.repeat(8)}`);

function valueFor(field: FieldDef, key: number): unknown {
  if (!field.required && random() < 0.1) return null;
  // Parsed from JSON, each record's copy is a string of its own, as with real request bodies.
  if (FEW.has(field.name)) return pick(FEW_VALUES);
  switch (field.type) {
    case 'boolean':
      return random() < 0.5;
    case 'picklist':
    case 'multipicklist':
      return pick((field.picklistValues ?? []).map((v) => v.value));
    case 'email':
      return `${word(8)}.${key}@example.org`;
    case 'phone':
      return `04${String(Math.floor(random() * 1e8)).padStart(8, '0')}`;
    case 'date':
      return `20${10 + Math.floor(random() * 16)}-0${1 + Math.floor(random() * 9)}-1${Math.floor(random() * 9)}`;
    case 'datetime':
      return new Date(Date.UTC(2025, 0, 1) + Math.floor(random() * 3e10)).toISOString();
    case 'int':
    case 'double':
    case 'currency':
    case 'percent':
      return field.scale ? Math.round(random() * 100000) / 100 : Math.floor(random() * 100);
    default:
      return word(Math.min(field.length ?? 12, 4 + Math.floor(random() * 10)));
  }
}

/** One record of `object` with the given fields filled by type; lookups by the parent's external id. */
function record(
  object: string,
  key: [string, string],
  fields: string[],
  parents: Record<string, [string, string] | undefined>,
): Record<string, unknown> {
  const o = objectOf(object);
  const out: Record<string, unknown> = { attributes: { type: object }, [key[0]]: key[1] };
  for (const name of fields) {
    const f = o.fields.get(name.toLowerCase());
    if (!f) throw new Error(`${object} has no field ${name}`);
    if (f.type === 'reference') {
      const parent = parents[name];
      if (parent && f.relationshipName) out[f.relationshipName] = { [parent[0]]: parent[1] };
      continue;
    }
    out[name] = valueFor(f, Number(key[1]));
  }
  return out;
}

const CONTACT = [
  'FirstName',
  'LastName',
  'Email',
  'MobilePhone',
  'HomePhone',
  'Phone',
  'MailingStreet',
  'MailingCity',
  'MailingState',
  'MailingPostalCode',
  'MailingCountry',
  'Birthdate',
  'Email_Marketing_Consent__c',
  'HasOptedOutOfEmail',
  'SMS_Marketing_Consent__c',
  'DoNotCall',
  'Privacy_Policy_Status__c',
  'Reminder_Type__c',
  'Cliniko_Status__c',
  'Last_Synced_At__c',
];
const JOURNEY_SLOT = [
  'Home_Clinic__c',
  'Journey_Stage__c',
  'Journey_Stage_Since__c',
  'Appointments_Attended__c',
  'First_Appointment_Date__c',
  'Last_Appointment_Date__c',
  'Next_Appointment_Date__c',
  'Average_Visit_Interval_Days__c',
  'Last_Appointment_Type__c',
  'Funding_Source__c',
  'Lifetime_Invoiced__c',
  'Unpaid_Balance__c',
];
const APPOINTMENT = [
  'Contact__c',
  'Starts_At__c',
  'Ends_At__c',
  'Appointment_Type__c',
  'Practitioner__c',
  'Clinic__c',
  'Status__c',
  'Cancelled_At__c',
  'Is_Initial_Consult__c',
];
const INVOICE = [
  'Contact__c',
  'Invoice_Number__c',
  'Issue_Date__c',
  'Status__c',
  'Total_Amount__c',
  'Net_Amount__c',
  'Tax_Amount__c',
  'Amount_Outstanding__c',
];
const CARE_PLAN = [
  'Contact__c',
  'Status__c',
  'Sessions_Allowed__c',
  'Issue_Date__c',
  'Expiry_Date__c',
  'Referral_Type__c',
  'Billing_Limit__c',
];
const CARE_PLAN_SLOT = [
  'Sessions_Used__c',
  'Sessions_Remaining__c',
  'Progress_Percent__c',
  'Amount_Invoiced__c',
];
const TRANSITION = ['Contact__c', 'Trigger__c', 'From_Stage__c', 'To_Stage__c', 'Occurred_At__c'];

/** How many of a kind patient `p` has, so that the totals follow the measured means. */
const share = (p: number, perPatient: number): number =>
  Math.floor((p + 1) * perPatient) - Math.floor(p * perPatient);

const child = startChild(
  process.execPath,
  [
    '--import',
    'tsx',
    `${repo}/test/emulators/salesforce/main.ts`,
    '--json',
    '--controls',
    '--daily-api-limit=100000000',
    '--request-log=100',
    ...(values['max-events'] ? [`--max-events=${values['max-events']}`] : []),
  ],
  { ...process.env },
);
const ready = await child.next(5 * 60_000);
const loginUrl = String(ready.loginUrl);
const tokenResponse = await fetch(`${loginUrl}/services/oauth2/token`, {
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams({
    grant_type: 'client_credentials',
    client_id: String(ready.clientId),
    client_secret: String(ready.clientSecret),
  }),
});
const { access_token: token } = (await tokenResponse.json()) as { access_token: string };
const api = `${loginUrl}/services/data/v66.0`;
const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };

async function upsert(object: string, field: string, records: Array<Record<string, unknown>>): Promise<void> {
  for (let i = 0; i < records.length; i += 200) {
    const response = await fetch(`${api}/composite/sobjects/${object}/${field}`, {
      method: 'PATCH',
      headers,
      body: JSON.stringify({ allOrNone: false, records: records.slice(i, i + 200) }),
    });
    const results = (await response.json()) as Array<{ success: boolean; errors: unknown[] }>;
    const failed = Array.isArray(results) ? results.find((r) => !r.success) : results;
    if (!response.ok || failed) throw new Error(`${object}: ${JSON.stringify(failed).slice(0, 500)}`);
  }
}

async function publish(count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const response = await fetch(`${api}/sobjects/Patient_Journey_Event__e`, {
      method: 'POST',
      headers,
      body: JSON.stringify(
        record(
          'Patient_Journey_Event__e',
          ['Cliniko_Patient_Id__c', String(i)],
          ['From_Stage__c', 'To_Stage__c', 'Trigger__c', 'Occurred_At__c', 'Transition_Key__c'],
          {},
        ),
      ),
    });
    if (!response.ok) throw new Error(`event: ${response.status} ${await response.text()}`);
  }
}

const started = Date.now();
const ids = { appointment: 0, invoice: 0, plan: 0, transition: 0 };
const BATCH = 200; // patients per round: each object's records go in calls of 200, as the sync's do
for (let first = 0; first < patients; first += BATCH) {
  const round = {
    contacts: [] as Array<Record<string, unknown>>,
    slots: [] as Array<Record<string, unknown>>,
  };
  const rows = { appointments: [], invoices: [], plans: [], planSlots: [], transitions: [] } as Record<
    string,
    Array<Record<string, unknown>>
  >;
  for (let p = first; p < Math.min(patients, first + BATCH); p++) {
    const patient: [string, string] = ['Cliniko_Patient_Id__c', String(1_000_000 + p)];
    const parent = { Contact__c: patient };
    round.contacts.push(record('Contact', patient, CONTACT, {}));
    round.slots.push(record('Contact', patient, JOURNEY_SLOT, {}));
    for (let k = share(p, 9.08); k > 0; k--)
      rows.appointments?.push(
        record(
          'Cliniko_Appointment__c',
          ['Cliniko_Appointment_Id__c', String(++ids.appointment)],
          APPOINTMENT,
          parent,
        ),
      );
    for (let k = share(p, 6.96); k > 0; k--)
      rows.invoices?.push(
        record('Cliniko_Invoice__c', ['Cliniko_Invoice_Id__c', String(++ids.invoice)], INVOICE, parent),
      );
    for (let k = share(p, 0.353); k > 0; k--) {
      const key: [string, string] = ['Cliniko_Case_Id__c', String(++ids.plan)];
      rows.plans?.push(record('Care_Plan__c', key, CARE_PLAN, parent));
      rows.planSlots?.push(record('Care_Plan__c', key, CARE_PLAN_SLOT, {}));
    }
    for (let k = share(p, 8.29); k > 0; k--)
      rows.transitions?.push(
        record('Journey_Transition__c', ['Transition_Key__c', `t-${++ids.transition}`], TRANSITION, parent),
      );
  }
  await upsert('Contact', 'Cliniko_Patient_Id__c', round.contacts);
  await upsert('Care_Plan__c', 'Cliniko_Case_Id__c', rows.plans ?? []);
  await upsert('Cliniko_Appointment__c', 'Cliniko_Appointment_Id__c', rows.appointments ?? []);
  await upsert('Cliniko_Invoice__c', 'Cliniko_Invoice_Id__c', rows.invoices ?? []);
  await upsert('Journey_Transition__c', 'Transition_Key__c', rows.transitions ?? []);
  await upsert('Contact', 'Cliniko_Patient_Id__c', round.slots);
  await upsert('Care_Plan__c', 'Cliniko_Case_Id__c', rows.planSlots ?? []);
  let events = 0;
  for (let p = first; p < Math.min(patients, first + BATCH); p++) events += share(p, 0.151);
  await publish(events);
}
const stats = (await (await fetch(`${loginUrl}/__emulator/stats`)).json()) as Record<string, unknown>;
const memory = memoryOf(child.pid);
console.log(
  JSON.stringify({
    patients,
    seconds: Math.round((Date.now() - started) / 1000),
    records: stats.records,
    historyRows: stats.historyRows,
    events: stats.events,
    eventsRetained: stats.eventsRetained,
    salesforceRssPeakMb: memory.peakMb,
    salesforceRssMb: memory.rssMb,
  }),
);
await child.stop();
