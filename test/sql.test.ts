// The SQL in sql/, checked by ZetaSQL (BigQuery's own front end): every statement analyses, and
// the report queries, evaluated on the sample organisation's job rows, give exactly the numbers
// of the TypeScript aggregation, to the nano-dollar.
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FREE_RIDE_KINDS } from "../src/core/findings.ts";
import { JOB_KEY_SQL, jobKey } from "../src/core/job-copies.ts";
import {
  assessEntry,
  ChargebackPipeline,
  type ChargebackReport,
  entryContext,
} from "../src/core/pipeline.ts";
import { storagePriceOn } from "../src/core/pricebook.ts";
import { parseRegistry, projectDepartment, type Registry } from "../src/core/registry.ts";
import { priceBookRows } from "../src/core/registry-tables.ts";
import {
  bigQueryJson,
  CHARGEBACK_MATRIX,
  DEPARTMENT_COSTS,
  fromBigQuery,
  JOB_COSTS,
  jobCostRow,
  STORAGE_COSTS,
} from "../src/core/rows.ts";
import type { PeriodGranularity, TableStorage } from "../src/core/types.ts";
import { readSql } from "../src/io/sql-files.ts";
import { MONTH } from "./support/free-tier-jobs.ts";
import { jobCopies } from "./support/job-copies.ts";
import { sampleOrganisation, storageRows } from "./support/sample-rows.ts";
import { ddlTables, type SqlType, type SqlValue, ZetaSql } from "./support/zetasql.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const SQL = `${ROOT}sql/`;
const read = readSql;
const TABLES = ddlTables(`${SQL}ddl`);

const PARAMS: Record<string, SqlType> = {
  from_date: "DATE",
  to_date: "DATE",
  granularity: "STRING",
  departments: { array: "STRING" },
  free_ride_kinds: { array: "STRING" },
  snapshot_date: "DATE",
  registry_version: "STRING",
  free_tier: "STRING",
  project_departments: {
    array: {
      struct: [
        { name: "project", type: "STRING" },
        { name: "department", type: "STRING" },
      ],
    },
  },
};

let zetasql: ZetaSql;

beforeAll(async () => {
  zetasql = await ZetaSql.start();
}, 60_000);

afterAll(() => zetasql?.stop());

describe("every SQL file analyses in BigQuery's dialect", () => {
  for (const folder of ["ddl", "common", "reports", "page"]) {
    for (const file of readdirSync(`${SQL}${folder}`).filter((name) => name.endsWith(".sql"))) {
      it(`${folder}/${file}`, async () => {
        const text = read(`${folder}/${file}`);
        // a shared part that reads the reports' `jobs` CTE is analysed inside one
        const query =
          folder === "common" && /\bFROM jobs\b/.test(text)
            ? `WITH jobs AS (SELECT * FROM job_costs)\n${text}`
            : text;
        await expect(zetasql.analyze(query, TABLES, PARAMS)).resolves.toBeUndefined();
      });
    }
  }

  it("rejects a report that names a column the tables do not have", async () => {
    const broken = read("reports/chargeback_matrix.sql").replace(
      "payer_department,\n  consumer_department,\n  COUNT",
      "payer_dept,\n  consumer_department,\n  COUNT",
    );
    await expect(zetasql.analyze(broken, TABLES, PARAMS)).rejects.toThrow(/payer_dept/);
  });
});

/** The storage report evaluated by ZetaSQL, over the price_book rows written from the registry's price book. */
async function sqlStorage(
  registry: Registry,
  snapshot: readonly TableStorage[],
  granularity: PeriodGranularity,
  from: string,
  to: string,
) {
  const params = {
    from_date: { type: PARAMS.from_date as SqlType, value: from },
    to_date: { type: PARAMS.to_date as SqlType, value: to },
    granularity: { type: PARAMS.granularity as SqlType, value: granularity },
    departments: { type: PARAMS.departments as SqlType, value: registry.departments.map((d) => d.id) },
    free_ride_kinds: { type: PARAMS.free_ride_kinds as SqlType, value: [...FREE_RIDE_KINDS] },
    snapshot_date: { type: PARAMS.snapshot_date as SqlType, value: "2026-11-01" },
    registry_version: { type: "STRING" as SqlType, value: "run" },
    free_tier: { type: "STRING" as SqlType, value: registry.freeTier },
    project_departments: {
      type: PARAMS.project_departments as SqlType,
      value: [...new Set(snapshot.map((t) => t.projectId))].map((project) => ({
        project,
        department: projectDepartment(registry, project).department,
      })),
    },
  };
  const storage = await zetasql.evaluate(
    read("reports/storage_costs.sql"),
    TABLES,
    {
      table_storage_snapshots: storageRows(snapshot),
      price_book: [
        ...priceBookRows(registry.priceBook).map((row) => ({ ...row, registry_version: "run" })),
        // another version's prices, never used
        {
          registry_version: "other",
          item: "storage_active_logical_per_gib_month",
          location: "us",
          from_date: "2000-01-01",
          nanos: 1n,
          source: "x",
        },
      ] as Record<string, SqlValue>[],
    },
    params,
  );
  return { storage, params };
}

