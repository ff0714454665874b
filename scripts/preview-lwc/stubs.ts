/**
 * Browser stand-ins for the platform modules the components import (lightning/*, @salesforce/*).
 * They speak the same contracts as on the platform (wire adapter classes with update/connect/
 * disconnect, `{ data, errors }` from GraphQL, `{ data, error }` from LDS, Apex methods returning
 * promises) and answer from recorded fixtures (the same JSON the Jest tests use).
 *
 * `?audience=marketing` in the page URL switches to the fixtures of a user without billing FLS.
 */

/** lightning/graphql: answers by operationName. */
export const GRAPHQL_STUB = `
import fixtures from 'preview:fixtures';
const audience = new URLSearchParams(location.search).get('audience') || 'compliance';
function answer(operationName, variables) {
  switch (operationName) {
    case 'carePlans':
      return audience === 'marketing' ? fixtures.carePlansNoBilling : fixtures.carePlans;
    case 'journeyTransitions':
      return variables && variables.after ? fixtures.transitionsPage2 : fixtures.transitionsPage1;
    case 'consentSnapshots':
      return fixtures.snapshots;
    case 'governanceReviewData':
      return fixtures.governanceData;
    default:
      return undefined;
  }
}
export function gql(strings) {
  return strings.join('');
}
export class graphql {
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
    const config = this.config;
    const data = answer(config.operationName, config.variables);
    const refresh = () => Promise.resolve();
    // Asynchronous, like the platform.
    setTimeout(() => {
      if (data === undefined) {
        this.dataCallback({ data: undefined, errors: [{ message: 'No preview fixture for ' + config.operationName }], refresh });
      } else {
        this.dataCallback({ data, errors: undefined, refresh });
      }
    }, 0);
  }
}
`;

/** lightning/uiRecordApi: getRecord answers with the recorded Contact; saves are recorded on window. */
export const UI_RECORD_API_STUB = `
import fixtures from 'preview:fixtures';
const audience = new URLSearchParams(location.search).get('audience') || 'compliance';
window.__previewSaves = [];
export class getRecord {
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
    const data = audience === 'marketing' ? fixtures.contactNoBilling : fixtures.contact;
    setTimeout(() => this.dataCallback({ data, error: undefined }), 0);
  }
}
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

/** @salesforce/apex/<Class>.<method>: resolves with the recorded controller response. */
export function apexStub(qualifiedMethod: string): string {
  return `
import fixtures from 'preview:fixtures';
export default function apexMethod() {
  const value = fixtures.apex[${JSON.stringify(qualifiedMethod)}];
  return value === undefined
    ? Promise.reject({ body: { message: 'No preview fixture for ${qualifiedMethod}' } })
    : Promise.resolve(JSON.parse(JSON.stringify(value)));
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
