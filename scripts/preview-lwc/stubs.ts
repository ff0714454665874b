/**
 * Browser stand-ins for the platform modules the components import (lightning/*, @salesforce/*).
 * They speak the same contracts as on the platform (wire adapter classes with update/connect/
 * disconnect, `{ data, errors }` from GraphQL, `{ data, error }` from LDS, per-record status codes from
 * `getRecords`, Apex methods returning promises) and answer from recorded fixtures (the same JSON the
 * Jest tests use).
 *
 * The page URL chooses what the preview shows (`preview:context`):
 * - `audience=marketing`: the fixtures of a user without billing FLS;
 * - `review=draft`: the governance review resumes this quarter's saved draft, whose sample names a
 *   Contact deleted since (LDS answers 404 for it, so it has nothing to check);
 * - `locale=de-DE`, `timeZone=Europe/Berlin`: `@salesforce/i18n/locale` and `/timeZone` (en-AU and
 *   Australia/Sydney by default);
 * - `clock=live`: the real time instead of the time the fixtures were recorded.
 */
import { PREVIEW_LOCALE, PREVIEW_NOW, PREVIEW_TIME_ZONE } from './fixtures.js';

/**
 * preview:context: the URL's choices, and the page clock pinned to the fixtures' recording time (it
 * still ticks), so the governance review opens in the quarter its data belongs to. The entry imports
 * this module first, before any component exists.
 */
export const CONTEXT_MODULE = `
const params = new URLSearchParams(location.search);
export const audience = params.get('audience') || 'compliance';
export const review = params.get('review') || 'new';
export const locale = params.get('locale') || ${JSON.stringify(PREVIEW_LOCALE)};
export const timeZone = params.get('timeZone') || ${JSON.stringify(PREVIEW_TIME_ZONE)};
if (params.get('clock') !== 'live') {
  const realNow = Date.now.bind(Date);
  const offset = Date.parse(${JSON.stringify(PREVIEW_NOW)}) - realNow();
  Date.now = () => realNow() + offset;
}
`;

/**
 * preview:wire: a wire adapter class as the LWC engine drives it. \`answer(config)\` gives the value to
 * provision, or undefined to provision nothing (as LDS does while a required parameter is undefined).
 * Values arrive asynchronously, like the platform's.
 */
export const WIRE_MODULE = `
export function wireAdapter(answer) {
  return class {
    constructor(dataCallback) {
      this.dataCallback = dataCallback;
      this.connected = false;
      this.config = undefined;
    }
    update(config) {
      this.config = config;
      if (this.connected) this.provide();
    }
    connect() {
      this.connected = true;
      if (this.config) this.provide();
    }
    disconnect() {
      this.connected = false;
    }
    provide() {
      const value = answer(this.config);
      if (value === undefined) return;
      setTimeout(() => {
        if (this.connected) this.dataCallback(value);
      }, 0);
    }
  };
}
`;

/** lightning/graphql: answers by operationName. */
export const GRAPHQL_STUB = `
import fixtures from 'preview:fixtures';
import { audience, review } from 'preview:context';
import { wireAdapter } from 'preview:wire';
function answer(operationName, variables) {
  switch (operationName) {
    case 'carePlans':
      return audience === 'marketing' ? fixtures.carePlansNoBilling : fixtures.carePlans;
    case 'journeyTransitions':
      return variables && variables.after ? fixtures.transitionsPage2 : fixtures.transitionsPage1;
    case 'consentSnapshots':
      return fixtures.snapshots;
    case 'governanceReviewData':
      return review === 'draft' ? fixtures.governanceDataDraft : fixtures.governanceData;
    default:
      return undefined;
  }
}
export function gql(strings) {
  return strings.join('');
}
const refresh = () => Promise.resolve();
export const graphql = wireAdapter((config) => {
  const data = answer(config.operationName, config.variables);
  return data === undefined
    ? { data: undefined, errors: [{ message: 'No preview fixture for ' + config.operationName }], refresh }
    : { data, errors: undefined, refresh };
});
`;

/**
 * lightning/uiRecordApi: getRecord answers with the recorded Contact, getRecords with the recorded
 * sampled Contacts (only the fields asked for; 404 for a record it does not hold, as LDS does for a
 * deleted one); saves are recorded on window.__previewSaves.
 */
