// A range of billing days reported by period, as OpenCost's Window: from and to (inclusive
// calendar days in the billing time zone) and the granularity. The one place that validates a
// range, enumerates its periods and clips them to it; the CLI, backfill and the scheduled report
// build one, the aggregation walks its periods.
import { TZDate } from "@date-fns/tz";
import { addDays } from "date-fns/addDays";
import { lightFormat as format } from "date-fns/lightFormat";
import { parseISO } from "date-fns/parseISO";
import { describe, EARLIEST_ENTRY_MS } from "./parse.ts";
import {
  daysInMonthOf,
  daysOfPeriodWithin,
  isIsoDate,
  periodOf,
  periodStart,
  periodsBetween,
} from "./period.ts";
import type { PeriodGranularity } from "./types.ts";

/** A bad bound, named as the caller names it (`--from`, `from`). */
export class TimeRangeError extends RangeError {
  override readonly name = "TimeRangeError";
}

/** One period of a range, clipped to the range. */
export interface ClippedPeriod {
  /** `YYYY-MM` (month) or `YYYY-MM-DD` (day). */
  readonly period: string;
  /** How many of its days lie inside the range. */
  readonly days: number;
  /** The first day of the period's month, whose prices apply to its storage. */
  readonly monthStart: string;
  readonly daysInMonth: number;
}

/** Bound names for error messages: the CLI's flags or the request's fields. */
export interface BoundNames {
  from: string;
  to: string;
}

const PLAIN: BoundNames = { from: "from", to: "to" };

const FIRST_DAY = new Date(EARLIEST_ENTRY_MS).toISOString().slice(0, 10);
const LAST_DAY = "2099-12-31";

const shiftDay = (day: string, days: number) => format(addDays(parseISO(day), days), "yyyy-MM-dd");

/**
 * Checks the bounds that are given: each a real date YYYY-MM-DD, and from not after to. A bound
 * left out stays open (the CLI then takes the first or last day it reads).
 */
export function checkBounds(
  from: string | undefined,
  to: string | undefined,
  names: BoundNames = PLAIN,
): { from?: string; to?: string } {
  for (const [value, name] of [
    [from, names.from],
    [to, names.to],
  ] as const) {
    if (value !== undefined && !isIsoDate(value))
      throw new TimeRangeError(`${name}: expected a date YYYY-MM-DD, found ${describe(value)}`);
    // Audit logs begin after 2011; a range reaching past 2100 is a typo (and days to enumerate).
    if (value !== undefined && (value < FIRST_DAY || value > LAST_DAY))
      throw new TimeRangeError(`${name} ${value}: expected a day from ${FIRST_DAY} to ${LAST_DAY}`);
  }
  if (from !== undefined && to !== undefined && from > to)
    throw new TimeRangeError(`${names.from} ${from} is after ${names.to} ${to}`);
  return { from, to };
}

export class TimeRange {
  readonly from: string;
  readonly to: string;
  readonly granularity: PeriodGranularity;

  private constructor(from: string, to: string, granularity: PeriodGranularity) {
    this.from = from;
    this.to = to;
    this.granularity = granularity;
  }

  /** A checked range; throws TimeRangeError naming the bound. */
  static of(
    from: string | undefined,
    to: string | undefined,
    granularity: PeriodGranularity = "month",
    names: BoundNames = PLAIN,
  ): TimeRange {
    if (from === undefined) throw new TimeRangeError(`${names.from}: expected a date YYYY-MM-DD`);
    if (to === undefined) throw new TimeRangeError(`${names.to}: expected a date YYYY-MM-DD`);
    checkBounds(from, to, names);
    return new TimeRange(from, to, granularity);
  }

  /** The whole month before the one containing `today`. */
  static previousMonth(today: string): TimeRange {
    const last = shiftDay(`${today.slice(0, 7)}-01`, -1);
    return new TimeRange(`${last.slice(0, 7)}-01`, last, "month");
  }

  /** The day before `today`, by day. */
  static yesterday(today: string): TimeRange {
    const day = shiftDay(today, -1);
    return new TimeRange(day, day, "day");
  }

  contains(day: string): boolean {
    return day >= this.from && day <= this.to;
  }

  periodOf(day: string): string {
    return periodOf(day, this.granularity);
  }

  /** Every period that meets the range, in order, with the days of it inside the range. */
  periods(): ClippedPeriod[] {
    return periodsBetween(this.from, this.to, this.granularity).map((period) => {
      const monthStart = `${periodStart(period).slice(0, 7)}-01`;
      return {
        period,
        days: daysOfPeriodWithin(period, this.from, this.to),
        monthStart,
        daysInMonth: daysInMonthOf(monthStart),
      };
    });
  }

  /**
   * The range as instants [start, end) for APIs that filter by timestamp (entries.list): from
   * midnight starting `from` to midnight ending `to`, both in the billing time zone, so a range
   * of billing days selects exactly the entries of those days (Pacific by default, as Google bills).
   */
  instants(timeZone: string): { start: string; end: string } {
    return { start: midnightIn(this.from, timeZone), end: midnightIn(shiftDay(this.to, 1), timeZone) };
  }
}

/** The instant (ISO, UTC) at which `day` begins in `timeZone`. */
function midnightIn(day: string, timeZone: string): string {
  const [year, month, date] = day.split("-").map(Number) as [number, number, number];
  return new Date(new TZDate(year, month - 1, date, timeZone).getTime()).toISOString();
}
