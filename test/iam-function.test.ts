// The scheduled IAM audit on the real functions-framework server: the organisation's policies
// from a local endpoint speaking the Cloud Asset Inventory REST format (the real
// @google-cloud/asset client talks to it), rows into a local BigQuery endpoint. Its rows must be
// the CLI's for the same export.

import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { IAM_FINDING_COLUMNS } from "../src/core/iam/rows.ts";
import { formatUsd, parseUsd } from "../src/core/money.ts";
import { readSql } from "../src/io/sql-files.ts";
import { ORGANIZATION } from "../src/sample/iam.ts";
import { cli, ROOT, table } from "./support/cli.ts";
import { FakeAssetInventory } from "./support/fake-asset-inventory.ts";
import { FakeBigQuery, type QueryRequest } from "./support/fake-bigquery.ts";
import { FunctionServer } from "./support/function-server.ts";
import { sampleOrganisation } from "./support/sample-rows.ts";
import { ddlTables, ZetaSql } from "./support/zetasql.ts";

const SCOPE = `organizations/${ORGANIZATION}`;
const EXPORT = "sample/acme/iam/organization-policies.json";
const ROLES = "sample/acme/iam/custom-roles.json";

let assets: FakeAssetInventory;
let bigquery: FakeBigQuery;
let server: FunctionServer;
let results: unknown[];
let zetasql: ZetaSql;
const queries: QueryRequest[] = [];
const GRANT_USAGE = readSql("iam/grant_usage.sql");

/** jobs.query answered by ZetaSQL over the sample's job_costs rows, with the request's DATE parameters. */
async function answerUsage(request: QueryRequest) {
  queries.push(request);
  const params = Object.fromEntries(
    (
      (request.queryParameters ?? []) as {
        name: string;
        parameterType: { type: string };
        parameterValue: { value: string };
      }[]
    ).map((p) => [p.name, { type: p.parameterType.type as "DATE", value: p.parameterValue.value }]),
  );
  const { jobRows } = sampleOrganisation("month", "2026-10-01", "2026-10-31");
  const rows = await zetasql.evaluate(
    request.query,
    ddlTables(join(ROOT, "sql/ddl")),
    { job_costs: jobRows },
    params,
  );
  const fields = [
    { name: "principal", type: "STRING" },
    { name: "billing_project", type: "STRING" },
    { name: "jobs", type: "INTEGER" },
    { name: "compute_cost_usd", type: "NUMERIC" },
  ];
  return {
    fields,
    rows: rows.map((row) => ({ f: fields.map((field) => ({ v: String(row[field.name]) })) })),
  };
}

async function startFunction(scope: string) {
  return FunctionServer.start({
    target: "auditIamPolicies",
    signatureType: "http",
    env: {
      GOOGLE_CLOUD_PROJECT: "acme-chargeback",
      BQ_CHARGEBACK_DATASET: "bq_chargeback",
      BQ_CHARGEBACK_REGISTRY: join(ROOT, "sample/acme/registry.yaml"),
      BIGQUERY_API_ENDPOINT: await bigquery.start(),
      CLOUD_ASSET_API_ENDPOINT: await assets.start(),
      BQ_CHARGEBACK_IAM_SCOPE: scope,
      BQ_CHARGEBACK_IAM_ROLES: join(ROOT, ROLES),
    },
  });
}

beforeAll(async () => {
  results = JSON.parse(await readFile(join(ROOT, EXPORT), "utf8"));
  assets = new FakeAssetInventory(SCOPE, results, 4);
  bigquery = new FakeBigQuery();
  zetasql = await ZetaSql.start();
  bigquery.queryHandler = answerUsage;
  server = await startFunction(SCOPE);
}, 60_000);

afterAll(async () => {
  await server?.stop();
  await assets?.stop();
  await bigquery?.stop();
  zetasql?.stop();
});

