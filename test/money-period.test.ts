import { describe, expect, it } from "vitest";
import { formatUsd, mulDivRound, parseUsd } from "../src/core/money.ts";
import {
  DayClock,
  daysOfPeriodWithin,
  isIsoDate,
  periodsBetween,
  previousMonth,
} from "../src/core/period.ts";
import { checkBounds, TimeRange, TimeRangeError } from "../src/core/time-range.ts";
import { random } from "../src/sample/generate.ts";

describe("exact money", () => {
  it("parses decimal text exactly", () => {
    expect(parseUsd("6.25")).toBe(6_250_000_000n);
    expect(parseUsd("0.000000001")).toBe(1n);
    expect(parseUsd("-1.5")).toBe(-1_500_000_000n);
    expect(() => parseUsd("1e3")).toThrow(/decimal/);
    expect(() => parseUsd("0.0000000001")).toThrow();
  });

  it("rounds half up once, exactly, where floats would drift", () => {
    expect(mulDivRound(1n, 1n, 2n)).toBe(1n);
    expect(mulDivRound(1n, 1n, 3n)).toBe(0n);
    expect(mulDivRound(-1n, 1n, 2n)).toBe(-1n);
    // 1450180608 bytes at 5 USD/TiB: 0.006594658 (exactly 13505859375/2048 nanos)
    expect(mulDivRound(1_450_180_608n, parseUsd("5"), 2n ** 40n)).toBe(6_594_658n);
    // a value far beyond 2^53 stays exact
    expect(mulDivRound(10n ** 20n, parseUsd("6.25"), 2n ** 40n)).toBe(568_434_188_608_080_149n);
  });

  it("formats with the requested decimals, rounding half up", () => {
    expect(formatUsd(6_594_658n)).toBe("0.006595");
    expect(formatUsd(500n)).toBe("0.000001");
    expect(formatUsd(499n)).toBe("0.000000");
    expect(formatUsd(-1_500_000_000n, 2)).toBe("-1.50");
    expect(formatUsd(12_345_678_901_234n, 9)).toBe("12345.678901234");
  });

  it("formats amounts under 2^53 nano-dollars (in doubles) exactly as bigint arithmetic does", () => {
    // formatUsd before its double path (commit 7069a70): one half-up division in bigint
    const reference = (nanos: bigint, decimals: number) => {
      const scaled = mulDivRound(nanos, 1n, 10n ** BigInt(9 - decimals));
      const negative = scaled < 0n;
      const digits = (negative ? -scaled : scaled).toString().padStart(decimals + 1, "0");
      const fraction = digits.slice(digits.length - decimals);
      return `${negative ? "-" : ""}${digits.slice(0, digits.length - decimals)}${decimals > 0 ? `.${fraction}` : ""}`;
    };
    const next = random(2053);
    const edge = 2n ** 53n;
    const values = [0n, 1n, 4n, 5n, 499n, 500n, 999_999_999n, edge - 1n, edge, edge + 1n, -1n, -500n];
    for (let i = 0; i < 20_000; i++) {
      const digits = 1 + Math.floor(next() * 17);
      const value = BigInt(Math.floor(next() * 10 ** digits));
      // exact halves and their neighbours at every scale
      const scale = 10n ** BigInt(Math.floor(next() * 10));
      const half = (value / scale) * scale + scale / 2n;
      values.push(value, half, half - 1n, edge - (value % 1_000_000n));
    }
    const differing: string[] = [];
    for (const value of values)
      for (let decimals = 0; decimals <= 9; decimals++)
        if (formatUsd(value, decimals) !== reference(value, decimals))
          differing.push(
            `${value}/${decimals}: ${formatUsd(value, decimals)} vs ${reference(value, decimals)}`,
          );
    expect(differing.slice(0, 5)).toEqual([]);
  });
});