async function sqlReports(granularity: PeriodGranularity, from: string, to: string, registryMore = "") {
  const { registry, jobRows, snapshot, report } = sampleOrganisation(granularity, from, to, registryMore);
  const { storage, params } = await sqlStorage(registry, snapshot, granularity, from, to);
  const storageTable = storage.map((row) => ({
    ...row,
    granularity,
    period_start: `${String(row.period).length === 7 ? `${row.period}-01` : row.period}`,
  }));
  const tables = { job_costs: jobRows, storage_costs: storageTable };
  const departments = await zetasql.evaluate(read("reports/department_costs.sql"), TABLES, tables, params);
  const matrix = await zetasql.evaluate(read("reports/chargeback_matrix.sql"), TABLES, tables, params);
  return { report, storage, departments, matrix, jobRows };
}

function expectSameStorage(report: ChargebackReport, storage: Record<string, SqlValue>[]) {
  // the SQL's rows read back as the records the TypeScript reports are made of
  expect(storage.map((row) => fromBigQuery(row, STORAGE_COSTS))).toEqual(report.storageCosts);
}

function expectSameReports(report: ChargebackReport, sql: Awaited<ReturnType<typeof sqlReports>>) {
  expectSameStorage(report, sql.storage);
  expect(sql.departments.map((row) => fromBigQuery(row, DEPARTMENT_COSTS))).toEqual(report.departmentCosts);
  expect(sql.matrix.map((row) => fromBigQuery(row, CHARGEBACK_MATRIX))).toEqual(report.chargebackMatrix);
}

describe("SQL and TypeScript reports agree to the nano-dollar on the sample organisation", () => {
  it("by month, with every job row delivered and duplicates among them", async () => {
    const sql = await sqlReports("month", "2026-10-01", "2026-10-31");
    // the rows hold duplicates (repeated entries, jobs logged in both formats): the SQL counts each job once
    expect(sql.jobRows.length).toBeGreaterThan(new Set(sql.jobRows.map((row) => row.job_id)).size);
    expect(sql.departments.length).toBeGreaterThanOrEqual(5);
    expectSameReports(sql.report, sql);
  }, 60_000);

  it("by day over part of the month, storage pro-rated to the days", async () => {
    const sql = await sqlReports("day", "2026-10-09", "2026-10-12");
    expect(new Set(sql.departments.map((row) => row.period))).toEqual(
      new Set(["2026-10-09", "2026-10-10", "2026-10-11", "2026-10-12"]),
    );
    expectSameReports(sql.report, sql);
  }, 60_000);
});

describe("copies of one job in the SQL reports (issue 11 C.12, C.13)", () => {
  it("computes the same job key as the TypeScript", async () => {
    // the reports and the page count jobs through this one file
    expect(read("common/job_costs_once.sql")).toContain(JOB_KEY_SQL);
    const ids = [
      "acme-fin-bi:US.bquxjob_4f1a",
      "acme-fin-bi:us.bquxjob_4f1a",
      "acme-fin-bi:bquxjob_4f1a",
      "example.com:analytics:EU.job_1",
      "example.com:analytics:job_1",
    ];
    const rows = await zetasql.evaluate(
      `SELECT job_id, ${JOB_KEY_SQL} AS job_key FROM job_costs ORDER BY job_id`,
      TABLES,
      { job_costs: ids.map((job_id) => ({ job_id })) },
    );
    expect(rows).toEqual([...ids].sort().map((id) => ({ job_id: id, job_key: jobKey(id) })));
  });

  it("counts a job once, from its most complete copy, as the TypeScript does", async () => {
    const copies = jobCopies();
    // the order a sink may deliver them: the incomplete copies first
    const lines = [copies.emptyAuthentication, copies.noLocation, copies.noStatistics, copies.full];
    const sql = await reportsOnEntries(lines);
    expect(sql.report.counters.jobs).toBe(1);
    expect(sql.matrix).toEqual([
      expect.objectContaining({ consumer_department: "external:partner-x.example", jobs: 1n }),
    ]);
    expectSameReports(sql.report, sql);
  }, 60_000);
});

