// One record per output table: each record's schema (src/core/rows.ts), with the columns BigQuery
// adds (when a row arrived, a report's partition), is its table's DDL in sql/ddl, names, order
// and types; and each output encodes the same record.
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import {
  bigQueryJson,
  csvCells,
  FINDINGS,
  findingOfRow,
  findingRow,
  fromBigQuery,
  JOB_COSTS,
  jobCostRow,
  TABLE_STAMPS,
  TABLES,
} from "../src/core/rows.ts";
import type { Finding } from "../src/core/types.ts";
import { jobCost } from "./support/jobs.ts";
import { sampleOrganisation } from "./support/sample-rows.ts";
import { ddlTables } from "./support/zetasql.ts";

const DDL = ddlTables(fileURLToPath(new URL("../sql/ddl", import.meta.url)));

const ddlType = (type: unknown) =>
  typeof type === "string" ? type : `ARRAY<${(type as { array: string }).array}>`;

describe("each output table's record is its DDL", () => {
  for (const [table, schema] of Object.entries(TABLES)) {
    it(table, () => {
      const ddl = DDL.find((candidate) => candidate.name === table);
      expect(ddl, `sql/ddl has no table ${table}`).toBeDefined();
      const stamps = TABLE_STAMPS[table as keyof typeof TABLE_STAMPS];
      const declared = Object.entries({ ...schema, ...stamps }).sort(([a], [b]) => (a < b ? -1 : 1));
      const columns = (ddl?.columns ?? [])
        .map((column) => [column.name, ddlType(column.type)])
        .sort(([a], [b]) => ((a as string) < (b as string) ? -1 : 1));
      expect(declared).toEqual(columns);
      // the record's own columns keep the table's order (CSV headers read like the table)
      const own = (ddl?.columns ?? []).map((column) => column.name).filter((name) => name in schema);
      expect(Object.keys(schema)).toEqual(own);
    });
  }

  it("knows every output table sql/ddl creates", () => {
    // inputs of the reports, not outputs; the IAM audit's table (its record: src/core/iam/rows.ts);
    // the invoice's tables (their columns: src/core/billing/rows.ts, held to the DDL by billing tests)
    const notHere = [
      "table_storage_snapshots",
      "price_book",
      "iam_findings",
      "invoice_allocation",
      "reconciliation",
      "coverage",
    ];
    expect(DDL.map((table) => table.name).sort()).toEqual([...Object.keys(TABLES), ...notHere].sort());
  });
});

const finding: Finding = {
  kind: "external_free_ride",
  severity: "critical",
  jobId: "acme-fin-bi:US.bquxjob_1",
  billingProject: "acme-fin-bi",
  principal: "pat@partner-x.example",
  dataProjects: ["px-data", "acme-fin-lake"],
  cost: 3_125_000_001n,
  remediation: "remove roles/bigquery.jobUser",
  time: "2026-10-14T18:00:00Z",
  usageDate: "2026-10-14",
};

describe("one record, every output", () => {
  it("gives every finding of the sample its billing day, a DATE as the findings table holds", () => {
    const { report } = sampleOrganisation("month", "2026-10-01", "2026-10-31");
    expect(report.findings.length).toBeGreaterThan(50);
    for (const finding of report.findings) expect(finding.usageDate).toMatch(/^2026-10-\d{2}$/);
  });

  it("writes money exactly to BigQuery, to 6 decimals in CSV, and reads it back unchanged", () => {
    const row = findingRow(finding);
    const json = bigQueryJson(row, FINDINGS);
    expect(json).toMatchObject({ cost_usd: "3.125000001", finding_time: "2026-10-14T18:00:00Z" });
    expect(csvCells(row, FINDINGS)).toContain("3.125000");
    expect(csvCells(row, FINDINGS)).toContain("px-data;acme-fin-lake");
    expect(findingOfRow(fromBigQuery(json, FINDINGS))).toEqual(finding);
  });

  it("writes INT64 as text to BigQuery (no float on the way) and NULL as null", () => {
    const cost = jobCost({ cost: 7n, payer: "finance", consumer: "finance" });
    cost.job.billedBytes = 2n ** 60n + 1n;
    const json = bigQueryJson(jobCostRow(cost), JOB_COSTS);
    expect(json).toMatchObject({ billed_bytes: "1152921504606846977", compute_cost_usd: "0.000000007" });
    expect(json.error_code).toBeNull();
    expect(fromBigQuery(json, JOB_COSTS)).toEqual({ ...jobCostRow(cost), parent_job_id: null });
  });
});
