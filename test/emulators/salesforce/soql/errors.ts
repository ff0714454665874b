/**
 * The errors the SOQL engine raises, with Salesforce's error codes and, where known, its wording. The
 * REST route turns one into `400 [{ message, errorCode }]`, the body jsforce parses.
 */
export type SoqlErrorCode =
  'MALFORMED_QUERY' | 'INVALID_FIELD' | 'INVALID_TYPE' | 'NUMBER_OUTSIDE_VALID_RANGE';

export class SoqlError extends Error {
  override readonly name = 'SoqlError';
  constructor(
    readonly errorCode: SoqlErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export function noSuchColumn(field: string, objectName: string): SoqlError {
  return new SoqlError(
    'INVALID_FIELD',
    `No such column '${field}' on entity '${objectName}'. If you are attempting to use a custom field, be sure ` +
      `to append the '__c' after the custom field name. Please reference your WSDL or the describe call for ` +
      `the appropriate names.`,
  );
}

export function unknownRelationship(relationship: string): SoqlError {
  return new SoqlError(
    'INVALID_FIELD',
    `Didn't understand relationship '${relationship}' in field path. If you are attempting to use a custom ` +
      `relationship, be sure to append the '__r' after the custom relationship name. Please reference your ` +
      `WSDL or the describe call for the appropriate names.`,
  );
}

export function unsupportedObject(objectName: string): SoqlError {
  return new SoqlError(
    'INVALID_TYPE',
    `sObject type '${objectName}' is not supported. If you are attempting to use a custom object, be sure to ` +
      `append the '__c' after the entity name. Please reference your WSDL or the describe call for the ` +
      `appropriate names.`,
  );
}

export function malformed(message: string): SoqlError {
  return new SoqlError('MALFORMED_QUERY', message);
}