describe("unpriced jobs are counted per department, never a silent 0 (issue 11 B.6)", () => {
  it("counts a job with hidden billed bytes and one on an unregistered reservation in both engines", async () => {
    const base = JSON.parse(jobCopies().full);
    const job = base.protoPayload.metadata.jobChange.job;
    base.protoPayload.authenticationInfo.principalEmail = "carol@acme.example";
    // row-level security hides totalBilledBytes (BigQueryAuditMetadata: absent, not "0")
    const hidden = structuredClone(base);
    delete hidden.protoPayload.metadata.jobChange.job.jobStats.queryStats.totalBilledBytes;
    const reserved = structuredClone(base);
    reserved.protoPayload.metadata.jobChange.job.jobName = `${job.jobName}_r`;
    reserved.protoPayload.metadata.jobChange.job.jobStats.reservation =
      "projects/acme-etl/locations/US/reservations/adhoc";
    const sql = await reportsOnEntries([JSON.stringify(hidden), JSON.stringify(reserved)]);
    const finance = sql.report.departmentCosts.find((row) => row.department === "finance");
    expect(finance?.unpriced_jobs).toBe(2n);
    expect(sql.report.totals.unpricedByReason).toEqual({
      billed_bytes_hidden: 1,
      reservation_not_in_registry: 1,
    });
    expectSameReports(sql.report, sql);
  }, 60_000);
});

describe("the free tier deducted in the SQL reports as in TypeScript (issue 11 B.8)", () => {
  // "The first 1 TB of data processed per month is free of charge (per billing account)":
  // https://cloud.google.com/bigquery/pricing (on-demand pricing)
  it("takes the free TiB off the month's first on-demand jobs, in billing-time order, in both engines", async () => {
    const shown = await reportsOnEntries(MONTH);
    const sql = await reportsOnEntries(MONTH, "free_tier: deduct\n");
    expectSameReports(sql.report, sql);
    const paid = (rows: Record<string, SqlValue>[], department: string) =>
      rows.find((row) => row.department === department)?.compute_paid_usd;
    // finance's first two jobs (0.4 TiB each) are free, marketing's pays half of its 0.4 TiB
    expect(paid(shown.departments, "finance")).toBe("7.500000000");
    expect(paid(sql.departments, "finance")).toBe("2.500000000");
    expect(paid(sql.departments, "marketing")).toBe("1.250000000");
  }, 60_000);

  it("on the sample month, by month and by day, with duplicates among the rows", async () => {
    for (const granularity of ["month", "day"] as const) {
      const sql = await sqlReports(granularity, "2026-10-01", "2026-10-31", "free_tier: deduct\n");
      expect(sql.report.freeTier?.months[0]?.freeUsd).toBeGreaterThan(0n);
      expectSameReports(sql.report, sql);
    }
  }, 120_000);
});

/** Entries through the TypeScript engine, and their job rows through the SQL reports (functions registry, October 2026). */
async function reportsOnEntries(lines: string[], registryMore = "") {
  const registry = parseRegistry(
    `${readFileSync(`${ROOT}test/fixtures/functions/registry.yaml`, "utf8")}${registryMore}`,
    "registry.yaml",
  );
  const context = entryContext(registry);
  const pipeline = new ChargebackPipeline({ registry, from: "2026-10-01", to: "2026-10-31" });
  const jobRows = lines.map((line, i) => {
    const assessed = assessEntry(line, { file: "entries", line: i + 1 }, context);
    if (assessed.kind !== "job") throw new Error("expected a job");
    pipeline.accept(assessed);
    return {
      ...bigQueryJson(jobCostRow(assessed.cost), JOB_COSTS),
      ingested_at: `2026-11-01T00:00:0${i}Z`,
    } as unknown as Record<string, SqlValue>;
  });
  const report = pipeline.report();
  const params = {
    from_date: { type: "DATE" as SqlType, value: "2026-10-01" },
    to_date: { type: "DATE" as SqlType, value: "2026-10-31" },
    granularity: { type: "STRING" as SqlType, value: "month" },
    departments: { type: PARAMS.departments as SqlType, value: registry.departments.map((d) => d.id) },
    free_ride_kinds: { type: PARAMS.free_ride_kinds as SqlType, value: [...FREE_RIDE_KINDS] },
    free_tier: { type: "STRING" as SqlType, value: registry.freeTier },
  };
  const tables = { job_costs: jobRows, storage_costs: [] };
  const departments = await zetasql.evaluate(read("reports/department_costs.sql"), TABLES, tables, params);
  const matrix = await zetasql.evaluate(read("reports/chargeback_matrix.sql"), TABLES, tables, params);
  return { report, storage: [], departments, matrix, jobRows };
}

