/**
 * Exact money arithmetic: Cliniko sends amounts as decimal strings; we add them as integer cents in
 * BigInt and print them back with two places. Floats never touch currency.
 */

/**
 * Parse a decimal string into cents. More than two decimal places are rounded half away from zero
 * (Cliniko sends two; this keeps a stray third place from failing a whole patient).
 */
export function toCents(value: string): bigint {
  const trimmed = value.trim();
  const match = /^(-?)(\d+)(?:\.(\d+))?$/.exec(trimmed);
  if (!match) throw new RangeError('not a decimal string');
  const sign = match[1];
  const whole = match[2] ?? '0';
  const padded = (match[3] ?? '').padEnd(3, '0');
  let cents = BigInt(whole) * 100n + BigInt(padded.slice(0, 2));
  const rest = padded.slice(2);
  // Round half away from zero on the digits beyond the cent.
  if (rest.length > 0 && Number(rest[0]) >= 5) cents += 1n;
  return sign === '-' ? -cents : cents;
}

/** Format cents as a decimal string with exactly two places, e.g. 12345n -> "123.45". */
export function formatCents(cents: bigint): string {
  const negative = cents < 0n;
  const abs = negative ? -cents : cents;
  const whole = abs / 100n;
  const fraction = (abs % 100n).toString().padStart(2, '0');
  return `${negative ? '-' : ''}${whole.toString()}.${fraction}`;
}
