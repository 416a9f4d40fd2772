// The invoice shared out in SQL (sql/invoice), evaluated by ZetaSQL on the sample month's billing
// export and job rows: every line, every department's share and every reconciliation amount equal
// to the TypeScript engine's, to the nano-unit, in USD and in JPY, for both idle policies.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CloudConfigError, readCloudConfig } from "../src/cloud/config.ts";
import { buildReport, invoiceAllocationScript } from "../src/cloud/report.ts";
import { formatNanos, minorDigits, nanosPerMinorUnit } from "../src/core/billing/amount.ts";
import { BillingJobUsage } from "../src/core/billing/job-usage.ts";
import { type Reconciliation, reconcile } from "../src/core/billing/reconcile.ts";
import { INVOICE_ALLOCATION_COLUMNS, invoiceAllocationRecord } from "../src/core/billing/rows.ts";
import { DayClock } from "../src/core/period.ts";
import { canonicalReservation } from "../src/core/pricebook.ts";
import { parseRegistry, type Registry } from "../src/core/registry.ts";
import { parseBillingExport, parseBqTimestamp } from "../src/io/billing-export.ts";
import { readSql } from "../src/io/sql-files.ts";
import { sampleOrganisation } from "./support/sample-rows.ts";
import { ddlTables, type SqlType, type SqlValue, type TableSchema, ZetaSql } from "./support/zetasql.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const SAMPLE = join(ROOT, "sample/acme");
const read = (path: string) => readSql(path);

/** The standard usage cost table's columns the SQL reads (Google's schema, FLOAT64 amounts). */
const BILLING_EXPORT: TableSchema = {
  name: "billing_export",
  columns: [
    { name: "billing_account_id", type: "STRING" },
    {
      name: "service",
      type: {
        struct: [
          { name: "id", type: "STRING" },
          { name: "description", type: "STRING" },
        ],
      },
    },
    {
      name: "sku",
      type: {
        struct: [
          { name: "id", type: "STRING" },
          { name: "description", type: "STRING" },
        ],
      },
    },
    { name: "usage_start_time", type: "TIMESTAMP" },
    { name: "usage_end_time", type: "TIMESTAMP" },
    {
      name: "project",
      type: {
        struct: [
          { name: "id", type: "STRING" },
          { name: "name", type: "STRING" },
        ],
      },
    },
    {
      name: "location",
      type: {
        struct: [
          { name: "location", type: "STRING" },
          { name: "region", type: "STRING" },
        ],
      },
    },
    { name: "cost", type: "FLOAT64" },
    { name: "currency", type: "STRING" },
    { name: "currency_conversion_rate", type: "FLOAT64" },
    {
      name: "usage",
      type: {
        struct: [
          { name: "amount", type: "FLOAT64" },
          { name: "unit", type: "STRING" },
          { name: "amount_in_pricing_units", type: "FLOAT64" },
          { name: "pricing_unit", type: "STRING" },
        ],
      },
    },
    {
      name: "credits",
      type: {
        array: {
          struct: [
            { name: "name", type: "STRING" },
            { name: "amount", type: "FLOAT64" },
            { name: "full_name", type: "STRING" },
            { name: "id", type: "STRING" },
            { name: "type", type: "STRING" },
          ],
        },
      },
    },
    { name: "invoice", type: { struct: [{ name: "month", type: "STRING" }] } },
    { name: "cost_type", type: "STRING" },
    { name: "cost_at_list", type: "FLOAT64" },
  ],
};
const TABLES = [...ddlTables(join(ROOT, "sql/ddl")), BILLING_EXPORT];

const PARAMS: Record<string, SqlType> = {
  from_date: "DATE",
  to_date: "DATE",
  granularity: "STRING",
  time_zone: "STRING",
  project_departments: {
    array: {
      struct: [
        { name: "project", type: "STRING" },
        { name: "department", type: "STRING" },
      ],
    },
  },
  reservations: {
    array: {
      struct: [
        { name: "name", type: "STRING" },
        { name: "admin_project", type: "STRING" },
        { name: "location", type: "STRING" },
        { name: "idle_policy", type: "STRING" },
      ],
    },
  },
};