describe("storage is priced with the same price book in SQL and TypeScript, in every location", () => {
  it("prices a non-US location at its own price, one without a price as unpriced, deleted tables by billing model", async () => {
    const sample = sampleOrganisation("month", "2026-09-01", "2026-10-31");
    // Test figures for europe-west1 (not Google's list prices), the second from October on.
    const registry = parseRegistry(
      `${readFileSync(`${ROOT}sample/acme/registry.yaml`, "utf8")}
prices:
  storage:
    - { location: europe-west1, from: "2020-01-01", active_logical: "0.023", long_term_logical: "0.016", active_physical: "0.046", long_term_physical: "0.023" }
    - { location: europe-west1, from: "2026-10-01", active_logical: "0.025", long_term_logical: "0.0125", active_physical: "0.05", long_term_physical: "0.025" }
`,
      "registry.yaml",
    );
    // The sample's tables spread over three locations: priced, priced with a change, and unpriced;
    // every fourth deleted, in both billing models (Google's forecast query in the TABLE_STORAGE
    // docs: logical bytes of deleted tables left out, physical ones counted).
    const places = ["US", "europe-west1", "asia-south1"];
    const snapshot = sample.snapshot.map((table, i) => ({
      ...table,
      location: places[i % 3] as string,
      billingModel: i % 2 === 0 ? ("PHYSICAL" as const) : ("LOGICAL" as const),
      deleted: i % 4 === 1 || i % 4 === 2,
    }));
    const day = "2026-10-01";
    expect(storagePriceOn(registry.priceBook, "europe-west1", day)?.price.activeLogical).toBe(25_000_000n);
    expect(snapshot.some((t) => t.deleted && t.billingModel === "LOGICAL")).toBe(true);
    expect(snapshot.some((t) => t.deleted && t.billingModel === "PHYSICAL")).toBe(true);
    const report = new ChargebackPipeline({
      registry,
      granularity: "month",
      from: "2026-09-01",
      to: "2026-10-31",
    }).report(snapshot);
    const { storage } = await sqlStorage(registry, snapshot, "month", "2026-09-01", "2026-10-31");
    expectSameStorage(report, storage);
    // the asia-south1 tables are counted as unpriced, in each month, and cost nothing
    const unpriced = snapshot.filter((table) => table.location === "asia-south1").length;
    expect(unpriced).toBeGreaterThan(0);
    const count = (rows: { unpriced_tables: bigint }[]) =>
      rows.reduce((sum, row) => sum + row.unpriced_tables, 0n);
    expect(count(report.storageCosts)).toBe(BigInt(unpriced * 2));
    expect(report.totals.unpricedStorageByLocation).toEqual({ "asia-south1": unpriced });
    // the europe-west1 tables cost what the europe-west1 prices say: without them, unpriced too
    const usOnly = parseRegistry(readFileSync(`${ROOT}sample/acme/registry.yaml`, "utf8"), "registry.yaml");
    const atUsPrices = new ChargebackPipeline({
      registry: usOnly,
      granularity: "month",
      from: "2026-09-01",
      to: "2026-10-31",
    }).report(snapshot);
    const total = (rows: { storage_usd: bigint }[]) => rows.reduce((sum, row) => sum + row.storage_usd, 0n);
    expect(total(report.storageCosts)).toBeGreaterThan(total(atUsPrices.storageCosts));
    expect(count(atUsPrices.storageCosts)).toBeGreaterThan(count(report.storageCosts));
  }, 60_000);
});
