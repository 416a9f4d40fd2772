// One day, one clock (issue 11 B.9). BigQuery bills a job by its end time in Pacific time ("Jobs
// are billed by end_time in PST8PDT timezone": https://cloud.google.com/bigquery/docs/information-schema-jobs,
// shared/reference/audit-log-formats.md [DOCS-JOBS]), so the price in force, the period and the
// backfill's time range are all chosen by the billing day of the configured zone, never the UTC date.
// Entries: the repository's v2 jobChange fixture (test/fixtures/functions/v2-jobchange-done.json,
// BigQueryAuditMetadata as Google writes it) with jobStats.endTime and the entry's timestamp moved
// to the edges tested: the US on-demand price change of 2023-07-05 (5 -> 6.25 USD/TiB), and a
// month's edge (2026-10-31 in Los Angeles is 2026-11-01 before 07:00 UTC) with a registry price
// from 2026-11-01.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { usagePeriod } from "../src/cloud/iam-audit.ts";
import { parseUsd, toNumericString } from "../src/core/money.ts";
import { assessEntry, entryContext } from "../src/core/pipeline.ts";
import { parseRegistry } from "../src/core/registry.ts";
import { versionedRegistryTables } from "../src/core/registry-tables.ts";
import { TimeRange } from "../src/core/time-range.ts";
import type { JobCost } from "../src/core/types.ts";
import { SinkPipeline } from "./support/sink-pipeline.ts";
import { SINK_TABLE, sinkRow } from "./support/sink-rows.ts";
import { type SqlValue, ZetaSql } from "./support/zetasql.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const LOS_ANGELES = "America/Los_Angeles";
const registry = parseRegistry(
  `${readFileSync(`${ROOT}sample/acme/registry.yaml`, "utf8")}\nprices:\n  on_demand: [{ location: US, from: 2026-11-01, usd_per_tib: 7 }]\n`,
  "registry.yaml",
);
// biome-ignore lint/suspicious/noExplicitAny: Google's entry, changed field by field
type Json = Record<string, any>;

/** The v2 fixture (half a TiB billed, US, on demand) ending at `endTime`, as job `name`. */
function queryEndingAt(endTime: string, name: string): Json {
  const entry = JSON.parse(readFileSync(`${ROOT}test/fixtures/functions/v2-jobchange-done.json`, "utf8"));
  entry.insertId = name;
  entry.timestamp = endTime;
  entry.receiveTimestamp = endTime;
  entry.protoPayload.authenticationInfo.principalEmail = "carol@acme.example";
  const job = entry.protoPayload.metadata.jobChange.job;
  job.jobName = `projects/acme-fin-bi/jobs/${name}`;
  entry.protoPayload.resourceName = job.jobName;
  job.jobStats.endTime = endTime;
  return entry;
}

function costOf(entry: Json, timeZone = LOS_ANGELES): JobCost {
  const context = entryContext(registry, { timeZone, granularity: "month" });
  const assessed = assessEntry(JSON.stringify(entry), { file: "t", line: 1 }, context);
  if (assessed.kind !== "job") throw new Error(`expected a job, got ${JSON.stringify(assessed)}`);
  return assessed.cost;
}

const HALF_TIB_AT = (usdPerTib: string) => parseUsd(usdPerTib) / 2n;

const priceChange = {
  // 20:00 on 2023-07-04 in Los Angeles (PDT, UTC-7): the old price
  evening: queryEndingAt("2023-07-05T03:00:00Z", "bquxjob_evening_0704"),
  lastMs: queryEndingAt("2023-07-05T06:59:59.999Z", "bquxjob_last_ms_0704"),
  midnight: queryEndingAt("2023-07-05T07:00:00Z", "bquxjob_midnight_0705"),
};
const monthEdge = {
  // 23:30 on 2026-10-31 in Los Angeles: October, at October's price
  october: queryEndingAt("2026-11-01T06:30:00Z", "bquxjob_halloween"),
  november: queryEndingAt("2026-11-01T07:00:00Z", "bquxjob_november"),
};