let zetasql: ZetaSql;
beforeAll(async () => {
  zetasql = await ZetaSql.start();
}, 60_000);
afterAll(() => zetasql?.stop());

const FILES = [
  "invoice/invoice_allocation.sql",
  "invoice/department_invoiced.sql",
  "invoice/reconciliation.sql",
];

describe("the invoice SQL analyses in BigQuery's dialect", () => {
  for (const file of FILES) {
    it(file, async () => {
      await expect(zetasql.analyze(read(file), TABLES, PARAMS)).resolves.toBeUndefined();
    });
  }
});

/** The export file's rows as the table holds them: nested records, FLOAT64 amounts, timestamps. */
function exportRows(file: string): Record<string, SqlValue>[] {
  const text = readFileSync(join(SAMPLE, file), "utf8");
  const records: Record<string, unknown>[] = file.endsWith(".json")
    ? JSON.parse(text)
    : text
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line));
  const float = (value: unknown) => (value === null || value === undefined ? null : Number(value));
  const time = (value: unknown) => new Date(parseBqTimestamp(value) as number).toISOString();
  return records.map((r) => {
    const usage = r.usage as Record<string, unknown>;
    const location = r.location as Record<string, unknown>;
    return {
      billing_account_id: r.billing_account_id as string,
      service: r.service as SqlValue,
      sku: r.sku as SqlValue,
      usage_start_time: time(r.usage_start_time),
      usage_end_time: time(r.usage_end_time),
      project: (r.project
        ? { id: (r.project as Record<string, string>).id, name: (r.project as Record<string, string>).name }
        : null) as SqlValue,
      location: {
        location: (location?.location as string) ?? null,
        region: (location?.region as string) ?? null,
      },
      cost: float(r.cost),
      currency: r.currency as string,
      currency_conversion_rate: float(r.currency_conversion_rate),
      usage: {
        amount: float(usage.amount),
        unit: usage.unit as string,
        amount_in_pricing_units: float(usage.amount_in_pricing_units),
        pricing_unit: usage.pricing_unit as string,
      },
      credits: (r.credits as Record<string, unknown>[]).map((c) => ({
        ...c,
        amount: float(c.amount),
      })) as SqlValue,
      invoice: r.invoice as SqlValue,
      cost_type: r.cost_type as string,
      cost_at_list: float(r.cost_at_list),
    };
  });
}

function reservationParams(registry: Registry) {
  return registry.reservations.map((reservation) => {
    const name = canonicalReservation(reservation.name);
    const [, adminProject = "", location = ""] = /^projects\/([^/]+)\/locations\/([^/]+)\//.exec(name) ?? [];
    return { name, admin_project: adminProject, location, idle_policy: reservation.idle };
  });
}

async function bothEngines(file: string, registryText: string) {
  const from = "2026-10-01";
  const to = "2026-10-31";
  const sample = sampleOrganisation("month", from, to);
  const registry = parseRegistry(registryText, "registry.yaml");
  // TypeScript: the jobs the pipeline counted, the export as the CLI reads it
  const usage = new BillingJobUsage();
  for (const job of sample.countedJobs) usage.add(job);
  const ts: Reconciliation = reconcile({
    rows: parseBillingExport(readFileSync(join(SAMPLE, file), "utf8"), file),
    usage: usage.all(),
    registry,
    clock: new DayClock(),
    granularity: "month",
    from,
    to,
  });
  const params = {
    from_date: { type: PARAMS.from_date as SqlType, value: from },
    to_date: { type: PARAMS.to_date as SqlType, value: to },
    granularity: { type: PARAMS.granularity as SqlType, value: "month" },
    time_zone: { type: PARAMS.time_zone as SqlType, value: "America/Los_Angeles" },
    project_departments: {
      type: PARAMS.project_departments as SqlType,
      value: [...registry.projectIndex].map(([project, owner]) => ({
        project,
        department: owner.department,
      })),
    },
    reservations: { type: PARAMS.reservations as SqlType, value: reservationParams(registry) },
  };
  const lines = await zetasql.evaluate(
    read("invoice/invoice_allocation.sql"),
    TABLES,
    { billing_export: exportRows(file), job_costs: sample.jobRows },
    params,
  );
  const small = { from_date: params.from_date, to_date: params.to_date };
  const departments = await zetasql.evaluate(
    read("invoice/department_invoiced.sql"),
    TABLES,
    { invoice_allocation: lines },
    small,
  );
  const reconciliation = await zetasql.evaluate(
    read("invoice/reconciliation.sql"),
    TABLES,
    { invoice_allocation: lines },
    small,
  );
  return { ts, lines, departments, reconciliation };
}

