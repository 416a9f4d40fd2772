// The SQL in sql/, checked by ZetaSQL (BigQuery's own front end): every statement analyses, and
// the report queries, evaluated on the sample organisation's job rows, give exactly the numbers
// of the TypeScript aggregation, to the nano-dollar.
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { toNumericString } from "../src/core/money.ts";
import type { ChargebackReport } from "../src/core/pipeline.ts";
import { storagePriceOn } from "../src/core/pricebook.ts";
import { projectDepartment } from "../src/core/registry.ts";
import type { PeriodGranularity } from "../src/core/types.ts";
import { sampleOrganisation, storageRows } from "./support/sample-rows.ts";
import { ddlTables, type SqlType, ZetaSql } from "./support/zetasql.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const SQL = `${ROOT}sql/`;
const read = (path: string) => readFileSync(`${SQL}${path}`, "utf8");
const TABLES = ddlTables(`${SQL}ddl`);

const PARAMS: Record<string, SqlType> = {
  from_date: "DATE",
  to_date: "DATE",
  granularity: "STRING",
  departments: { array: "STRING" },
  snapshot_date: "DATE",
  project_departments: {
    array: {
      struct: [
        { name: "project", type: "STRING" },
        { name: "department", type: "STRING" },
      ],
    },
  },
  p_active_logical: "INT64",
  p_long_term_logical: "INT64",
  p_active_physical: "INT64",
  p_long_term_physical: "INT64",
};

let zetasql: ZetaSql;

beforeAll(async () => {
  zetasql = await ZetaSql.start();
}, 60_000);

afterAll(() => zetasql?.stop());

describe("every SQL file analyses in BigQuery's dialect", () => {
  for (const folder of ["ddl", "reports", "page"]) {
    for (const file of readdirSync(`${SQL}${folder}`).filter((name) => name.endsWith(".sql"))) {
      it(`${folder}/${file}`, async () => {
        await expect(zetasql.analyze(read(`${folder}/${file}`), TABLES, PARAMS)).resolves.toBeUndefined();
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

async function sqlReports(granularity: PeriodGranularity, from: string, to: string) {
  const { registry, jobRows, snapshot, report } = sampleOrganisation(granularity, from, to);
  const prices = storagePriceOn(registry.priceBook, "US", from);
  if (!prices) throw new Error("no US storage price");
  const params = {
    from_date: { type: PARAMS.from_date as SqlType, value: from },
    to_date: { type: PARAMS.to_date as SqlType, value: to },
    granularity: { type: PARAMS.granularity as SqlType, value: granularity },
    departments: { type: PARAMS.departments as SqlType, value: registry.departments.map((d) => d.id) },
    snapshot_date: { type: PARAMS.snapshot_date as SqlType, value: "2026-11-01" },
    project_departments: {
      type: PARAMS.project_departments as SqlType,
      value: [...new Set(snapshot.map((t) => t.projectId))].map((project) => ({
        project,
        department: projectDepartment(registry, project).department,
      })),
    },
    p_active_logical: { type: "INT64" as SqlType, value: prices.price.activeLogical },
    p_long_term_logical: { type: "INT64" as SqlType, value: prices.price.longTermLogical },
    p_active_physical: { type: "INT64" as SqlType, value: prices.price.activePhysical },
    p_long_term_physical: { type: "INT64" as SqlType, value: prices.price.longTermPhysical },
  };
  const storage = await zetasql.evaluate(
    read("reports/storage_costs.sql"),
    TABLES,
    { table_storage_snapshots: storageRows(snapshot) },
    params,
  );
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

function expectSameReports(report: ChargebackReport, sql: Awaited<ReturnType<typeof sqlReports>>) {
  expect(sql.storage).toEqual(
    report.storageCosts.map((row) => ({
      period: row.period,
      department: row.department,
      project_id: row.projectId,
      dataset: row.dataset,
      billing_model: row.billingModel,
      storage_usd: toNumericString(row.storage),
    })),
  );
  expect(sql.departments).toEqual(
    report.departmentCosts.map((row) => ({
      period: row.period,
      department: row.department,
      compute_paid_usd: toNumericString(row.computePaid),
      compute_consumed_usd: toNumericString(row.computeConsumed),
      storage_usd: toNumericString(row.storage),
      free_rides_given_usd: toNumericString(row.freeRidesGiven),
      free_rides_taken_usd: toNumericString(row.freeRidesTaken),
    })),
  );
  expect(sql.matrix).toEqual(
    report.chargebackMatrix.map((row) => ({
      period: row.period,
      payer_department: row.payerDepartment,
      consumer_department: row.consumerDepartment,
      jobs: BigInt(row.jobs),
      compute_cost_usd: toNumericString(row.computeCost),
    })),
  );
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