describe("billing days and periods", () => {
  it("puts a job on its Pacific day, as Google bills, across DST changes", () => {
    const clock = new DayClock();
    expect(clock.dayOf(Date.parse("2026-11-01T06:59:59Z"))).toBe("2026-10-31"); // PDT, UTC-7
    expect(clock.dayOf(Date.parse("2026-11-01T07:00:00Z"))).toBe("2026-11-01");
    expect(clock.dayOf(Date.parse("2026-11-02T07:59:00Z"))).toBe("2026-11-01"); // PST, UTC-8
    expect(clock.dayOf(Date.parse("2026-11-02T08:00:00Z"))).toBe("2026-11-02");
    expect(new DayClock("UTC").dayOf(Date.parse("2026-11-01T06:59:59Z"))).toBe("2026-11-01");
    expect(new DayClock("Asia/Kolkata").dayOf(Date.parse("2026-11-01T18:29:59Z"))).toBe("2026-11-01");
    expect(new DayClock("Asia/Kolkata").dayOf(Date.parse("2026-11-01T18:30:00Z"))).toBe("2026-11-02");
    expect(() => new DayClock("Mars/Olympus")).toThrow(/time zone/);
  });

  it("lists periods and the days of each inside a range", () => {
    expect(periodsBetween("2026-09-30", "2026-11-01", "month")).toEqual(["2026-09", "2026-10", "2026-11"]);
    expect(periodsBetween("2026-02-27", "2026-03-01", "day")).toEqual([
      "2026-02-27",
      "2026-02-28",
      "2026-03-01",
    ]);
    expect(daysOfPeriodWithin("2026-10", "2026-10-15", "2026-12-01")).toBe(17);
    expect(daysOfPeriodWithin("2024-02", "2024-01-01", "2024-12-31")).toBe(29);
    expect(daysOfPeriodWithin("2026-10-03", "2026-10-01", "2026-10-02")).toBe(0);
    expect(previousMonth("2026-01-15")).toEqual(["2025-12-01", "2025-12-31"]);
    expect(isIsoDate("2026-02-29")).toBe(false);
    expect(isIsoDate("2024-02-29")).toBe(true);
  });
});

describe("a time range (from, to, granularity)", () => {
  it("enumerates its periods clipped to it, with the month each is priced by", () => {
    expect(TimeRange.of("2026-09-30", "2026-11-01", "month").periods()).toEqual([
      { period: "2026-09", days: 1, monthStart: "2026-09-01", daysInMonth: 30 },
      { period: "2026-10", days: 31, monthStart: "2026-10-01", daysInMonth: 31 },
      { period: "2026-11", days: 1, monthStart: "2026-11-01", daysInMonth: 30 },
    ]);
    expect(
      TimeRange.of("2024-02-28", "2024-03-01", "day")
        .periods()
        .map((p) => [p.period, p.days]),
    ).toEqual([
      ["2024-02-28", 1],
      ["2024-02-29", 1],
      ["2024-03-01", 1],
    ]);
  });

  it("knows last month, yesterday, and its instants in the billing zone for an API filter", () => {
    expect(TimeRange.previousMonth("2026-01-15")).toEqual({
      from: "2025-12-01",
      to: "2025-12-31",
      granularity: "month",
    });
    expect(TimeRange.yesterday("2024-03-01")).toEqual({
      from: "2024-02-29",
      to: "2024-02-29",
      granularity: "day",
    });
    // October starts in PDT (UTC-7), December ends in PST (UTC-8)
    expect(TimeRange.of("2026-10-01", "2026-12-31").instants("America/Los_Angeles")).toEqual({
      start: "2026-10-01T07:00:00.000Z",
      end: "2027-01-01T08:00:00.000Z",
    });
    expect(TimeRange.of("2026-10-01", "2026-10-31").contains("2026-11-01")).toBe(false);
  });

  it("refuses a bad bound, named as the caller names it", () => {
    const flags = { from: "--from", to: "--to" };
    expect(() => TimeRange.of("2026-02-30", "2026-03-01", "day", flags)).toThrow(
      new TimeRangeError('--from: expected a date YYYY-MM-DD, found "2026-02-30"'),
    );
    expect(() => TimeRange.of("2026-03-02", "2026-03-01")).toThrow("from 2026-03-02 is after to 2026-03-01");
    expect(() => TimeRange.of("2026-03-02", undefined, "day", flags)).toThrow(
      "--to: expected a date YYYY-MM-DD",
    );
    expect(checkBounds(undefined, "2026-03-01")).toEqual({ from: undefined, to: "2026-03-01" });
  });
});
