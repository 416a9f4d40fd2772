// The scheduled report (buildChargebackReport): for a period, snapshot the storage of every
// registered project, then replace that period's rows of storage_costs, department_costs and
// chargeback_matrix with the SQL of sql/reports, run by BigQuery. Every value reaches SQL as a
// query parameter; project and region names, which must be identifiers there, are validated.
// Replacing (DELETE then INSERT in one transaction) makes a second run give the same tables.
import type { BigQuery, Query } from "@google-cloud/bigquery";
import { INVOICE_ALLOCATION_COLUMNS } from "../core/billing/rows.ts";
import { FREE_RIDE_KINDS } from "../core/findings.ts";
import { informationSchema, quotedTable } from "../core/identifiers.ts";
import { DayClock } from "../core/period.ts";
import { canonicalReservation } from "../core/pricebook.ts";
import { projectDepartment, type Registry } from "../core/registry.ts";
import { contentVersion, priceBookRows } from "../core/registry-tables.ts";
import { CHARGEBACK_MATRIX, columnsOf, DEPARTMENT_COSTS, STORAGE_COSTS } from "../core/rows.ts";
import { readSql } from "../io/sql-files.ts";
import type { CloudConfig } from "./config.ts";
import { type ReportPeriod, ReportRequestError, reportPeriod } from "./report-period.ts";

const reportSql = (name: string) => readSql(`reports/${name}`);

export { informationSchema, UnsafeIdentifierError } from "../core/identifiers.ts";

const PERIOD_START = "PARSE_DATE('%Y-%m-%d', IF(LENGTH(period) = 7, CONCAT(period, '-01'), period))";

/** DELETE the period's rows, INSERT the report's: one transaction, so readers never see half. */
export function replaceScript(table: string, columns: readonly string[], query: string): string {
  return [
    "BEGIN TRANSACTION;",
    `DELETE FROM ${table} WHERE granularity = @granularity AND period_start BETWEEN IF(@granularity = 'month', DATE_TRUNC(@from_date, MONTH), @from_date) AND @to_date;`,
    `INSERT INTO ${table} (period_start, granularity, ${columns.join(", ")})`,
    `SELECT ${PERIOD_START}, @granularity, ${columns.join(", ")} FROM (\n${query}\n);`,
    "COMMIT TRANSACTION;",
  ].join("\n");
}

/** The registry's price book under its content hash: writing the same prices again changes nothing. */
const PRICE_BOOK_SCRIPT = [
  "BEGIN TRANSACTION;",
  "DELETE FROM price_book WHERE registry_version = @registry_version;",
  "INSERT INTO price_book (registry_version, item, location, from_date, nanos, source)",
  "SELECT @registry_version, item, location, from_date, nanos, source FROM UNNEST(@price_book);",
  "COMMIT TRANSACTION;",
].join("\n");

const SNAPSHOT_COLUMNS = `project_id, table_schema, table_name, storage_billing_model, active_logical_bytes,
  long_term_logical_bytes, active_physical_bytes, long_term_physical_bytes, time_travel_physical_bytes,
  fail_safe_physical_bytes, deleted`;

/**
 * One project's tables and their bytes, read in `location` (its INFORMATION_SCHEMA is there only).
 * Deleted tables too: with physical billing their time-travel and fail-safe bytes still bill
 * (storage_costs.sql prices a deleted table by its dataset's billing model).
 */
export function storageSelect(project: string, location: string): string {
  const schema = informationSchema(project, location);
  return `SELECT t.project_id, t.table_schema, t.table_name,
  COALESCE(UPPER(REPLACE(o.option_value, '"', '')), 'LOGICAL') AS storage_billing_model,
  t.active_logical_bytes, t.long_term_logical_bytes, t.active_physical_bytes,
  t.long_term_physical_bytes, t.time_travel_physical_bytes, t.fail_safe_physical_bytes, t.deleted
FROM ${schema}.TABLE_STORAGE AS t
LEFT JOIN ${schema}.SCHEMATA_OPTIONS AS o
  ON o.schema_name = t.table_schema AND o.option_name = 'storage_billing_model'`;
}

/** The snapshot of a project in the dataset's own location: read and written by one job. */
export function snapshotStatement(project: string, location: string): string {
  return `INSERT INTO table_storage_snapshots (snapshot_date, location, ${SNAPSHOT_COLUMNS})
SELECT @snapshot_date, @location, ${SNAPSHOT_COLUMNS} FROM (
${storageSelect(project, location)}
)`;
}

/** Rows read in another location, written in the dataset's: a job cannot read and write in two. */
export const SNAPSHOT_ROWS_INSERT = `INSERT INTO table_storage_snapshots (snapshot_date, location, ${SNAPSHOT_COLUMNS})
SELECT @snapshot_date, @location, ${SNAPSHOT_COLUMNS} FROM UNNEST(@rows)`;

