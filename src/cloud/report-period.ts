// The period a scheduled report covers, from the request body (Cloud Scheduler sends a fixed
// one): default the previous month in the billing time zone, or a day, or an explicit range.
import { DayClock } from "../core/period.ts";
import { TimeRange, TimeRangeError } from "../core/time-range.ts";
import type { PeriodGranularity } from "../core/types.ts";

export interface ReportPeriod {
  from: string;
  to: string;
  granularity: PeriodGranularity;
}

export class ReportRequestError extends Error {}

/** `{}` -> last month; `{"period":"day"}` -> yesterday; `{"from","to","period"}` -> that range. */
export function reportPeriod(body: unknown, now: Date, timeZone: string): TimeRange {
  const request = (typeof body === "object" && body !== null ? body : {}) as Record<string, unknown>;
  const unknown = Object.keys(request).filter((key) => !["period", "from", "to"].includes(key));
  if (unknown.length > 0)
    throw new ReportRequestError(`unknown field ${unknown[0]} (expected period, from, to)`);
  const granularity = request.period ?? "month";
  if (granularity !== "month" && granularity !== "day") {
    throw new ReportRequestError(
      `period: expected "month" or "day", found ${JSON.stringify(request.period)}`,
    );
  }
  const today = new DayClock(timeZone).dayOf(now.getTime());
  if (request.from === undefined && request.to === undefined)
    return granularity === "day" ? TimeRange.yesterday(today) : TimeRange.previousMonth(today);
  for (const key of ["from", "to"] as const) {
    if (typeof request[key] !== "string")
      throw new ReportRequestError(
        `${key}: expected a date YYYY-MM-DD, found ${JSON.stringify(request[key])}`,
      );
  }
  try {
    return TimeRange.of(request.from as string, request.to as string, granularity);
  } catch (error) {
    if (error instanceof TimeRangeError) throw new ReportRequestError(error.message);
    throw error;
  }
}
