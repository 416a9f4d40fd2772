// Hostile and careless input (issue 12): each case is one rejected entry with its reason, never a
// crashed run, a lost entry or a row BigQuery would refuse.
import { describe, expect, it } from "vitest";
import { ChargebackAggregator, type JobSummary } from "../src/core/aggregate.ts";
import { notAfterFor, parseEntry, parseLine } from "../src/core/parse.ts";
import { daysOfPeriodWithin } from "../src/core/period.ts";
import type { ParsedEntry, RejectedEntry } from "../src/core/types.ts";
import { csvLine, parseCsv } from "../src/io/csv.ts";
import { parseStorageSnapshot } from "../src/io/storage-snapshot.ts";
import { type SampleJob, v1Completed, v2Change, v2TableRead } from "../src/sample/entries.ts";
import { asRejected, sampleJob as job } from "./support/jobs.ts";

const source = { file: "hostile.ndjson", line: 3 };
const NOW = Date.parse("2026-11-30T12:00:00Z");
const parse = (entry: unknown): ParsedEntry =>
  parseEntry(entry, "(raw)", source, { notAfterMs: notAfterFor(NOW) });

/** A v2 jobChange entry with one field of the job replaced (path below protoPayload.metadata.jobChange.job). */
function v2With(path: string[], value: unknown): Record<string, unknown> {
  const entry = v2Change(job());
  let node = ((entry.protoPayload as Record<string, unknown>).metadata as Record<string, unknown>)
    .jobChange as Record<string, unknown>;
  node = node.job as Record<string, unknown>;
  for (const key of path.slice(0, -1)) {
    node[key] ??= {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1] as string] = value;
  return entry;
}

function nested(depth: number): unknown {
  let value: unknown = "bottom";
  for (let i = 0; i < depth; i++) value = { a: value };
  return value;
}

describe("1. deep nesting costs one entry, never the run", () => {
  it("a line of valid JSON nested 100 000 levels is rejected with a short description", () => {
    const line = `${"[".repeat(100_000)}${"]".repeat(100_000)}`;
    const parsed = asRejected(parseLine(line, source));
    expect(parsed.reason).toBe("not_bigquery_audit");
    expect(parsed.detail.length).toBeLessThan(200);
    expect(parsed.raw).toBe(line);
  });

  it.each([
    ["jobStats.endTime", ["jobStats", "endTime"]],
    ["jobName", ["jobName"]],
    ["jobStats.queryStats.totalBilledBytes", ["jobStats", "queryStats", "totalBilledBytes"]],
    ["jobStatus.errorResult.code", ["jobStatus", "errorResult", "code"]],
  ])("nesting in %s, a field the parser reads, is rejected naming the field", (name, path) => {
    const parsed = asRejected(parse(v2With(path, nested(20_000))));
    expect(parsed.detail).toContain(name);
    expect(parsed.detail.length).toBeLessThan(300);
  });

  it("a deep object anywhere under protoPayload does not stop the job from being read", () => {
    const entry = v2Change(job());
    (entry.protoPayload as Record<string, unknown>).request = nested(50_000);
    expect(parse(entry).kind).toBe("job");
  });
});

describe("2. timestamps outside a sane window are rejected with their reason", () => {
  it.each(["9999-12-31T23:59:59Z", "2010-12-31T23:59:59Z", "1970-01-01T00:00:00Z"])(
    "endTime %s",
    (endTime) => {
      const parsed = asRejected(parse(v2With(["jobStats", "endTime"], endTime)));
      expect(parsed.reason).toBe("invalid_field");
      expect(parsed.detail).toMatch(
        /jobStats\.endTime: expected a time from 2011-01-01T00:00:00\.000Z to 2026-12-01/,
      );
    },
  );

  it("a year written with a sign (-000001) is not a timestamp", () => {
    expect(asRejected(parse(v2With(["jobStats", "endTime"], "-000001-01-01T00:00:00Z"))).reason).toBe(
      "invalid_field",
    );
  });

  it("a job ending a day and more after the reader's clock is rejected; within the skew it is read", () => {
    const late = new Date(NOW + 25 * 3_600_000).toISOString();
    expect(asRejected(parse(v2With(["jobStats", "endTime"], late))).detail).toContain("endTime");
    const skewed = new Date(NOW + 3_600_000).toISOString();
    expect(parse(v2With(["jobStats", "endTime"], skewed)).kind).toBe("job");
  });

  it("the start and create times and a table read's timestamp are held to the same window", () => {
    expect(asRejected(parse(v2With(["jobStats", "startTime"], "0001-01-01T00:00:00Z"))).detail).toContain(
      "startTime",
    );
    const read = v2TableRead({
      table: "projects/acme-fin-lake/datasets/ledger/tables/entries",
      principal: "x@acme.example",
      timeMs: NOW,
      insertId: "r1",
    });
    read.timestamp = "9999-01-01T00:00:00Z";
    expect(asRejected(parse(read)).detail).toContain("timestamp");
  });

  it("pro-rating a period over the days inside a range is arithmetic", () => {
    expect(daysOfPeriodWithin("2026-02", "2011-01-01", "2099-12-31")).toBe(28);
    expect(daysOfPeriodWithin("2026-10", "2026-10-10", "2026-10-12")).toBe(3);
    expect(daysOfPeriodWithin("2024-02-29", "2024-02-01", "2024-03-01")).toBe(1);
  });
});

