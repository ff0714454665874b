/**
 * SOQL literals, shared by every use case that builds a query from values (the dry run, the write-back
 * poller). Values are quoted here and nowhere else, so an external id holding a quote cannot change a
 * query's meaning.
 */

/** A SOQL string literal: backslash and single quote escaped. */
export function soqlString(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** A SOQL datetime literal, whole seconds (SOQL takes no fractions), rounded down. */
export function soqlDateTime(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}
