// Billing days and reporting periods. Google bills a job by its end time in Pacific time
// (INFORMATION_SCHEMA.JOBS docs: "Jobs are billed by end_time in PST8PDT"), so a job's day is
// computed in a configurable IANA time zone, America/Los_Angeles by default.
import { tzOffset } from "@date-fns/tz";
// Deep imports: the date-fns index would load every function it has at start-up.
import { addDays } from "date-fns/addDays";
import { eachDayOfInterval } from "date-fns/eachDayOfInterval";
import { eachMonthOfInterval } from "date-fns/eachMonthOfInterval";
import { getDaysInMonth } from "date-fns/getDaysInMonth";
import { isValid } from "date-fns/isValid";
import { lightFormat as format } from "date-fns/lightFormat";
import { parseISO } from "date-fns/parseISO";
import type { PeriodGranularity } from "./types.ts";

export const DEFAULT_TIME_ZONE = "America/Los_Angeles";

const DATE_RE = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/;

export function isValidTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone });
    return true;
  } catch {
    return false;
  }
}

/** Whether text is a real calendar date written YYYY-MM-DD. */
export function isIsoDate(text: string): boolean {
  if (!DATE_RE.test(text)) return false;
  const date = parseISO(text);
  return isValid(date) && format(date, "yyyy-MM-dd") === text;
}

const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;

/** YYYY-MM-DD of a UTC instant, without Date formatting machinery. */
function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/**
 * Maps instants to calendar days in one time zone. A zone's offset changes at most a few times a
 * year, so per UTC day we look the offset up at both ends (date-fns/tz) and, when they agree, the
 * local day of any instant that day is plain arithmetic. Days with a change fall back to a
 * lookup per instant.
 */
export class DayClock {
  readonly timeZone: string;
  /** UTC day number -> offset in minutes, or NaN when the offset changes during that day. */
  private readonly offsets = new Map<number, number>();
  private readonly names = new Map<number, string>();

  constructor(timeZone: string = DEFAULT_TIME_ZONE) {
    if (!isValidTimeZone(timeZone))
      throw new RangeError(
        `unknown time zone "${timeZone}" (expected an IANA name such as America/Los_Angeles)`,
      );
    this.timeZone = timeZone;
  }

  /** The calendar day (YYYY-MM-DD) of an instant given as epoch milliseconds. */
  dayOf(epochMs: number): string {
    const day = Math.floor(epochMs / DAY_MS);
    let offset = this.offsets.get(day);
    if (offset === undefined) {
      const start = tzOffset(this.timeZone, new Date(day * DAY_MS));
      const end = tzOffset(this.timeZone, new Date((day + 1) * DAY_MS - 1));
      offset = start === end ? start : Number.NaN;
      if (this.offsets.size > 100_000) this.offsets.clear();
      this.offsets.set(day, offset);
    }
    if (Number.isNaN(offset)) return utcDay(epochMs + tzOffset(this.timeZone, new Date(epochMs)) * MINUTE_MS);
    const local = Math.floor((epochMs + offset * MINUTE_MS) / DAY_MS);
    let name = this.names.get(local);
    if (name === undefined) {
      name = utcDay(local * DAY_MS);
      if (this.names.size > 100_000) this.names.clear();
      this.names.set(local, name);
    }
    return name;
  }
}

/** The reporting period a day belongs to: YYYY-MM for months, the day itself for days. */
export function periodOf(day: string, granularity: PeriodGranularity): string {
  return granularity === "month" ? day.slice(0, 7) : day;
}

/** First day of a period (YYYY-MM-DD). */
export function periodStart(period: string): string {
  return period.length === 7 ? `${period}-01` : period;
}

/** Last day of a period (YYYY-MM-DD): the month's last day, or the day itself. */
export function periodEnd(period: string): string {
  const start = periodStart(period);
  if (period.length !== 7) return start;
  return format(addDays(parseISO(start), getDaysInMonth(parseISO(start)) - 1), "yyyy-MM-dd");
}

/** Every period that intersects [from, to] (inclusive days), in order. */
export function periodsBetween(from: string, to: string, granularity: PeriodGranularity): string[] {
  if (from > to) return [];
  const interval = { start: parseISO(from), end: parseISO(to) };
  if (granularity === "day") return eachDayOfInterval(interval).map((d) => format(d, "yyyy-MM-dd"));
  return eachMonthOfInterval(interval).map((d) => format(d, "yyyy-MM"));
}

/** How many days of `period` lie inside [from, to]: arithmetic, not a list of the days. */
export function daysOfPeriodWithin(period: string, from: string, to: string): number {
  const start = periodStart(period);
  const end = periodEnd(period);
  const lo = start > from ? start : from;
  const hi = end < to ? end : to;
  if (lo > hi) return 0;
  return Math.round((Date.parse(`${hi}T00:00:00Z`) - Date.parse(`${lo}T00:00:00Z`)) / DAY_MS) + 1;
}

export function daysInMonthOf(day: string): number {
  return getDaysInMonth(parseISO(day));
}

/** The month before the one containing `day`, as [first day, last day]. */
export function previousMonth(day: string): [string, string] {
  const firstOfThis = parseISO(`${day.slice(0, 7)}-01`);
  const lastOfPrevious = addDays(firstOfThis, -1);
  const first = format(lastOfPrevious, "yyyy-MM-01");
  return [first, format(lastOfPrevious, "yyyy-MM-dd")];
}