describe("5. values BigQuery would refuse are rejected before they are kept", () => {
  it.each([
    [
      "INT64 above 2^63-1",
      ["jobStats", "queryStats", "totalBilledBytes"],
      "9223372036854775808",
      "totalBilledBytes",
    ],
    ["INT64 below -2^63", ["jobStats", "totalSlotMs"], "-9223372036854775809", "totalSlotMs"],
    ["February 30", ["jobStats", "endTime"], "2026-02-30T10:00:00Z", "endTime"],
    ["hour 24", ["jobStats", "endTime"], "2026-10-01T24:00:00Z", "endTime"],
    ["minute 60", ["jobStats", "endTime"], "2026-10-01T10:60:00Z", "endTime"],
    ["year 0000", ["jobStats", "createTime"], "0000-01-01T00:00:00Z", "createTime"],
    ["offset +24:00", ["jobStats", "endTime"], "2026-10-01T10:00:00+24:00", "endTime"],
    ["a NaN error code", ["jobStatus", "errorResult", "code"], "NaN", "errorResult.code"],
    ["an error code beyond int32", ["jobStatus", "errorResult", "code"], 2 ** 40, "errorResult.code"],
    ["a fractional error code", ["jobStatus", "errorResult", "code"], 3.5, "errorResult.code"],
    ["an unpaired surrogate", ["jobStats", "reservation"], "res\ud800", "reservation"],
  ])("%s", (_name, path, value, field) => {
    const parsed = asRejected(parse(v2With(path as string[], value)));
    expect(parsed.reason).toBe("invalid_field");
    expect(parsed.detail).toContain(field);
  });

  it("the largest INT64 and a string error code, as proto3 JSON writes it, are read", () => {
    const entry = v2With(["jobStats", "queryStats", "totalBilledBytes"], "9223372036854775807");
    const parsed = parse(entry);
    expect(parsed.kind === "job" && parsed.billedBytes).toBe(2n ** 63n - 1n);
    const failed = parse(v2With(["jobStatus", "errorResult"], { code: "3", message: "bad" }));
    expect(parsed.kind === "job" && failed.kind === "job" && failed.error?.code).toBe(3);
  });

  it("a v1 entry is held to the same rules", () => {
    const entry = v1Completed(job());
    const stats = (
      ((entry.protoPayload as Record<string, unknown>).serviceData as Record<string, unknown>)
        .jobCompletedEvent as { job: { jobStatistics: Record<string, unknown> } }
    ).job.jobStatistics;
    stats.endTime = "2026-10-14T24:00:00Z";
    expect(asRejected(parse(entry)).detail).toContain("jobStatistics.endTime");
  });
});