const SNAPSHOT_ROW_TYPE = {
  project_id: "STRING",
  table_schema: "STRING",
  table_name: "STRING",
  storage_billing_model: "STRING",
  active_logical_bytes: "INT64",
  long_term_logical_bytes: "INT64",
  active_physical_bytes: "INT64",
  long_term_physical_bytes: "INT64",
  time_travel_physical_bytes: "INT64",
  fail_safe_physical_bytes: "INT64",
  deleted: "BOOL",
} as const;
/** Rows per INSERT of copied snapshot rows: well inside BigQuery's request size limit. */
const ROWS_PER_INSERT = 2000;

/** A row read back from TABLE_STORAGE, its INT64 bytes kept exact as decimal strings. */
function snapshotRow(row: Record<string, unknown>): Record<string, unknown> {
  const copy: Record<string, unknown> = {};
  for (const column of Object.keys(SNAPSHOT_ROW_TYPE)) {
    const value = row[column];
    copy[column] =
      value !== null && typeof value === "object" && "value" in value ? String(value.value) : value;
  }
  return copy;
}

export interface ReportDependencies {
  config: CloudConfig;
  registry: Registry;
  bigquery: BigQuery;
  now?: Date;
}

export interface ReportResult {
  status: number;
  body: Record<string, unknown>;
}

export async function buildReport(period: ReportPeriod, deps: ReportDependencies, snapshotDate: string) {
  const { registry, bigquery, config } = deps;
  const defaultDataset = { projectId: config.projectId, datasetId: config.dataset };
  // Every job names its location: BigQuery runs a query in one, and refuses one touching two.
  const run = (
    query: string,
    params: Record<string, unknown>,
    types: Query["types"],
    options: { location: string; wrapIntegers?: boolean },
  ) => bigquery.query({ query, params, types, defaultDataset, ...options });
  // DATE parameters must be BigQueryDate values: the client drops a plain string given type DATE.
  const date = (day: string) => bigquery.date(day);
  const base = { from_date: date(period.from), to_date: date(period.to), granularity: period.granularity };
  const baseTypes = { from_date: "DATE", to_date: "DATE", granularity: "STRING" };

  // 1. Storage snapshot of every registered project in each location where the organisation keeps
  // data (configuration), each job in one location: the dataset's own with INSERT ... SELECT,
  // any other read there and its rows written in the dataset's location.
  const projects = [...registry.projectIndex.keys()].sort();
  const inDataset = { location: config.location };
  await run(
    "DELETE FROM table_storage_snapshots WHERE snapshot_date = @snapshot_date",
    { snapshot_date: date(snapshotDate) },
    { snapshot_date: "DATE" },
    inDataset,
  );
  const snapshotParams = (location: string) => ({
    snapshot_date: date(snapshotDate),
    location: location.toUpperCase(),
  });
  const snapshotTypes = { snapshot_date: "DATE", location: "STRING" };
  for (const location of config.storageLocations) {
    const local = location.toLowerCase() === config.location.toLowerCase();
    for (const project of projects) {
      if (local) {
        await run(snapshotStatement(project, location), snapshotParams(location), snapshotTypes, inDataset);
        continue;
      }
      const [rows] = await run(storageSelect(project, location), {}, {}, { location, wrapIntegers: true });
      for (let at = 0; at < rows.length; at += ROWS_PER_INSERT) {
        await run(
          SNAPSHOT_ROWS_INSERT,
          {
            ...snapshotParams(location),
            rows: rows
              .slice(at, at + ROWS_PER_INSERT)
              .map((row: Record<string, unknown>) => snapshotRow(row)),
          },
          { ...snapshotTypes, rows: [SNAPSHOT_ROW_TYPE] },
          inDataset,
        );
      }
    }
  }

  // 2. The registry's price book as data, then storage costs priced with it in each table's location.
  const prices = priceBookRows(registry.priceBook);
  const priceVersion = `prices-${contentVersion(prices)}`;
  await run(
    PRICE_BOOK_SCRIPT,
    {
      registry_version: priceVersion,
      price_book: prices.map((row) => ({
        ...row,
        from_date: date(String(row.from_date)),
        nanos: String(row.nanos),
      })),
    },
    {
      registry_version: "STRING",
      price_book: [
        { item: "STRING", location: "STRING", from_date: "DATE", nanos: "INT64", source: "STRING" },
      ],
    },
    inDataset,
  );
  const projectDepartments = projects.map((project) => ({
    project,
    department: projectDepartment(registry, project).department,
  }));
  await run(
    replaceScript("storage_costs", columnsOf(STORAGE_COSTS), reportSql("storage_costs.sql")),
    {
      ...base,
      snapshot_date: date(snapshotDate),
      registry_version: priceVersion,
      project_departments: projectDepartments,
    },
    {
      ...baseTypes,
      snapshot_date: "DATE",
      registry_version: "STRING",
      project_departments: [{ project: "STRING", department: "STRING" }],
    },
    inDataset,
  );

  // 3. Department costs and the chargeback matrix.
  await run(
    replaceScript("department_costs", columnsOf(DEPARTMENT_COSTS), reportSql("department_costs.sql")),
    {
      ...base,
      departments: registry.departments.map((department) => department.id),
      free_ride_kinds: [...FREE_RIDE_KINDS],
      free_tier: registry.freeTier,
    },
    { ...baseTypes, departments: ["STRING"], free_ride_kinds: ["STRING"], free_tier: "STRING" },
    inDataset,
  );
  await run(
    replaceScript("chargeback_matrix", columnsOf(CHARGEBACK_MATRIX), reportSql("chargeback_matrix.sql")),
    { ...base, free_tier: registry.freeTier },
    { ...baseTypes, free_tier: "STRING" },
    inDataset,
  );

  // 4. The Cloud Billing export shared out to departments (sql/invoice), when one is configured.
  if (config.billingExport) {
    await run(
      invoiceAllocationScript(config.billingExport),
      invoiceParams(registry, projectDepartments, config, base),
      {
        ...baseTypes,
        time_zone: "STRING",
        project_departments: [{ project: "STRING", department: "STRING" }],
        reservations: [
          { name: "STRING", admin_project: "STRING", location: "STRING", idle_policy: "STRING" },
        ],
      },
      inDataset,
    );
  }
}

