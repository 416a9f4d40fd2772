// BigQuery's free tier (issue 11 B.8): "10 GiB storage, up to 1 TiB queries in on-demand compute
// free per month" (https://cloud.google.com/bigquery, the product page's price box) and "The first
// 1 TB of data processed per month is free of charge (per billing account)" (pricing page,
// https://cloud.google.com/bigquery/pricing, on-demand pricing). The report shows it as a line of
// its own, says which departments' jobs consumed it (the month's on-demand jobs in billing-time
// order), and with the registry's `free_tier: deduct` takes it off their totals.
// Entries: the repository's v2 jobChange fixture (test/fixtures/functions/v2-jobchange-done.json,
// BigQueryAuditMetadata as Google writes it, int64 as strings) with the billing project,
// principal, billed bytes and end time changed.
import { readFileSync } from "node:fs";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FREE_QUERY_BYTES } from "../src/core/free-tier.ts";
import { mulDivRound, parseUsd } from "../src/core/money.ts";
import { assessEntry, ChargebackPipeline, entryContext } from "../src/core/pipeline.ts";
import { ConfigError, parseRegistry } from "../src/core/registry.ts";
import { cli, ROOT, table } from "./support/cli.ts";
import { FOUR_TENTHS, MONTH } from "./support/free-tier-jobs.ts";

const REGISTRY_TEXT = readFileSync(join(ROOT, "test/fixtures/functions/registry.yaml"), "utf8");
const TIB = 1n << 40n;
const PRICE = parseUsd("6.25"); // US on demand per TiB, the built-in price book

function reportOf(lines: string[], registryMore = "", range = { from: "2026-10-01", to: "2026-11-30" }) {
  const registry = parseRegistry(`${REGISTRY_TEXT}${registryMore}`, "registry.yaml");
  const context = entryContext(registry);
  const pipeline = new ChargebackPipeline({ registry, ...range });
  lines.forEach((line, i) => {
    pipeline.accept(assessEntry(line, { file: "logs", line: i + 1 }, context));
  });
  return pipeline.report();
}

const fourTenthsCost = mulDivRound(FOUR_TENTHS, PRICE, TIB);

describe("the free TiB goes to the month's on-demand jobs in billing-time order", () => {
  it("says which departments' jobs consumed it and how much, whatever order the entries came in", () => {
    const report = reportOf(MONTH);
    expect(report.freeTier?.mode).toBe("show");
    const [october, november] = report.freeTier?.months ?? [];
    expect(october).toEqual({
      month: "2026-10",
      wholeMonth: true,
      freeBytes: FREE_QUERY_BYTES,
      // 0.4 + 0.4 + 0.2 of 0.4 TiB: the whole free TiB at 6.25 USD, to the nano-dollar
      freeUsd:
        fourTenthsCost * 2n + mulDivRound(fourTenthsCost, FREE_QUERY_BYTES - 2n * FOUR_TENTHS, FOUR_TENTHS),
      byDepartment: [
        { department: "finance", freeBytes: 2n * FOUR_TENTHS, freeUsd: 2n * fourTenthsCost },
        {
          department: "marketing",
          freeBytes: FREE_QUERY_BYTES - 2n * FOUR_TENTHS,
          freeUsd: mulDivRound(fourTenthsCost, FREE_QUERY_BYTES - 2n * FOUR_TENTHS, FOUR_TENTHS),
        },
      ],
    });
    expect(october?.freeUsd).toBe(parseUsd("6.25"));
    // November's TiB is November's
    expect(november).toMatchObject({ month: "2026-11", freeBytes: FOUR_TENTHS, freeUsd: fourTenthsCost });
    expect(report.freeTier?.uses.map((use) => use.jobId)).toEqual([
      "acme-fin-bi:US.bquxjob_fin_02",
      "acme-fin-bi:US.bquxjob_fin_05",
      "acme-mkt-bi:US.bquxjob_mkt_09",
      "acme-fin-bi:US.bquxjob_fin_nov",
    ]);
  });

  it("show (the default) changes no total; deduct takes it off the departments that consumed it", () => {
    const shown = reportOf(MONTH);
    const deducted = reportOf(MONTH, "free_tier: deduct\n");
    const paid = (report: typeof shown, department: string, period: string) =>
      report.departmentCosts.find((r) => r.department === department && r.period === period)
        ?.compute_paid_usd;
    expect(paid(shown, "finance", "2026-10")).toBe(3n * fourTenthsCost);
    expect(paid(deducted, "finance", "2026-10")).toBe(fourTenthsCost);
    expect(paid(deducted, "marketing", "2026-10")).toBe(fourTenthsCost - fourTenthsCost / 2n);
    expect(paid(deducted, "finance", "2026-11")).toBe(0n);
    expect(shown.totals.compute - deducted.totals.compute).toBe(parseUsd("6.25") + fourTenthsCost);
    // the matrix says the same
    const matrixTotal = (report: typeof shown) =>
      report.chargebackMatrix.reduce((sum, row) => sum + row.compute_cost_usd, 0n);
    expect(matrixTotal(deducted)).toBe(deducted.totals.compute);
  });

  it("says when the report does not hold the whole month (earlier jobs may have used the TiB)", () => {
    const report = reportOf(MONTH, "", { from: "2026-10-05", to: "2026-10-31" });
    expect(report.freeTier?.months.map((m) => [m.month, m.wholeMonth])).toEqual([["2026-10", false]]);
  });

  it("the registry's free_tier is show or deduct, refused otherwise with its line", () => {
    expect(() => parseRegistry(`${REGISTRY_TEXT}free_tier: subtract\n`, "registry.yaml")).toThrow(
      ConfigError,
    );
    expect(() => parseRegistry(`${REGISTRY_TEXT}free_tier: subtract\n`, "registry.yaml")).toThrow(
      /registry\.yaml:\d+.*free_tier.*show, deduct/,
    );
  });
});