describe("the price and the period come from one billing day", () => {
  it("a job ending 2023-07-05T03:00Z is 2023-07-04 in Los Angeles: the old price", () => {
    const cost = costOf(priceChange.evening);
    expect(cost.usageDate).toBe("2023-07-04");
    expect(cost.pricing.computeCost).toBe(HALF_TIB_AT("5"));
    expect(cost.pricing.basis).toContain("5 USD/TiB (from 2000-01-01)");
    expect(costOf(priceChange.lastMs).pricing.computeCost).toBe(HALF_TIB_AT("5"));
    const midnight = costOf(priceChange.midnight);
    expect(midnight.usageDate).toBe("2023-07-05");
    expect(midnight.pricing.computeCost).toBe(HALF_TIB_AT("6.25"));
  });

  it("the configured zone decides: in UTC the same job is on the 5th, at the new price", () => {
    const cost = costOf(priceChange.evening, "UTC");
    expect(cost.usageDate).toBe("2023-07-05");
    expect(cost.pricing.computeCost).toBe(HALF_TIB_AT("6.25"));
  });

  it("at a month's edge the job is priced in the month it is counted in", () => {
    const october = costOf(monthEdge.october);
    expect([october.period, october.pricing.computeCost]).toEqual(["2026-10", HALF_TIB_AT("6.25")]);
    const november = costOf(monthEdge.november);
    expect([november.period, november.pricing.computeCost]).toEqual(["2026-11", HALF_TIB_AT("7")]);
  });

  it("a range of billing days is the instants between their midnights in the zone", () => {
    // October 2026 in Los Angeles: PDT (UTC-7) at both ends; DST ends 2026-11-01 09:00 UTC.
    expect(TimeRange.of("2026-10-01", "2026-10-31").instants(LOS_ANGELES)).toEqual({
      start: "2026-10-01T07:00:00.000Z",
      end: "2026-11-01T07:00:00.000Z",
    });
    // January: PST (UTC-8)
    expect(TimeRange.of("2026-01-01", "2026-01-31").instants(LOS_ANGELES)).toEqual({
      start: "2026-01-01T08:00:00.000Z",
      end: "2026-02-01T08:00:00.000Z",
    });
    expect(TimeRange.of("2026-10-01", "2026-10-31").instants("UTC")).toEqual({
      start: "2026-10-01T00:00:00.000Z",
      end: "2026-11-01T00:00:00.000Z",
    });
  });
});

describe("the IAM audit's default usage period", () => {
  it("is the 30 billing days before the audit's billing day in the zone", () => {
    // 23:30 on 2026-10-31 in Los Angeles: today is the 31st, so the period ends on the 30th
    const now = new Date("2026-11-01T06:30:00Z");
    expect(usagePeriod({}, now)).toEqual({ from: "2026-10-01", to: "2026-10-30" });
    expect(usagePeriod({}, now, "UTC")).toEqual({ from: "2026-10-02", to: "2026-10-31" });
  });
});

describe("the sink pipeline (sql/sink on ZetaSQL) chooses the same price on the same day", () => {
  let zetasql: ZetaSql;
  const rows: Record<string, SqlValue>[] = [];

  beforeAll(async () => {
    zetasql = await ZetaSql.start();
    const tables = versionedRegistryTables(registry, {
      version: "v1",
      pushedAt: "2023-01-01T00:00:00Z",
      source: "registry.yaml",
      timeZone: LOS_ANGELES,
    }) as unknown as Record<string, Record<string, SqlValue>[]>;
    for (const [runTime, entries] of [
      ["2023-07-05T12:00:00Z", priceChange],
      ["2026-11-01T12:00:00Z", monthEdge],
    ] as const) {
      const pipeline = new SinkPipeline(zetasql, { ...tables }, SINK_TABLE);
      await pipeline.run(
        runTime,
        Object.values(entries).map((entry) => sinkRow(entry)),
      );
      rows.push(...(pipeline.tables.job_costs ?? []));
    }
  }, 120_000);

  afterAll(() => zetasql?.stop());

  it("gives each job the core's usage date and cost", () => {
    const pick = (row: Record<string, unknown>) => ({
      job_id: row.job_id,
      usage_date: String(row.usage_date),
      compute_cost_usd: String(row.compute_cost_usd),
    });
    const expected = [...Object.values(priceChange), ...Object.values(monthEdge)].map((entry) => {
      const cost = costOf(entry);
      return {
        job_id: cost.job.jobId,
        usage_date: cost.usageDate,
        compute_cost_usd: toNumericString(cost.pricing.computeCost),
      };
    });
    const sort = (list: { job_id: unknown }[]) =>
      [...list].sort((a, b) => String(a.job_id).localeCompare(String(b.job_id)));
    expect(sort(rows.map(pick))).toEqual(sort(expected));
    // and the edge case itself, not only equality: the evening of the 4th at 5 USD/TiB
    const evening = rows.find((row) => String(row.job_id).endsWith("bquxjob_evening_0704"));
    expect(String(evening?.compute_cost_usd)).toBe(toNumericString(HALF_TIB_AT("5")));
  });
});