/**
 * Replaces the period's invoice_allocation rows with sql/invoice/invoice_allocation.sql over the
 * configured export table: the one name that reaches the SQL text, validated and quoted.
 */
export function invoiceAllocationScript(billingExport: string): string {
  const query = readSql("invoice/invoice_allocation.sql").replace(
    /\bFROM billing_export\b/,
    `FROM ${quotedTable(billingExport)}`,
  );
  const columns = INVOICE_ALLOCATION_COLUMNS.join(", ");
  return [
    "BEGIN TRANSACTION;",
    "DELETE FROM invoice_allocation WHERE day BETWEEN @from_date AND @to_date;",
    `INSERT INTO invoice_allocation (${columns})`,
    `SELECT ${columns} FROM (\n${query}\n);`,
    "COMMIT TRANSACTION;",
  ].join("\n");
}

/** The registry's projects and reservations (canonical names, idle policy) as query parameters. */
function invoiceParams(
  registry: Registry,
  projectDepartments: { project: string; department: string }[],
  config: CloudConfig,
  base: Record<string, unknown>,
): Record<string, unknown> {
  return {
    ...base,
    time_zone: config.timeZone,
    project_departments: projectDepartments,
    reservations: registry.reservations.map((reservation) => {
      const name = canonicalReservation(reservation.name);
      const [, adminProject = "", location = ""] =
        /^projects\/([^/]+)\/locations\/([^/]+)\//.exec(name) ?? [];
      return { name, admin_project: adminProject, location, idle_policy: reservation.idle };
    }),
  };
}

/** The HTTP function's logic: 400 for a bad request, 200 with what was built. */
export async function handleReportRequest(body: unknown, deps: ReportDependencies): Promise<ReportResult> {
  const now = deps.now ?? new Date();
  let period: ReportPeriod;
  try {
    period = reportPeriod(body, now, deps.config.timeZone);
  } catch (error) {
    if (error instanceof ReportRequestError) return { status: 400, body: { error: error.message } };
    throw error;
  }
  const snapshotDate = new DayClock(deps.config.timeZone).dayOf(now.getTime());
  await buildReport(period, deps, snapshotDate);
  const result: Record<string, unknown> = {
    ...period,
    snapshot_date: snapshotDate,
    tables: [
      "storage_costs",
      "department_costs",
      "chargeback_matrix",
      ...(deps.config.billingExport ? ["invoice_allocation"] : []),
    ],
  };
  if (deps.config.reportBucket) {
    // report.html of the period, read back from the tables just written (sql/page), to Cloud Storage.
    const { readReport, uploadPage } = await import("./report-page.ts");
    const defaultDataset = { projectId: deps.config.projectId, datasetId: deps.config.dataset };
    const { html } = await readReport(period, deps.config.timeZone, async (query, params) => {
      const [rows] = await deps.bigquery.query({
        query,
        params: {
          from_date: deps.bigquery.date(params.from_date as string),
          to_date: deps.bigquery.date(params.to_date as string),
          granularity: params.granularity,
        },
        types: { from_date: "DATE", to_date: "DATE", granularity: "STRING" },
        defaultDataset,
        location: deps.config.location,
        wrapIntegers: true,
      });
      return rows as Record<string, unknown>[];
    });
    result.report_html = await uploadPage(
      html,
      deps.config.reportBucket,
      period,
      deps.config.storageEndpoint,
    );
  }
  return { status: 200, body: result };
}