describe("6. aggregation keys cannot be forged by the texts in them", () => {
  const summary = (consumer: string, cost: bigint): JobSummary => ({
    jobId: `p:US.${consumer}`,
    billingProject: "p",
    principal: `x@${consumer}`,
    payerDepartment: "finance",
    consumerDepartment: consumer,
    statementType: "SELECT",
    pricingModel: "on_demand",
    reservation: "",
    slotMs: 0n,
    billedBytes: 0n,
    computeCost: cost,
    endTime: "2026-10-01T00:00:00Z",
    usageDate: "2026-10-01",
    period: "2026-10",
    findings: [],
    completeness: 15,
    source: { file: "test", line: 1 },
    format: "v2",
  });

  it("a department holding NUL keeps its cost in department_costs and the matrix", () => {
    const aggregator = new ChargebackAggregator();
    const odd = "external:ev\u0000il.example";
    aggregator.addJob(summary(odd, 7n));
    aggregator.addJob(summary('external:a"],["b', 5n));
    const rows = aggregator.departmentCosts({
      from: "2026-10-01",
      to: "2026-10-31",
      granularity: "month",
      registryDepartments: ["finance"],
      storage: [],
    });
    expect(rows.find((row) => row.department === odd)?.compute_consumed_usd).toBe(7n);
    expect(rows.find((row) => row.department === 'external:a"],["b')?.compute_consumed_usd).toBe(5n);
    expect(rows.find((row) => row.department === "finance")?.compute_paid_usd).toBe(12n);
    expect(aggregator.chargebackMatrix().map((row) => row.consumer_department)).toEqual([
      'external:a"],["b',
      odd,
    ]);
    const merged = new ChargebackAggregator();
    merged.merge(aggregator);
    expect(merged.chargebackMatrix()).toEqual(aggregator.chargebackMatrix());
    expect(merged.trend()).toEqual([{ day: "2026-10-01", department: "finance", computePaid: 12n }]);
  });
});

describe("7. every text cell a spreadsheet would evaluate is neutralised", () => {
  it.each(["-1+cmd|' /C calc'!A0", "-2+3", "+1", "=1+2", "@SUM(A1)", "\t=1", "\r=1"])("%j", (text) => {
    const [row] = parseCsv(csvLine([text]));
    expect(row?.cells[0]).toBe(`'${text}`);
  });

  it("numbers are written from numbers, as they are", () => {
    expect(csvLine([-1, -5n, 0, "2026-10-01", "1.250000"])).toBe("-1,-5,0,2026-10-01,1.250000\n");
  });
});

describe("8. a principal longer than any real one is rejected with its field", () => {
  it("principalEmail of 100 000 characters", () => {
    const entry = v2Change(job());
    (entry.protoPayload as Record<string, Record<string, unknown>>).authenticationInfo = {
      principalEmail: `${"a.".repeat(50_000)}@acme.example`,
    };
    expect(asRejected(parse(entry)).detail).toContain(
      "authenticationInfo.principalEmail: expected at most 1024 characters",
    );
  });
});

describe("numbers in a storage snapshot are whole, in range, never rounded", () => {
  const csv = (bytes: string) =>
    `project_id,table_schema,table_name,active_logical_bytes,long_term_logical_bytes,active_physical_bytes,long_term_physical_bytes\np,d,t,${bytes},0,0,0\n`;
  it.each(["-1", "1.5", "1e3", "9223372036854775808", "0x10"])("active_logical_bytes %s", (bytes) => {
    expect(() => parseStorageSnapshot(csv(bytes), "snap.csv")).toThrow(
      /^snap\.csv:2: active_logical_bytes: expected a whole number of bytes from 0 to 2\^63-1/,
    );
  });
  it("the largest INT64 is read exactly", () => {
    expect(parseStorageSnapshot(csv("9223372036854775807"), "snap.csv")[0]?.activeLogicalBytes).toBe(
      2n ** 63n - 1n,
    );
  });
});

describe("counts in an entry: negative, fractional, exponent or unsafe numbers are rejected with the field", () => {
  it.each([
    ["-5", "totalSlotMs"],
    [-5, "totalSlotMs"],
    ["1.5", "totalSlotMs"],
    [1.5, "totalSlotMs"],
    ["1e3", "totalSlotMs"],
    [2 ** 53 + 2, "totalSlotMs"],
  ])("totalSlotMs %j", (value, field) => {
    expect(asRejected(parse(v2With(["jobStats", "totalSlotMs"], value))).detail).toContain(field);
  });

  it("a JSON number in exponent form that is a safe whole number is that number, exactly", () => {
    const parsed = parseLine(
      JSON.stringify(v2Change(job())).replace(/"totalSlotMs":"\d+"/, '"totalSlotMs":2.5e3'),
      source,
      { notAfterMs: notAfterFor(NOW) },
    );
    expect(parsed.kind === "job" && parsed.slotMs).toBe(2500n);
  });
});