describe("auditIamPolicies on the functions-framework server", () => {
  it("runs only on POST: a GET (a probe, a browser) starts no audit", async () => {
    const searches = assets.requests.length;
    const response = await fetch(server.url);
    expect(response.status).toBe(405);
    expect(assets.requests.length).toBe(searches);
  });

  it("reads every page of the search, writes the CLI's findings as iam_findings rows, and alerts on the critical", async () => {
    const response = await fetch(server.url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ from: "2026-10-01", to: "2026-10-31" }),
    });
    const body = (await response.json()) as {
      findings: number;
      rejected: { reason: string }[];
    };
    expect(response.status, JSON.stringify(body)).toBe(200);
    expect(body).toMatchObject({ scope: SCOPE, policies: results.length });
    // Pages of 4 followed to the end, each with the client's bearer token.
    const searches = assets.requests.filter((r) => r.path === `/v1/${SCOPE}:searchAllIamPolicies`);
    expect(searches).toHaveLength(Math.ceil(results.length / 4));
    expect(searches.every((r) => r.authorization.startsWith("Bearer "))).toBe(true);

    const rows = bigquery.rows("iam_findings");
    expect(rows.length).toBe(body.findings);
    for (const row of rows) expect(Object.keys(row)).toEqual([...IAM_FINDING_COLUMNS]);

    // Use from job_costs: the usage SQL as written, the period only as DATE parameters.
    expect(queries.at(-1)?.query).toBe(GRANT_USAGE);
    const parameters = queries.at(-1)?.queryParameters as { name: string; parameterType: { type: string } }[];
    expect(parameters.map((p) => [p.name, p.parameterType.type])).toEqual([
      ["from_date", "DATE"],
      ["to_date", "DATE"],
    ]);

    // The CLI on the same export and the logs those job_costs rows came from: the same findings,
    // column by column (source and time aside), realized and latent alike.
    const out = await mkdtemp(join(tmpdir(), "bqcb-iam-fn-"));
    const local = await cli(
      [
        "iam",
        "--policies",
        EXPORT,
        "--policies",
        ROLES,
        "--registry",
        "sample/acme/registry.yaml",
        "--out",
        out,
      ].concat([
        "--logs",
        "sample/acme/logs/2026-10-v2-and-v1.ndjson",
        "--from",
        "2026-10-01",
        "--to",
        "2026-10-31",
      ]),
    );
    expect(local.code, local.stderr).toBe(0);
    const csv = await table(out, "iam_findings.csv");
    const comparable = (row: Record<string, unknown>) =>
      [
        row.kind,
        row.severity,
        row.status,
        row.project,
        row.resource,
        row.member,
        row.role,
        Array.isArray(row.rights) ? row.rights.join(";") : row.rights,
        row.condition,
        row.remediation,
        String(row.jobs),
        formatUsd(parseUsd(String(row.cost_usd))),
      ].join("|");
    expect(rows.map(comparable).sort()).toEqual(csv.map(comparable).sort());
    expect(
      rows.find((row) => row.kind === "external_job_rights" && row.member === "user:pat@partner-x.example"),
    ).toMatchObject({
      status: "realized",
    });
    // The custom role is judged from its definition (BQ_CHARGEBACK_IAM_ROLES), as the CLI does.
    expect(body.rejected).toEqual([]);
    expect(rows.find((row) => row.member === "user:alice@acme.example")).toMatchObject({
      kind: "cross_department_job_rights",
      role: "organizations/123456789012/roles/bqQueryRunner",
    });

    const alerts = server.jsonLines().filter((line) => line.alert === "bq_chargeback_finding");
    expect(alerts.map((a) => (a.finding as { member: string }).member).sort()).toEqual(
      csv
        .filter((f) => f.severity === "critical")
        .map((f) => f.member)
        .sort(),
    );
    expect(alerts.every((a) => a.severity === "CRITICAL")).toBe(true);
  });

  it("writes nothing when the search is refused (a scope it may not search), and fails for the scheduler to retry", async () => {
    const refused = new FakeAssetInventory(`organizations/999`, results);
    const before = bigquery.inserts.length;
    const other = await FunctionServer.start({
      target: "auditIamPolicies",
      signatureType: "http",
      env: {
        GOOGLE_CLOUD_PROJECT: "acme-chargeback",
        BQ_CHARGEBACK_REGISTRY: join(ROOT, "sample/acme/registry.yaml"),
        BIGQUERY_API_ENDPOINT: await bigquery.start().catch(() => ""),
        CLOUD_ASSET_API_ENDPOINT: await refused.start(),
        BQ_CHARGEBACK_IAM_SCOPE: SCOPE,
      },
    });
    try {
      const response = await fetch(other.url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{}",
      });
      expect(response.status).toBe(500);
      expect(refused.requests[0]?.path).toBe(`/v1/${SCOPE}:searchAllIamPolicies`);
      expect(bigquery.inserts.length).toBe(before);
    } finally {
      await other.stop();
      await refused.stop();
    }
  });
});
