import { describe, expect, it } from 'vitest';
import { clinikoSpecFieldsFromOpenApi, packageFieldsFromMetadata } from './spec-fields.js';

describe('clinikoSpecFieldsFromOpenApi', () => {
  it('reads list endpoints, following $ref and allOf', () => {
    const doc = {
      paths: {
        '/patients': {
          get: {
            responses: {
              '200': {
                content: {
                  'application/json': {
                    schema: {
                      type: 'object',
                      properties: {
                        patients: { type: 'array', items: { $ref: '#/components/schemas/Patient' } },
                      },
                    },
                  },
                },
              },
            },
          },
        },
        '/patients/{id}': { get: {} },
        '/settings': {
          get: { responses: { '200': { content: { 'application/json': { schema: { type: 'object' } } } } } },
        },
      },
      components: {
        schemas: {
          Patient: {
            allOf: [{ $ref: '#/components/schemas/Base' }, { properties: { email: {}, notes: {} } }],
          },
          Base: { properties: { id: {} } },
        },
      },
    };
    expect(clinikoSpecFieldsFromOpenApi(doc)).toEqual(
      new Map([['patients', new Set(['id', 'email', 'notes'])]]),
    );
    expect(() => clinikoSpecFieldsFromOpenApi({})).toThrow(/not an OpenAPI document/);
  });
});

describe('packageFieldsFromMetadata', () => {
  it('adds standard fields and takes types, lengths and references from field files', () => {
    const fields = packageFieldsFromMetadata([
      { object: 'Contact', field: { fullName: 'Cliniko_Patient_Id__c', type: 'Text', length: '20' } },
      { object: 'Contact', field: { fullName: 'Merged_Into__c', type: 'Lookup', referenceTo: 'Contact' } },
      // A standard field file without a type keeps the known standard type.
      { object: 'Contact', field: { fullName: 'Email' } },
      { object: 'Contact', field: { fullName: 'Mystery__c' } },
    ]);
    expect(fields.get('Contact.Cliniko_Patient_Id__c')).toEqual({ type: 'Text', length: 20 });
    expect(fields.get('Contact.Merged_Into__c')).toEqual({ type: 'Lookup', referenceTo: 'Contact' });
    expect(fields.get('Contact.Email')).toEqual({ type: 'Email', length: 80 });
    expect(fields.get('Contact.LastName')).toEqual({ type: 'Text', length: 80 });
    expect(fields.has('Contact.Mystery__c')).toBe(false);
  });
});