const numeric = (nanos: bigint) => formatNanos(nanos, 9);

for (const [label, file] of [
  ["USD", "billing_export.json"],
  ["JPY", "billing_export_jpy.ndjson"],
] as const) {
  for (const idle of ["pro_rata", "admin_department"] as const) {
    it(`${label}, idle ${idle}: SQL = TypeScript, line by line, per department and per reconciliation row`, async () => {
      const sample = readFileSync(join(SAMPLE, "registry.yaml"), "utf8");
      // ops runs on platform's reservation; moved to sales so that the idle policy matters
      const registryText = sample
        .replace("principals: [ops@acme.example]", "principals: []")
        .replace(
          "principals: [erin@acme.example, frank@acme.example]",
          "principals: [erin@acme.example, frank@acme.example, ops@acme.example]",
        )
        .replace("edition: enterprise }", `edition: enterprise, idle: ${idle} }`);
      const { ts, lines, departments, reconciliation } = await bothEngines(file, registryText);
      expect(lines.length).toBeGreaterThan(250);
      const currency = ts.currency;
      expect(lines).toEqual(ts.lines.map((line) => invoiceAllocationRecord(line, currency)));
      expect(departments).toEqual(
        ts.departments.map((d) => ({
          period: d.period,
          department: d.department,
          invoiced_currency: currency,
          invoiced_net: numeric(d.netMinor * nanosPerMinorUnit(currency)),
          invoiced_list: numeric(d.listMinor * nanosPerMinorUnit(currency)),
        })),
      );
      expect(reconciliation).toEqual(
        ts.rows
          .filter(
            (row) =>
              row.net !== 0n ||
              row.list !== 0n ||
              ts.lines.some(
                (l) => l.group.billingProject === row.billingProject && l.group.skuGroup === row.skuGroup,
              ),
          )
          .map((row) => ({
            period: row.period,
            billing_project: row.billingProject,
            sku_group: row.skuGroup,
            currency,
            list_cost: numeric(row.list),
            net_cost: numeric(row.net),
            allocated_to_jobs: numeric(row.allocatedToJobs),
            allocated_to_project_owner: numeric(row.allocatedToProjectOwner),
            idle_to_admin: numeric(row.idleToAdmin),
            unattributed: numeric(row.unattributed),
            rounding: numeric(row.rounding),
            idle_cost: numeric(row.idle),
          })),
      );
      expect(minorDigits(currency)).toBe(label === "JPY" ? 0 : 2);
    }, 120_000);
  }
}

it("one table shape: invoice_allocation's columns are the DDL's", () => {
  const ddl = ddlTables(join(ROOT, "sql/ddl")).find((t) => t.name === "invoice_allocation");
  expect(ddl?.columns.map((c) => c.name)).toEqual([...INVOICE_ALLOCATION_COLUMNS]);
});

