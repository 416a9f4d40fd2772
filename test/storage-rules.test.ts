// Storage as BigQuery bills it (issue 11 B.10).
// - Deleted tables: INFORMATION_SCHEMA.TABLE_STORAGE keeps a row for a table deleted within its
//   time-travel window, with `deleted` true. Google's forecast query on that page
//   (https://cloud.google.com/bigquery/docs/information-schema-table-storage, Example 3) sums
//   `IF(deleted=false, active_logical_bytes, 0)` for logical billing and every row's physical
//   bytes for physical billing; the time-travel page (https://cloud.google.com/bigquery/docs/time-travel)
//   says time-travel storage costs money only with the physical billing model.
// - Location: storage prices differ by location (https://cloud.google.com/bigquery/pricing#storage);
//   a table where the price book has no price is unpriced and said so, never priced at US rates.
// - Period: storage is billed per GiB-month over the calendar month (TABLE_STORAGE page,
//   "Understanding byte values versus billing units"), so a report without --from/--to covers
//   whole calendar periods in the billing zone, and storage counts whether or not jobs ran.
// Snapshot rows: the columns of TABLE_STORAGE as `bq query --format=csv` writes them (booleans
// as true/false); jobs: the repository's v2 jobChange fixture (test/fixtures/functions/
// v2-jobchange-done.json) with its end time moved.

import { readFileSync } from "node:fs";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseUsd } from "../src/core/money.ts";
import { assessEntry, ChargebackPipeline, entryContext } from "../src/core/pipeline.ts";
import { priceStorageMonth } from "../src/core/pricebook.ts";
import { parseRegistry } from "../src/core/registry.ts";
import type { PeriodGranularity, TableStorage } from "../src/core/types.ts";
import { parseStorageSnapshot, SnapshotError } from "../src/io/storage-snapshot.ts";
import { cli, ROOT, table } from "./support/cli.ts";

const GIB = 1n << 30n;
const REGISTRY_FILE = join(ROOT, "test/fixtures/functions/registry.yaml");
const registry = parseRegistry(readFileSync(REGISTRY_FILE, "utf8"), "registry.yaml");

const HEADER =
  "project_id,table_schema,table_name,active_logical_bytes,long_term_logical_bytes,active_physical_bytes,long_term_physical_bytes,time_travel_physical_bytes,fail_safe_physical_bytes,storage_billing_model,location,deleted";
const row = (table: string, model: string, location: string, deleted: string) =>
  `acme-fin-lake,ledger,${table},${100n * GIB},${50n * GIB},${30n * GIB},${10n * GIB},${5n * GIB},${2n * GIB},${model},${location},${deleted}`;

const SNAPSHOT = [
  HEADER,
  row("live_logical", "LOGICAL", "US", "false"),
  row("dropped_logical", "LOGICAL", "US", "true"),
  row("dropped_physical", "PHYSICAL", "US", "true"),
  row("tokyo", "LOGICAL", "asia-northeast1", "false"),
].join("\n");

const snapshot = () => parseStorageSnapshot(SNAPSHOT, "table_storage.csv");
const byName = (tables: TableStorage[], name: string) => tables.find((t) => t.table === name) as TableStorage;

