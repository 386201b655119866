/**
 * Money as integers, never floating point (DESIGN, "money"): rates in micro-units of the
 * currency (1 USD = 1,000,000 micros), invoice amounts in cents, each line rounded half-up.
 */

export const MICROS_PER_CENT = 10_000;
export const CENTS_PER_UNIT = 100;
export const MICROS_PER_UNIT = 1_000_000;

/** quantity × unit price in micros, as cents rounded half-up (BigInt, so no precision is lost). */
export function lineAmountCents(quantity: number, unitPriceMicros: number): number {
  assertSafeInteger(quantity, 'quantity');
  assertSafeInteger(unitPriceMicros, 'unit price (micros)');
  const micros = BigInt(quantity) * BigInt(unitPriceMicros);
  const divisor = BigInt(MICROS_PER_CENT);
  const negative = micros < 0n;
  const abs = negative ? -micros : micros;
  // Half-up on the magnitude: 0.5 cent rounds away from zero.
  const rounded = (abs + divisor / 2n) / divisor;
  return Number(negative ? -rounded : rounded);
}

/** Reads a decimal amount such as "29.99" or "15" as cents; at most 2 decimals. */
export function parseAmountToCents(text: string): number {
  return parseDecimal(text, 2, 'amount');
}

/** Reads a decimal rate such as "0.05" as micro-units; at most 6 decimals. */
export function parseRateToMicros(text: string): number {
  return parseDecimal(text, 6, 'rate');
}

function parseDecimal(text: string, decimals: number, what: string): number {
  const trimmed = text.trim();
  const match = /^(\d{1,12})(?:\.(\d+))?$/.exec(trimmed);
  if (!match) {
    throw new RangeError(`${what} "${text}" is not a non-negative decimal number like 12.50`);
  }
  const fraction = match[2] ?? '';
  if (fraction.length > decimals) {
    throw new RangeError(`${what} "${text}" has more than ${decimals} decimal places`);
  }
  const value = Number(match[1]) * 10 ** decimals + Number(fraction.padEnd(decimals, '0') || '0');
  if (!Number.isSafeInteger(value)) throw new RangeError(`${what} "${text}" is too large`);
  return value;
}

/** 305 → "3.05"; -5 → "-0.05". */
export function formatCents(cents: number): string {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  return `${sign}${Math.floor(abs / CENTS_PER_UNIT)}.${String(abs % CENTS_PER_UNIT).padStart(2, '0')}`;
}

/** 50000 → "0.05"; 12345 → "0.012345". Keeps at least 2 decimals. */
export function formatMicros(micros: number): string {
  const sign = micros < 0 ? '-' : '';
  const abs = Math.abs(micros);
  const fraction = String(abs % MICROS_PER_UNIT)
    .padStart(6, '0')
    .replace(/0{1,4}$/, '');
  return `${sign}${Math.floor(abs / MICROS_PER_UNIT)}.${fraction.padEnd(2, '0')}`;
}

function assertSafeInteger(value: number, what: string): void {
  if (!Number.isSafeInteger(value)) {
    throw new RangeError(`${what} must be a whole number, got ${value}`);
  }
}