export const UI_RECORD_API_STUB = `
import fixtures from 'preview:fixtures';
import { audience } from 'preview:context';
import { wireAdapter } from 'preview:wire';
window.__previewSaves = [];
const clone = (value) => JSON.parse(JSON.stringify(value));
export const getRecord = wireAdapter(() => ({
  data: clone(audience === 'marketing' ? fixtures.contactNoBilling : fixtures.contact),
  error: undefined,
}));
const sampled = Object.fromEntries(fixtures.sampledContacts.results.map((r) => [r.result.id, r.result]));
const NOT_FOUND = [{ errorCode: 'NOT_FOUND', message: 'The requested resource does not exist' }];
export const getRecords = wireAdapter((config) => {
  if (!config || !Array.isArray(config.records)) return undefined;
  const results = [];
  for (const group of config.records) {
    const wanted = [...(group.fields || []), ...(group.optionalFields || [])].map(fieldName);
    for (const id of group.recordIds || []) {
      const record = sampled[id];
      if (!record) {
        results.push({ statusCode: 404, result: NOT_FOUND });
        continue;
      }
      const fields = {};
      for (const name of wanted) if (record.fields[name] !== undefined) fields[name] = record.fields[name];
      results.push({ statusCode: 200, result: clone({ ...record, fields }) });
    }
  }
  return { data: { results }, error: undefined };
});
function fieldName(field) {
  return typeof field === 'string' ? field.split('.').slice(1).join('.') : field.fieldApiName;
}
export function getFieldValue(record, field) {
  const entry = record && record.fields[fieldName(field)];
  return entry === undefined ? undefined : entry.value;
}
export function getFieldDisplayValue(record, field) {
  const entry = record && record.fields[fieldName(field)];
  return entry === undefined ? undefined : entry.displayValue;
}
let counter = 0;
export function createRecord(recordInput) {
  counter += 1;
  const id = 'a0R00000000PRV' + String(counter).padStart(4, '0');
  window.__previewSaves.push({ op: 'create', recordInput });
  return Promise.resolve({ id, apiName: recordInput.apiName, fields: {} });
}
export function updateRecord(recordInput) {
  window.__previewSaves.push({ op: 'update', recordInput });
  return Promise.resolve({ id: recordInput.fields.Id, fields: {} });
}
export function notifyRecordUpdateAvailable() {
  return Promise.resolve();
}
`;

/** lightning/uiObjectInfoApi: getObjectInfo answers with Contact's recorded field labels. */
export const UI_OBJECT_INFO_API_STUB = `
import fixtures from 'preview:fixtures';
import { wireAdapter } from 'preview:wire';
export const getObjectInfo = wireAdapter((config) => {
  const name = config && (typeof config.objectApiName === 'string' ? config.objectApiName : config.objectApiName && config.objectApiName.objectApiName);
  if (!name) return undefined;
  return name === fixtures.contactObjectInfo.apiName
    ? { data: JSON.parse(JSON.stringify(fixtures.contactObjectInfo)), error: undefined }
    : { data: undefined, error: { status: 404, body: [{ errorCode: 'NOT_FOUND', message: 'No preview object info for ' + name }] } };
});
`;

/**
 * @salesforce/apex/<Class>.<method>: resolves with the recorded controller response. A list of rows
 * with a \`recordId\` asked for by \`contactIds\` (getFieldHistory) is narrowed to those records, as the
 * controller's query is.
 */
export function apexStub(qualifiedMethod: string): string {
  return `
import fixtures from 'preview:fixtures';
export default function apexMethod(params) {
  const value = fixtures.apex[${JSON.stringify(qualifiedMethod)}];
  if (value === undefined) {
    return Promise.reject({ body: { message: 'No preview fixture for ${qualifiedMethod}' } });
  }
  const copy = JSON.parse(JSON.stringify(value));
  const ids = params && Array.isArray(params.contactIds) ? params.contactIds : undefined;
  return Promise.resolve(ids && Array.isArray(copy) ? copy.filter((row) => ids.includes(row.recordId)) : copy);
}
`;
}

/** @salesforce/schema/<Object>[.<Field>]: the reference object the platform compiler produces. */
export function schemaStub(reference: string): string {
  const [objectApiName, ...rest] = reference.split('.');
  const value = rest.length === 0 ? { objectApiName } : { objectApiName, fieldApiName: rest.join('.') };
  return `export default ${JSON.stringify(value)};`;
}

/** @salesforce/user/Id */
export const USER_ID_STUB = `export default '005000000000000AAA';`;

/** @salesforce/i18n/locale and /timeZone: the preview's, or the URL's. */
export const I18N_STUBS = {
  '@salesforce/i18n/locale': `import { locale } from 'preview:context';\nexport default locale;`,
  '@salesforce/i18n/timeZone': `import { timeZone } from 'preview:context';\nexport default timeZone;`,
} as const;
