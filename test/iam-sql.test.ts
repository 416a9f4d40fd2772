// The cloud path's join of grants with use: sql/iam/grant_usage.sql, analysed and evaluated by
// ZetaSQL over the sample organisation's job_costs rows (duplicates included, as ingest writes
// them), gives the audit the same realized/latent findings, jobs and cost as the CLI on the same logs.
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { grantUsageOf, type UsageRow } from "../src/cloud/iam-audit.ts";
import { formatUsd } from "../src/core/money.ts";
import { readIamExports } from "../src/io/iam-exports.ts";
import { auditExport } from "../src/io/iam-files.ts";
import { readSql } from "../src/io/sql-files.ts";
import { cli, ROOT, table } from "./support/cli.ts";
import { sampleOrganisation } from "./support/sample-rows.ts";
import { ddlTables, ZetaSql } from "./support/zetasql.ts";

const TABLES = ddlTables(join(ROOT, "sql/ddl"));
const IAM = [
  "organization-policies.json",
  "projects.json",
  "custom-roles.json",
  "acme-mkt-lake.campaigns.json",
  "acme-fin-lake.ledger.json",
];

let zetasql: ZetaSql;

beforeAll(async () => {
  zetasql = await ZetaSql.start();
}, 60_000);

afterAll(() => zetasql?.stop());

describe("sql/iam/grant_usage.sql", () => {
  it("analyses in BigQuery's dialect", async () => {
    await expect(
      zetasql.analyze(readSql("iam/grant_usage.sql"), TABLES, { from_date: "DATE", to_date: "DATE" }),
    ).resolves.toBeUndefined();
  });

  it("joins the sample's grants with its jobs exactly as the CLI does", async () => {
    const { registry, jobRows } = sampleOrganisation("month", "2026-10-01", "2026-10-31");
    const rows = await zetasql.evaluate(
      readSql("iam/grant_usage.sql"),
      TABLES,
      { job_costs: jobRows },
      {
        from_date: { type: "DATE", value: "2026-10-01" },
        to_date: { type: "DATE", value: "2026-10-31" },
      },
    );
    expect(rows.length).toBeGreaterThan(0);
    const texts = await Promise.all(
      IAM.map(async (name) => ({
        file: `sample/acme/iam/${name}`,
        text: await readFile(join(ROOT, "sample/acme/iam", name), "utf8"),
      })),
    );
    const usage = grantUsageOf(
      rows.map((row) => ({ ...row, compute_cost_usd: String(row.compute_cost_usd) }) as unknown as UsageRow),
    );
    const cloud = auditExport(readIamExports(texts), registry, usage).findings;

    // The CLI on the same log file (the rows above are its jobs) and the same exports.
    const out = await mkdtemp(join(tmpdir(), "bqcb-iam-sql-"));
    const local = await cli([
      "iam",
      ...IAM.flatMap((name) => ["--policies", `sample/acme/iam/${name}`]),
      "--registry",
      "sample/acme/registry.yaml",
      "--logs",
      "sample/acme/logs/2026-10-v2-and-v1.ndjson",
      "--from",
      "2026-10-01",
      "--to",
      "2026-10-31",
      "--out",
      out,
    ]);
    expect(local.code, local.stderr).toBe(0);
    const csv = await table(out, "iam_findings.csv");
    const key = (kind: string, project: string, member: string, role: string) =>
      [kind, project, member, role].join("|");
    expect(
      cloud
        .map((f) => [key(f.kind, f.project, f.member, f.role), f.status, String(f.jobs), formatUsd(f.cost)])
        .sort(),
    ).toEqual(
      csv
        .map((f) => [
          key(f.kind ?? "", f.project ?? "", f.member ?? "", f.role ?? ""),
          f.status,
          f.jobs,
          f.cost_usd,
        ])
        .sort(),
    );
    // Not vacuous: realized grants with money on them, and latent ones.
    expect(cloud.filter((f) => f.status === "realized" && f.cost > 0n).length).toBeGreaterThanOrEqual(3);
    expect(cloud.some((f) => f.status === "latent")).toBe(true);
  }, 60_000);
});
