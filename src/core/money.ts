// Exact money. Every amount is a bigint count of nano-dollars (1e-9 USD), the scale of BigQuery's
// NUMERIC, so sums in TypeScript and in SQL over the same rows are equal to the last digit.
// A job's cost is rounded once, half-up, to the nano-dollar; output rounds again to 6 decimals.

export type Nanos = bigint;

export const NANOS_PER_USD = 1_000_000_000n;

/** Parses a decimal USD amount written as text ("6.25", "0.000001") into nano-dollars, exactly. */
export function parseUsd(text: string): Nanos {
  const match = /^(-)?(\d+)(?:\.(\d{1,9}))?$/.exec(text.trim());
  if (!match) throw new RangeError(`not a decimal USD amount with at most 9 decimals: "${text}"`);
  const [, sign, whole, fraction = ""] = match;
  const nanos = BigInt(whole as string) * NANOS_PER_USD + BigInt(fraction.padEnd(9, "0"));
  return sign ? -nanos : nanos;
}

/** a * b / divisor, rounded half-up (away from zero for negatives), all exact. */
export function mulDivRound(a: bigint, b: bigint, divisor: bigint): bigint {
  if (divisor <= 0n) throw new RangeError("divisor must be positive");
  const product = a * b;
  const negative = product < 0n;
  const magnitude = negative ? -product : product;
  const rounded = (magnitude * 2n + divisor) / (divisor * 2n);
  return negative ? -rounded : rounded;
}

/** Formats nano-dollars as a decimal string with `decimals` places (default 6), rounded half-up. */
export function formatUsd(nanos: Nanos, decimals = 6): string {
  if (decimals < 0 || decimals > 9) throw new RangeError("decimals must be 0..9");
  // Most amounts are well under 2^53 nano-dollars (9 million USD): exact in a double, so formatted
  // without bigint arithmetic. Each step below is exact on integers of that size.
  if (nanos >= 0n && nanos <= MAX_EXACT) return formatSmall(Number(nanos), decimals);
  const scale = 10n ** BigInt(9 - decimals);
  const scaled = mulDivRound(nanos, 1n, scale);
  const negative = scaled < 0n;
  const digits = (negative ? -scaled : scaled).toString().padStart(decimals + 1, "0");
  const whole = digits.slice(0, digits.length - decimals);
  const fraction = digits.slice(digits.length - decimals);
  return `${negative ? "-" : ""}${whole}${decimals > 0 ? `.${fraction}` : ""}`;
}

const MAX_EXACT = BigInt(Number.MAX_SAFE_INTEGER);
const POWERS = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000, 1_000_000_000];

/** formatUsd of 0 <= nanos <= 2^53 - 1, in doubles: half-up as mulDivRound does. */
function formatSmall(nanos: number, decimals: number): string {
  const scale = POWERS[9 - decimals] as number;
  const remainder = nanos % scale;
  const scaled = (nanos - remainder) / scale + (remainder * 2 >= scale ? 1 : 0);
  if (decimals === 0) return String(scaled);
  const unit = POWERS[decimals] as number;
  const fraction = scaled % unit;
  return `${(scaled - fraction) / unit}.${String(fraction).padStart(decimals, "0")}`;
}

/** Nano-dollars as a NUMERIC literal string with all 9 decimals (what BigQuery stores). */
export function toNumericString(nanos: Nanos): string {
  return formatUsd(nanos, 9);
}

export function sumNanos(values: Iterable<Nanos>): Nanos {
  let total = 0n;
  for (const value of values) total += value;
  return total;
}