describe("deleted tables cost what Google bills for them", () => {
  it("reads TABLE_STORAGE's deleted column, and refuses a value that is not a boolean", () => {
    const tables = snapshot();
    expect(tables.map((t) => [t.table, t.deleted])).toEqual([
      ["live_logical", false],
      ["dropped_logical", true],
      ["dropped_physical", true],
      ["tokyo", false],
    ]);
    expect(() => parseStorageSnapshot(`${HEADER}\n${row("t", "LOGICAL", "US", "maybe")}`, "s.csv")).toThrow(
      new SnapshotError('s.csv:2: deleted: expected true or false, found "maybe"'),
    );
    // a JSON export (bq query --format=json) gives the column as a boolean or as text
    const json = parseStorageSnapshot(
      JSON.stringify([
        {
          ...Object.fromEntries(HEADER.split(",").map((c) => [c, "0"])),
          storage_billing_model: "LOGICAL",
          deleted: true,
        },
      ]),
      "s.json",
    );
    expect(json[0]?.deleted).toBe(true);
  });

  it("with logical billing a deleted table costs nothing; with physical billing its bytes still bill", () => {
    const tables = snapshot();
    // 100 GiB x 0.02 + 50 GiB x 0.01 (the built-in US prices of [DOCS-TS])
    expect(priceStorageMonth(byName(tables, "live_logical"), registry, "2026-10-01")).toBe(parseUsd("2.5"));
    expect(priceStorageMonth(byName(tables, "dropped_logical"), registry, "2026-10-01")).toBe(0n);
    // (30 + 2) GiB x 0.04 + 10 GiB x 0.02: time travel (inside active) and fail-safe at the active rate
    expect(priceStorageMonth(byName(tables, "dropped_physical"), registry, "2026-10-01")).toBe(
      parseUsd("1.48"),
    );
  });
});

describe("storage at a location without a price is unpriced, and said so", () => {
  it("prices no table at another location's rates: 0, counted in unpriced_tables and the summary", () => {
    const tables = snapshot();
    expect(priceStorageMonth(byName(tables, "tokyo"), registry, "2026-10-01")).toBeUndefined();
    const report = new ChargebackPipeline({ registry, from: "2026-10-01", to: "2026-10-31" }).report(tables);
    expect(report.storageCosts).toEqual([
      {
        period: "2026-10",
        department: "finance",
        project_id: "acme-fin-lake",
        dataset: "ledger",
        billing_model: "LOGICAL",
        storage_usd: parseUsd("2.5"),
        unpriced_tables: 1n,
      },
      {
        period: "2026-10",
        department: "finance",
        project_id: "acme-fin-lake",
        dataset: "ledger",
        billing_model: "PHYSICAL",
        storage_usd: parseUsd("1.48"),
        unpriced_tables: 0n,
      },
    ]);
    expect(report.totals.unpricedStorageByLocation).toEqual({ "asia-northeast1": 1 });
  });

  it("prices it once the registry gives that location's prices", () => {
    const priced = parseRegistry(
      `${readFileSync(REGISTRY_FILE, "utf8")}
prices:
  storage:
    - { location: asia-northeast1, from: "2020-01-01", active_logical: "0.023", long_term_logical: "0.016", active_physical: "0.046", long_term_physical: "0.023" }
`,
      "registry.yaml",
    );
    // 100 GiB x 0.023 + 50 GiB x 0.016 (test figures, not Google's list prices)
    expect(priceStorageMonth(byName(snapshot(), "tokyo"), priced, "2026-10-01")).toBe(parseUsd("3.1"));
  });
});

/** The v2 fixture, billed to acme-fin-bi, ending at `endTime`. */
function jobEnding(endTime: string, name: string): string {
  const entry = JSON.parse(
    readFileSync(join(ROOT, "test/fixtures/functions/v2-jobchange-done.json"), "utf8"),
  );
  entry.insertId = name;
  entry.timestamp = endTime;
  entry.receiveTimestamp = endTime;
  const job = entry.protoPayload.metadata.jobChange.job;
  job.jobName = `projects/acme-fin-bi/jobs/${name}`;
  entry.protoPayload.resourceName = job.jobName;
  job.jobStats.endTime = endTime;
  return JSON.stringify(entry);
}

function reportOf(
  lines: string[],
  options: { granularity?: PeriodGranularity; from?: string; to?: string; today?: string } = {},
) {
  const granularity = options.granularity ?? "month";
  const context = entryContext(registry, { granularity });
  const pipeline = new ChargebackPipeline({ registry, ...options, granularity });
  lines.forEach((line, i) => {
    pipeline.accept(assessEntry(line, { file: "logs", line: i + 1 }, context));
  });
  return pipeline.report(snapshot());
}

const FULL_MONTH = parseUsd("2.5") + parseUsd("1.48");
const storageTotal = (report: { storageCosts: { storage_usd: bigint }[] }) =>
  report.storageCosts.reduce((sum, r) => sum + r.storage_usd, 0n);

