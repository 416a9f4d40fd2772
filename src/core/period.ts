// Billing days and reporting periods. Google bills a job by its end time in Pacific time
// (INFORMATION_SCHEMA.JOBS docs: "Jobs are billed by end_time in PST8PDT"), so a job's day is
// computed in a configurable IANA time zone, America/Los_Angeles by default.
import { TZDate } from "@date-fns/tz";
import {
  addDays,
  eachDayOfInterval,
  eachMonthOfInterval,
  format,
  getDaysInMonth,
  isValid,
  parseISO,
} from "date-fns";
import type { PeriodGranularity } from "./types.ts";

export const DEFAULT_TIME_ZONE = "America/Los_Angeles";

const QUARTER_HOUR_MS = 15 * 60 * 1000;
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

/**
 * Maps instants to calendar days in one time zone. Every UTC offset in use is a multiple of
 * 15 minutes, so the day is constant within a UTC quarter-hour: cache per quarter-hour and the
 * costly zone conversion runs about once per 15 minutes of log time, not once per job.
 */
export class DayClock {
  readonly timeZone: string;
  private readonly cache = new Map<number, string>();

  constructor(timeZone: string = DEFAULT_TIME_ZONE) {
    if (!isValidTimeZone(timeZone))
      throw new RangeError(
        `unknown time zone "${timeZone}" (expected an IANA name such as America/Los_Angeles)`,
      );
    this.timeZone = timeZone;
  }

  /** The calendar day (YYYY-MM-DD) of an instant given as epoch milliseconds. */
  dayOf(epochMs: number): string {
    const bucket = Math.floor(epochMs / QUARTER_HOUR_MS);
    let day = this.cache.get(bucket);
    if (day === undefined) {
      day = format(new TZDate(bucket * QUARTER_HOUR_MS, this.timeZone), "yyyy-MM-dd");
      if (this.cache.size > 100_000) this.cache.clear();
      this.cache.set(bucket, day);
    }
    return day;
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

/** Every period that intersects [from, to] (inclusive days), in order. */
export function periodsBetween(from: string, to: string, granularity: PeriodGranularity): string[] {
  if (from > to) return [];
  const interval = { start: parseISO(from), end: parseISO(to) };
  if (granularity === "day") return eachDayOfInterval(interval).map((d) => format(d, "yyyy-MM-dd"));
  return eachMonthOfInterval(interval).map((d) => format(d, "yyyy-MM"));
}

/** How many days of `period` lie inside [from, to]. */
export function daysOfPeriodWithin(period: string, from: string, to: string): number {
  const start = periodStart(period);
  const end =
    period.length === 7
      ? format(addDays(parseISO(start), getDaysInMonth(parseISO(start)) - 1), "yyyy-MM-dd")
      : start;
  const lo = start > from ? start : from;
  const hi = end < to ? end : to;
  if (lo > hi) return 0;
  return eachDayOfInterval({ start: parseISO(lo), end: parseISO(hi) }).length;
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
