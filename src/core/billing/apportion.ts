// Largest-remainder (Hamilton) apportionment in integers: no unit is created or lost.
import { floorDiv } from "./amount.ts";

/**
 * Rounds quotas numerators[i] / denominator to integers that sum to exactly `total`: each takes
 * its floor, and the units left over go one each to the largest fractional remainders (the
 * earlier index on a tie, so the result is deterministic). `total` must lie between the sum of
 * the floors and that sum plus the number of quotas, which holds whenever `total` is the sum of
 * the quotas rounded to an integer.
 */
export function apportion(numerators: readonly bigint[], denominator: bigint, total: bigint): bigint[] {
  if (denominator <= 0n) throw new RangeError("apportion: the denominator must be positive");
  const parts = numerators.map((numerator) => floorDiv(numerator, denominator));
  let left = total - parts.reduce((sum, part) => sum + part, 0n);
  if (left < 0n || left > BigInt(numerators.length)) {
    throw new RangeError(`apportion: ${total} is not the rounded sum of the quotas`);
  }
  if (left === 0n) return parts;
  const order = numerators
    .map((numerator, index) => ({ index, remainder: numerator - (parts[index] as bigint) * denominator }))
    .sort((a, b) => (a.remainder === b.remainder ? a.index - b.index : a.remainder > b.remainder ? -1 : 1));
  for (const { index } of order) {
    if (left === 0n) break;
    parts[index] = (parts[index] as bigint) + 1n;
    left--;
  }
  return parts;
}

/** Splits `total` in proportion to non-negative `weights` (at least one positive), exactly. */
export function splitByWeight(total: bigint, weights: readonly bigint[]): bigint[] {
  const sum = weights.reduce((acc, weight) => acc + weight, 0n);
  if (sum <= 0n || weights.some((weight) => weight < 0n)) {
    throw new RangeError("splitByWeight: weights must be non-negative with a positive sum");
  }
  return apportion(
    weights.map((weight) => total * weight),
    sum,
    total,
  );
}