describe("a report covers whole calendar periods unless the user narrows it", () => {
  // first job on the 3rd (noon in Los Angeles), last on the 20th
  const jobs = [
    jobEnding("2026-10-03T19:00:00Z", "bquxjob_third"),
    jobEnding("2026-10-20T19:00:00Z", "bquxjob_20th"),
  ];

  it("without --from/--to: the first job's month to the last job's, storage for the whole month", () => {
    const report = reportOf(jobs);
    expect([report.from, report.to]).toEqual(["2026-10-01", "2026-10-31"]);
    // not 29/31 of it (the 3rd to the 31st), nor 18/31 (the 3rd to the 20th)
    expect(storageTotal(report)).toBe(FULL_MONTH);
  });

  it("by day, the days of the first to the last job, each a whole day", () => {
    const report = reportOf(jobs, { granularity: "day" });
    expect([report.from, report.to]).toEqual(["2026-10-03", "2026-10-20"]);
  });

  it("a bound given is kept; the other end is still a whole period", () => {
    const report = reportOf(jobs, { from: "2026-10-10" });
    expect([report.from, report.to]).toEqual(["2026-10-10", "2026-10-31"]);
    // 22 of October's 31 days, as the user asked
    expect(storageTotal(report)).toBe(
      (parseUsd("2.5") * 22n + 15n) / 31n + (parseUsd("1.48") * 22n + 15n) / 31n,
    );
  });

  it("with no job at all, storage is still reported: the period of today", () => {
    const report = reportOf([], { today: "2026-11-15" });
    expect([report.from, report.to]).toEqual(["2026-11-01", "2026-11-30"]);
    expect(storageTotal(report)).toBe(FULL_MONTH);
    expect(report.departmentCosts.find((r) => r.department === "finance")?.storage_usd).toBe(FULL_MONTH);
  });

  it("the CLI: a month whose first job came on the 3rd bills the whole month's storage", async () => {
    const dir = await mkdtemp(join(tmpdir(), "bqcb-storage-"));
    await writeFile(join(dir, "logs.ndjson"), `${jobs.join("\n")}\n`);
    await writeFile(join(dir, "table_storage.csv"), `${SNAPSHOT}\n`);
    const args = ["report", "--registry", REGISTRY_FILE, "--storage", join(dir, "table_storage.csv")];
    const withJobs = await cli([...args, "--logs", join(dir, "logs.ndjson"), "--out", join(dir, "out")]);
    expect(withJobs.code).toBe(0);
    const summary = JSON.parse(await readFile(join(dir, "out", "summary.json"), "utf8"));
    expect(summary.period).toMatchObject({ from: "2026-10-01", to: "2026-10-31" });
    expect(summary.totals_usd.storage).toBe("3.980000");
    expect(summary.unpriced_storage).toEqual({ tables: 1, by_location: { "asia-northeast1": 1 } });
    expect(withJobs.stdout).toMatch(
      /storage +3\.980000 USD, plus 1 tables not priced: no storage price for their location \(asia-northeast1 1\)/,
    );
    const rows = await table(join(dir, "out"), "storage_costs.csv");
    expect(rows.map((r) => [r.billing_model, r.storage_usd, r.unpriced_tables])).toEqual([
      ["LOGICAL", "2.500000", "1"],
      ["PHYSICAL", "1.480000", "0"],
    ]);
    expect(await readFile(join(dir, "out", "report.md"), "utf8")).toMatch(/Storage: 1 tables not priced/);

    // no job: storage of the month of today, in the billing zone; exit 5 says no job was read
    await writeFile(join(dir, "empty.ndjson"), "");
    const noJobs = await cli([...args, "--logs", join(dir, "empty.ndjson"), "--out", join(dir, "none")]);
    expect(noJobs.code).toBe(5);
    const empty = JSON.parse(await readFile(join(dir, "none", "summary.json"), "utf8"));
    expect(empty.period.from).toMatch(/^\d{4}-\d{2}-01$/);
    expect(empty.totals_usd.storage).toBe("3.980000");
  }, 60_000);
});
