// The period a scheduled report covers, from the request body (Cloud Scheduler sends a fixed
// one): default the previous month in the billing time zone, or a day, or an explicit range.
import { DayClock, isIsoDate, previousMonth } from "../core/period.ts";
import type { PeriodGranularity } from "../core/types.ts";

export interface ReportPeriod {
  from: string;
  to: string;
  granularity: PeriodGranularity;
}

export class ReportRequestError extends Error {}

function yesterday(today: string): string {
  const date = new Date(`${today}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() - 1);
  return date.toISOString().slice(0, 10);
}

/** `{}` -> last month; `{"period":"day"}` -> yesterday; `{"from","to","period"}` -> that range. */
export function reportPeriod(body: unknown, now: Date, timeZone: string): ReportPeriod {
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
  if (request.from === undefined && request.to === undefined) {
    if (granularity === "day") {
      const day = yesterday(today);
      return { from: day, to: day, granularity };
    }
    const [from, to] = previousMonth(today);
    return { from, to, granularity };
  }
  for (const key of ["from", "to"] as const) {
    if (typeof request[key] !== "string" || !isIsoDate(request[key] as string)) {
      throw new ReportRequestError(
        `${key}: expected a date YYYY-MM-DD, found ${JSON.stringify(request[key])}`,
      );
    }
  }
  const from = request.from as string;
  const to = request.to as string;
  if (from > to) throw new ReportRequestError(`from ${from} is after to ${to}`);
  return { from, to, granularity };
}
