// Invoice amounts: exact decimals in the billing account's currency. The Cloud Billing export
// writes cost and credits as FLOAT64 (as text, sometimes in E notation); they are read into
// bigint "nano-units" (1e-9 of the currency, the scale of BigQuery's NUMERIC) and only the
// allocation rounds, once, to the currency's minor unit (ISO 4217: cents, yen, fils).
import { formatUsd, mulDivRound } from "../money.ts";

/** An amount in 1e-9 of a currency unit. */
export type NanoUnits = bigint;

export const NANO_SCALE = 9;
const NANO = 10n ** BigInt(NANO_SCALE);

/** ISO 4217 currencies whose minor unit is not the cent (2 decimals). */
const MINOR_DIGITS: Record<string, number> = {
  BHD: 3,
  BIF: 0,
  CLP: 0,
  DJF: 0,
  GNF: 0,
  IQD: 3,
  ISK: 0,
  JOD: 3,
  JPY: 0,
  KMF: 0,
  KRW: 0,
  KWD: 3,
  LYD: 3,
  OMR: 3,
  PYG: 0,
  RWF: 0,
  TND: 3,
  UGX: 0,
  VND: 0,
  VUV: 0,
  XAF: 0,
  XOF: 0,
  XPF: 0,
};

export const CURRENCY_CODE = /^[A-Z]{3}$/;

/** Decimal places of the currency's minor unit: JPY 0, USD 2, KWD 3. */
export function minorDigits(currency: string): number {
  return MINOR_DIGITS[currency] ?? 2;
}

/** Nano-units per minor unit: 1e7 for cents, 1e9 for yen. */
export function nanosPerMinorUnit(currency: string): bigint {
  return 10n ** BigInt(NANO_SCALE - minorDigits(currency));
}

const DECIMAL = /^([+-])?(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

/**
 * A decimal as written ("12.5", "-0.004", "1.2345E-5", "3e2") to nano-units, rounded half away
 * from zero at the 9th decimal (a FLOAT64 carries ~16 digits; beyond 1e-9 is noise). Undefined
 * when the text is not a decimal number.
 */
export function parseDecimalNanos(text: string): NanoUnits | undefined {
  const match = DECIMAL.exec(text.trim());
  if (!match) return undefined;
  const [, sign, whole = "", fraction = "", exponentText] = match;
  if (whole === "" && fraction === "") return undefined;
  const digits = `${whole}${fraction}`.replace(/^0+(?=\d)/, "");
  // value = digits x 10^(exponent - fraction.length); to nano-units: x 10^9.
  const shift = Number(exponentText ?? 0) - fraction.length + NANO_SCALE;
  if (!Number.isSafeInteger(shift) || Math.abs(shift) > 400) return undefined;
  let magnitude = BigInt(digits || "0");
  if (shift >= 0) magnitude *= 10n ** BigInt(shift);
  else magnitude = mulDivRound(magnitude, 1n, 10n ** BigInt(-shift));
  return sign === "-" ? -magnitude : magnitude;
}

/** Nano-units as a plain decimal with `decimals` places (0..9), half away from zero: money.ts's
 * formatter, whose digits do not depend on the currency. */
export function formatNanos(value: NanoUnits, decimals = NANO_SCALE): string {
  return formatUsd(value, decimals);
}

/** Whole minor units as the currency writes them: 1234 JPY -> "1234", 1234 USD cents -> "12.34". */
export function formatMinorUnits(minorUnits: bigint, currency: string): string {
  return formatNanos(minorUnits * nanosPerMinorUnit(currency), minorDigits(currency));
}

/** Floor division for bigints of any sign (BigInt division truncates toward zero). */
export function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}

/** Rounds nano-units to whole minor units, half away from zero. */
export function toMinorUnits(value: NanoUnits, currency: string): bigint {
  return mulDivRound(value, 1n, nanosPerMinorUnit(currency));
}

export const NANOS_PER_UNIT = NANO;