describe("the scheduled report runs the invoice SQL over the configured export table", () => {
  const TABLE = "billing-admin.billing.gcp_billing_export_v1_01A2B3_C4D5E6_F7A8B9";

  it("names the table only as a validated, quoted identifier and replaces the period's rows in one transaction", async () => {
    const script = invoiceAllocationScript(TABLE);
    expect(script).toContain("FROM `billing-admin`.`billing`.`gcp_billing_export_v1_01A2B3_C4D5E6_F7A8B9`");
    expect(script).not.toMatch(/\bFROM billing_export\b/);
    expect(
      script.startsWith(
        "BEGIN TRANSACTION;\nDELETE FROM invoice_allocation WHERE day BETWEEN @from_date AND @to_date;\nINSERT INTO invoice_allocation (",
      ),
    ).toBe(true);
    expect(script.endsWith(");\nCOMMIT TRANSACTION;")).toBe(true);
    // The INSERT analyses against the DDL (with the export under the name the catalog knows it by).
    const insert = script
      .slice(script.indexOf("INSERT INTO"), script.lastIndexOf(";\nCOMMIT"))
      .replace("`billing-admin`.`billing`.`gcp_billing_export_v1_01A2B3_C4D5E6_F7A8B9`", "billing_export");
    await expect(zetasql.analyze(insert, TABLES, PARAMS)).resolves.toBeUndefined();
    await expect(
      zetasql.analyze(
        read("invoice/invoice_allocation.sql").replace("FROM billing_export", "FROM billing_exports"),
        TABLES,
        PARAMS,
      ),
    ).rejects.toThrow(/billing_exports/);
  });

  it("refuses a configured table that is not PROJECT.DATASET.TABLE", () => {
    for (const bad of [
      "billing.gcp_export",
      "p.d.t`; DROP TABLE x; --",
      "Bad_Project.d.t",
      "a-project-1.d.t-x",
    ])
      expect(() =>
        readCloudConfig({
          GOOGLE_CLOUD_PROJECT: "acme-chargeback",
          BQ_CHARGEBACK_REGISTRY: "r.yaml",
          BQ_CHARGEBACK_BILLING_EXPORT: bad,
        }),
      ).toThrow(CloudConfigError);
    expect(
      readCloudConfig({
        GOOGLE_CLOUD_PROJECT: "acme-chargeback",
        BQ_CHARGEBACK_REGISTRY: "r.yaml",
        BQ_CHARGEBACK_BILLING_EXPORT: TABLE,
      }).billingExport,
    ).toBe(TABLE);
  });

  it("buildReport sends it with the registry's projects and reservations as parameters", async () => {
    const sent: { query: string; params: Record<string, unknown> }[] = [];
    const bigquery = {
      query: async (request: { query: string; params: Record<string, unknown> }) => {
        sent.push(request);
        return [[]];
      },
      date: (day: string) => ({ value: day }),
    };
    const registry = parseRegistry(readFileSync(join(SAMPLE, "registry.yaml"), "utf8"), "registry.yaml");
    const config = {
      projectId: "acme-chargeback",
      dataset: "bq_chargeback",
      registry: "r.yaml",
      timeZone: "America/Los_Angeles",
      location: "US",
      storageLocations: ["US"],
      billingExport: TABLE,
    };
    await buildReport(
      { from: "2026-10-01", to: "2026-10-31", granularity: "month" },
      { config, registry, bigquery: bigquery as never },
      "2026-11-01",
    );
    const invoice = sent.find((request) => request.query.includes("INSERT INTO invoice_allocation"));
    expect(invoice?.params.time_zone).toBe("America/Los_Angeles");
    expect(invoice?.params.reservations).toEqual([
      {
        name: "projects/acme-platform/locations/us/reservations/prod",
        admin_project: "acme-platform",
        location: "us",
        idle_policy: "pro_rata",
      },
    ]);
    expect(invoice?.params.project_departments).toContainEqual({
      project: "acme-etl",
      department: "platform",
    });
    const without = sent.length;
    sent.length = 0;
    await buildReport(
      { from: "2026-10-01", to: "2026-10-31", granularity: "month" },
      { config: { ...config, billingExport: undefined }, registry, bigquery: bigquery as never },
      "2026-11-01",
    );
    expect(sent.length).toBe(without - 1);
  });
});
