// The scheduled report's report.html: buildChargebackReport on the functions-framework server
// reads the period back with sql/page/*.sql (answered here by ZetaSQL over the sample
// organisation's rows, through a local endpoint speaking the jobs.query wire format) and writes
// the page to a local endpoint speaking the Cloud Storage upload API. Its totals equal the
// TypeScript engine's to the cent.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatUsd } from "../src/core/money.ts";
import { bigQueryJson, CHARGEBACK_MATRIX, DEPARTMENT_COSTS, FINDINGS, findingRow } from "../src/core/rows.ts";
import { FakeBigQuery } from "./support/fake-bigquery.ts";
import { FunctionServer } from "./support/function-server.ts";
import { sampleOrganisation } from "./support/sample-rows.ts";
import { ddlTables, type SqlValue, ZetaSql } from "./support/zetasql.ts";
import { restResult, zetaParams } from "./support/zetasql-tables.ts";

const TABLES = ddlTables(new URL("../sql/ddl", import.meta.url).pathname);
const REGISTRY = new URL("../sample/acme/registry.yaml", import.meta.url).pathname;

const sample = sampleOrganisation("month", "2026-10-01", "2026-10-31");
const rows: Record<string, Record<string, SqlValue>[]> = {
  job_costs: sample.jobRows,
  findings: sample.findings.map((f, i) => ({
    ...bigQueryJson(findingRow(f), FINDINGS),
    ingested_at: `2026-11-01T00:00:${String(i % 60).padStart(2, "0")}Z`,
  })) as Record<string, SqlValue>[],
  rejected_entries: ["invalid_json", "not_bigquery_audit", "invalid_field"].map((reason) => ({
    received_at: "2026-10-15T00:00:00Z",
    source: "pubsub:1:1",
    reason,
    detail: "",
    raw: "",
  })),
  department_costs: sample.report.departmentCosts.map((r) => ({
    period_start: `${r.period}-01`,
    granularity: "month",
    ...bigQueryJson(r, DEPARTMENT_COSTS),
  })) as Record<string, SqlValue>[],
  chargeback_matrix: sample.report.chargebackMatrix.map((r) => ({
    period_start: `${r.period}-01`,
    granularity: "month",
    ...bigQueryJson(r, CHARGEBACK_MATRIX),
  })) as Record<string, SqlValue>[],
};

let bigquery: FakeBigQuery;
let zetasql: ZetaSql;
let server: FunctionServer;
let storage: Server;
const uploads: { path: string; body: string }[] = [];

beforeAll(async () => {
  zetasql = await ZetaSql.start();
  bigquery = new FakeBigQuery();
  bigquery.queryHandler = async (request) => {
    // The report's DML (snapshot, replace) is checked elsewhere; the report tables here already
    // hold the TypeScript engine's rows. The page's SELECTs are evaluated by ZetaSQL.
    if (
      !request.query.trimStart().startsWith("SELECT") &&
      !request.query.trimStart().startsWith("WITH") &&
      !request.query.trimStart().startsWith("--")
    ) {
      return { fields: [], rows: [] };
    }
    if (request.query.includes("INFORMATION_SCHEMA")) return { fields: [], rows: [] };
    const { columns, rows: result } = await zetasql.evaluateWithSchema(
      request.query,
      TABLES,
      rows,
      zetaParams(request),
    );
    return restResult(columns, result);
  };
  storage = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    uploads.push({ path: req.url ?? "", body: Buffer.concat(chunks).toString("utf8") });
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ kind: "storage#object" }));
  });
  await new Promise<void>((resolve) => storage.listen(0, "127.0.0.1", resolve));
  server = await FunctionServer.start({
    target: "buildChargebackReport",
    signatureType: "http",
    env: {
      GOOGLE_CLOUD_PROJECT: "acme-chargeback",
      BQ_CHARGEBACK_REGISTRY: REGISTRY,
      BIGQUERY_API_ENDPOINT: await bigquery.start(),
      BQ_CHARGEBACK_REPORT_BUCKET: "gs://acme-finance-reports/chargeback",
      BQ_CHARGEBACK_STORAGE_ENDPOINT: `http://127.0.0.1:${(storage.address() as AddressInfo).port}`,
    },
  });
}, 60_000);

afterAll(async () => {
  await server?.stop();
  await bigquery?.stop();
  zetasql?.stop();
  await new Promise<void>((resolve) => (storage ? storage.close(() => resolve()) : resolve()));
});

describe("the scheduled report's report.html", () => {
  it("is written to Cloud Storage with the period's totals, equal to the TypeScript engine's", async () => {
    const response = await fetch(server.url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ from: "2026-10-01", to: "2026-10-31", period: "month" }),
    });
    const body = (await response.json()) as Record<string, unknown>;
    expect(response.status, JSON.stringify(body)).toBe(200);
    expect(body.report_html).toBe(
      "gs://acme-finance-reports/chargeback/report-2026-10-01-2026-10-31-month.html",
    );
    // (the harness's start-up probe also invoked the function once, for the default period: last month)
    const upload = uploads.at(-1);
    expect(upload?.path).toBe(
      "/upload/storage/v1/b/acme-finance-reports/o?uploadType=media&name=chargeback%2Freport-2026-10-01-2026-10-31-month.html",
    );
    const html = upload?.body ?? "";
    const shown = (id: string) => new RegExp(`id="${id}">([^<]*)<`).exec(html)?.[1];
    expect(shown("total-compute")).toBe(formatUsd(sample.report.totals.compute, 2));
    expect(shown("total-storage")).toBe(formatUsd(sample.report.totals.storage, 2));
    expect(shown("total-free-rides")).toBe(formatUsd(sample.report.totals.freeRides, 2));
    expect(shown("total-findings")).toBe(String(sample.findings.length));
    expect(shown("total-rejected")).toBe("3");
    for (const department of ["marketing", "finance", "data-science", "platform", "sales"])
      expect(html).toContain(department);
    // charts were drawn from the rows read back
    expect((html.match(/<svg/g) ?? []).length).toBe(3);
    expect(html).toContain("pat@partner-x.example");
    // it tells of the tables it was read from, not of a report folder it does not have
    expect(html).toContain("entries rejected (table rejected_entries)");
    expect(html).not.toMatch(/log entries read|rejected\.ndjson|\.csv\b|CSV/);
  }, 60_000);
});
