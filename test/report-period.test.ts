import { describe, expect, it } from "vitest";
import { ReportRequestError, reportPeriod } from "../src/cloud/report-period.ts";

const LA = "America/Los_Angeles";

describe("the scheduled report's period", () => {
  it("defaults to the previous month in the billing time zone", () => {
    // 2026-11-01 05:00 UTC is still October 31 in Los Angeles: the previous month is September
    expect(reportPeriod({}, new Date("2026-11-01T05:00:00Z"), LA)).toEqual({
      from: "2026-09-01",
      to: "2026-09-30",
      granularity: "month",
    });
    expect(reportPeriod(undefined, new Date("2026-11-02T12:00:00Z"), LA)).toEqual({
      from: "2026-10-01",
      to: "2026-10-31",
      granularity: "month",
    });
    expect(reportPeriod({}, new Date("2026-01-15T12:00:00Z"), "UTC")).toMatchObject({
      from: "2025-12-01",
      to: "2025-12-31",
    });
  });

  it("takes yesterday for a daily report, and an explicit range", () => {
    expect(reportPeriod({ period: "day" }, new Date("2026-03-01T12:00:00Z"), LA)).toEqual({
      from: "2026-02-28",
      to: "2026-02-28",
      granularity: "day",
    });
    expect(reportPeriod({ from: "2026-10-01", to: "2026-10-15", period: "day" }, new Date(), LA)).toEqual({
      from: "2026-10-01",
      to: "2026-10-15",
      granularity: "day",
    });
  });

  it("refuses what it does not understand, saying what", () => {
    expect(() => reportPeriod({ period: "week" }, new Date(), LA)).toThrow(ReportRequestError);
    expect(() => reportPeriod({ from: "2026-02-30", to: "2026-03-01" }, new Date(), LA)).toThrow(
      /from: expected a date/,
    );
    expect(() => reportPeriod({ from: "2026-03-02", to: "2026-03-01" }, new Date(), LA)).toThrow(/after/);
    expect(() => reportPeriod({ form: "2026-03-01" }, new Date(), LA)).toThrow(/unknown field form/);
  });
});
