// The period a scheduled report covers, from the request body (Cloud Scheduler sends a fixed
// one): default the previous month in the billing time zone, or a day, or an explicit range.
import { describe } from "../core/parse.ts";
import { DayClock } from "../core/period.ts";
import { TimeRange, TimeRangeError } from "../core/time-range.ts";
import type { PeriodGranularity } from "../core/types.ts";

export interface ReportPeriod {
  from: string;
  to: string;
  granularity: PeriodGranularity;
}

export class ReportRequestError extends Error {}

/** The longest range one request may rebuild: a year and a little, so one call stays one job's work. */
export const MAX_REPORT_DAYS = 400;

/**
 * `{}` (or no body) -> last month; `{"period":"day"}` -> yesterday; `{"from","to","period"}` ->
 * that range, ending today at the latest, at most MAX_REPORT_DAYS long (TimeRange bounds the rest).
 */
export function reportPeriod(body: unknown, now: Date, timeZone: string): TimeRange {
  if (body !== undefined && (typeof body !== "object" || body === null || Array.isArray(body)))
    throw new ReportRequestError(`expected a JSON object, found ${describe(body)}`);
  const request = (body ?? {}) as Record<string, unknown>;
  const unknown = Object.keys(request).filter((key) => !["period", "from", "to"].includes(key));
  if (unknown.length > 0)
    throw new ReportRequestError(`unknown field ${unknown[0]} (expected period, from, to)`);
  const granularity = request.period ?? "month";
  if (granularity !== "month" && granularity !== "day") {
    throw new ReportRequestError(`period: expected "month" or "day", found ${describe(request.period)}`);
  }
  const today = new DayClock(timeZone).dayOf(now.getTime());
  if (request.from === undefined && request.to === undefined)
    return granularity === "day" ? TimeRange.yesterday(today) : TimeRange.previousMonth(today);
  for (const key of ["from", "to"] as const) {
    if (typeof request[key] !== "string")
      throw new ReportRequestError(`${key}: expected a date YYYY-MM-DD, found ${describe(request[key])}`);
  }
  try {
    const range = TimeRange.of(request.from as string, request.to as string, granularity);
    if (range.to > today)
      throw new ReportRequestError(`to ${range.to}: expected today (${today}) or earlier`);
    const days = (Date.parse(range.to) - Date.parse(range.from)) / 86_400_000 + 1;
    if (days > MAX_REPORT_DAYS) {
      throw new ReportRequestError(
        `from ${range.from} to ${range.to} is ${days} days: expected at most ${MAX_REPORT_DAYS}`,
      );
    }
    return range;
  } catch (error) {
    if (error instanceof TimeRangeError) throw new ReportRequestError(error.message);
    throw error;
  }
}
