// RFC 3339 timestamps as the audit logs write them, to epoch milliseconds. Three a job, so the
// shape every Google entry has (UTC, `YYYY-MM-DDTHH:MM:SS[.fraction]Z`) is read by arithmetic;
// any other shape (an offset) goes through the regular expression and Date.parse.

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d{1,9})?(?:Z|([+-])(\d{2}):(\d{2}))$/i;

const DAY_MS = 86_400_000;

/**
 * Epoch milliseconds of an RFC 3339 timestamp, or NaN. Stricter than Date.parse, which takes
 * 2026-02-30 as March 2 and 24:00:00 as the next midnight: BigQuery refuses both. A fraction
 * finer than the millisecond is cut off, as Date.parse does.
 */
export function rfc3339Ms(text: string): number {
  const utc = utcMs(text);
  return utc === undefined ? offsetMs(text) : utc;
}

/** A digit's value, or NaN: NaN spreads through the sums below, so one test at the end suffices. */
function digit(text: string, at: number): number {
  const code = text.charCodeAt(at) - 48;
  return code >= 0 && code <= 9 ? code : Number.NaN;
}

/**
 * `YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z` (T and Z in either case) read by arithmetic: NaN when a field
 * is out of range, undefined when the text has another shape (left to offsetMs).
 */
function utcMs(text: string): number | undefined {
  const length = text.length;
  // 20 characters without a fraction; with one, a dot and 1-9 digits
  if (length !== 20 && (length < 22 || length > 30)) return undefined;
  const zone = text.charCodeAt(length - 1);
  const t = text.charCodeAt(10);
  if (
    (zone !== 90 && zone !== 122) || // Z z
    (t !== 84 && t !== 116) || // T t
    text.charCodeAt(4) !== 45 || // -
    text.charCodeAt(7) !== 45 ||
    text.charCodeAt(13) !== 58 || // :
    text.charCodeAt(16) !== 58 ||
    (length > 20 && text.charCodeAt(19) !== 46) // .
  )
    return undefined;
  const year = digit(text, 0) * 1000 + digit(text, 1) * 100 + digit(text, 2) * 10 + digit(text, 3);
  const month = digit(text, 5) * 10 + digit(text, 6);
  const day = digit(text, 8) * 10 + digit(text, 9);
  const hour = digit(text, 11) * 10 + digit(text, 12);
  const minute = digit(text, 14) * 10 + digit(text, 15);
  const second = digit(text, 17) * 10 + digit(text, 18);
  let fraction = 0;
  for (let at = 20, scale = 100; at < length - 1; at++, scale /= 10) {
    const value = digit(text, at);
    if (Number.isNaN(value)) return undefined;
    if (scale >= 1) fraction += value * scale;
  }
  const fields = year + month + day + hour + minute + second;
  if (Number.isNaN(fields)) return undefined;
  if (!validFields(year, month, day, hour, minute, second)) return Number.NaN;
  return daysFromCivil(year, month, day) * DAY_MS + ((hour * 60 + minute) * 60 + second) * 1000 + fraction;
}

/** Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's days_from_civil), year >= 1. */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}

/** Any other shape, by the regular expression: an offset, or a text that is no timestamp. */
function offsetMs(text: string): number {
  const match = RFC3339.exec(text);
  if (!match) return Number.NaN;
  const fields = match.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  if (!validFields(...fields) || Number(match[8] ?? "00") > 23 || Number(match[9] ?? "00") > 59)
    return Number.NaN;
  return Date.parse(text);
}

/** A real date and a time of day, 00:00:00 to 23:59:59 (no 24:00, no leap second). */
function validFields(year: number, month: number, day: number, hour: number, minute: number, second: number) {
  return (
    year >= 1 &&
    month >= 1 &&
    month <= 12 &&
    day >= 1 &&
    day <= daysInMonth(year, month) &&
    hour <= 23 &&
    minute <= 59 &&
    second <= 59
  );
}

/** Days in a month of the proleptic Gregorian calendar, by arithmetic (no Date a timestamp). */
function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}