describe("the CLI shows the free tier in every output", () => {
  it("summary.json, stdout, report.md, report.html and free_tier.csv; department_costs.csv net of it with deduct", async () => {
    const dir = await mkdtemp(join(tmpdir(), "bqcb-free-"));
    await writeFile(join(dir, "logs.ndjson"), `${MONTH.join("\n")}\n`);
    await writeFile(join(dir, "registry.yaml"), `${REGISTRY_TEXT}free_tier: deduct\n`);
    const result = await cli([
      "report",
      "--logs",
      join(dir, "logs.ndjson"),
      "--registry",
      join(dir, "registry.yaml"),
      "--out",
      join(dir, "out"),
    ]);
    expect(result.code).toBe(0);
    const out = join(dir, "out");
    const summary = JSON.parse(await readFile(join(out, "summary.json"), "utf8"));
    expect(summary.free_tier).toMatchObject({
      mode: "deduct",
      free_storage_gib_per_month: 10,
      months: [
        {
          month: "2026-10",
          whole_month: true,
          free_bytes: String(FREE_QUERY_BYTES),
          free_usd: "6.250000",
          by_department: [
            { department: "finance", free_bytes: String(2n * FOUR_TENTHS), free_usd: "5.000000" },
            { department: "marketing", free_usd: "1.250000" },
          ],
        },
        { month: "2026-11", free_usd: "2.500000" },
      ],
    });
    expect(result.stdout).toMatch(
      /free tier +8\.750000 USD deducted: 2026-10 6\.250000: finance 5\.000000, marketing 1\.250000; 2026-11 2\.500000: finance 2\.500000$/m,
    );
    expect(await readFile(join(out, "report.md"), "utf8")).toMatch(
      /## Free tier[\s\S]*2026-10[\s\S]*finance/,
    );
    expect(await readFile(join(out, "report.html"), "utf8")).toContain('id="free-tier"');
    expect(await table(out, "free_tier.csv")).toEqual([
      {
        month: "2026-10",
        period: "2026-10",
        department: "finance",
        free_bytes: String(2n * FOUR_TENTHS),
        free_usd: "5.000000",
      },
      {
        month: "2026-10",
        period: "2026-10",
        department: "marketing",
        free_bytes: String(FREE_QUERY_BYTES - 2n * FOUR_TENTHS),
        free_usd: "1.250000",
      },
      {
        month: "2026-11",
        period: "2026-11",
        department: "finance",
        free_bytes: String(FOUR_TENTHS),
        free_usd: "2.500000",
      },
    ]);
    const departments = await table(out, "department_costs.csv");
    expect(
      departments.find((r) => r.period === "2026-10" && r.department === "finance")?.compute_paid_usd,
    ).toBe("2.500000");
  }, 60_000);
});
