// report.html: loaded in headless Chromium (driven by playwright-core, see support/browser.ts) with the network
// closed, checked for console errors, drawn charts, and totals equal to the CSV files; a
// screenshot and a PDF are kept in test-artifacts/. Plus the escaping of hostile log strings.
import { mkdir, mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runReport } from "../src/cli/report-command.ts";
import { ChargebackAggregator, summarizeJob } from "../src/core/aggregate.ts";
import { parseCsv } from "../src/io/csv.ts";
import { renderHtml } from "../src/report/html.ts";
import { launchChromium } from "./support/browser.ts";
import { jobCost } from "./support/jobs.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const ARTIFACTS = join(ROOT, "test-artifacts");

let out: string;
let browser: Browser;

beforeAll(async () => {
  out = await mkdtemp(join(tmpdir(), "bqcb-html-"));
  await runReport({
    logs: [join(ROOT, "sample/acme/logs/*.*")],
    registryFile: join(ROOT, "sample/acme/registry.yaml"),
    storageFile: join(ROOT, "sample/acme/table_storage.csv"),
    granularity: "month",
    outDir: out,
    workers: 0,
    progress: false,
  });
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
});

async function csvSum(file: string, column: string): Promise<bigint> {
  const [header, ...rows] = parseCsv(await readFile(join(out, file), "utf8"));
  const index = header?.cells.indexOf(column) ?? -1;
  return rows.reduce((sum, row) => sum + BigInt((row.cells[index] as string).replace(".", "")), 0n);
}

/** Micro-dollars (6 decimals) to cents, half up: what the page shows. */
const cents = (micros: bigint) => (micros + 5_000n) / 10_000n;

describe("report.html in a real browser", () => {
  it("loads with no console error and no request beyond the page, draws every chart, and matches the CSV totals", async () => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const problems: string[] = [];
    page.on("console", (message) => {
      if (message.type() === "error") problems.push(message.text());
    });
    page.on("pageerror", (error) => problems.push(error.message));
    const pageUrl = `file://${join(out, "report.html")}`;
    await page.route("**/*", (route) =>
      route.request().url() === pageUrl
        ? route.continue()
        : (problems.push(`request ${route.request().url()}`), route.abort()),
    );
    await page.goto(pageUrl);
    expect(problems).toEqual([]);
    for (const chart of ["chart-departments", "chart-matrix", "chart-trend"]) {
      const marks = await page
        .locator(`figure[data-chart="${chart}"] svg path, figure[data-chart="${chart}"] svg rect`)
        .count();
      expect(marks, chart).toBeGreaterThan(5);
      await expect(page.locator(`figure[data-chart="${chart}"]`).getAttribute("role")).resolves.toBe("img");
    }
    const shown = async (id: string) =>
      BigInt((await page.locator(`#${id}`).innerText()).replace(/[.,]/g, ""));
    // the page's totals equal the CSV files' sums, to the cent
    expect(await shown("total-compute")).toBe(
      cents(await csvSum("department_costs.csv", "compute_paid_usd")),
    );
    expect(await shown("total-storage")).toBe(cents(await csvSum("department_costs.csv", "storage_usd")));
    expect(await shown("total-free-rides")).toBe(
      cents(await csvSum("department_costs.csv", "free_rides_given_usd")),
    );
    const summary = JSON.parse(await readFile(join(out, "summary.json"), "utf8"));
    expect(Number(await page.locator("#total-rejected").innerText())).toBe(summary.rejected.total);
    expect(Number(await page.locator("#rejected-count").innerText())).toBe(summary.rejected.total);
    // every chart has a table beside it
    expect(await page.locator("table").count()).toBeGreaterThanOrEqual(6);
    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, "report.png"), fullPage: true });
    await page.pdf({ path: join(ARTIFACTS, "report.pdf"), format: "A4" });
    await page.close();
  }, 60_000);
});

describe("report.html from hostile log strings", () => {
  it("shows a principal like <script> as text", () => {
    const aggregator = new ChargebackAggregator();
    const job = jobCost({
      cost: 5_000_000_000n,
      payer: "finance",
      consumer: "external:evil.example",
      freeRide: "external_free_ride",
    });
    job.job.principal = '<script>alert("x")</script>@evil.example';
    if (job.findings[0]) job.findings[0].principal = job.job.principal;
    aggregator.addJob(summarizeJob(job));
    const report = {
      origin: "log_entries" as const,
      from: "2026-10-01",
      to: "2026-10-31",
      granularity: "month" as const,
      timeZone: "America/Los_Angeles",
      departmentCosts: aggregator.departmentCosts({
        from: "2026-10-01",
        to: "2026-10-31",
        granularity: "month",
        registryDepartments: ["finance"],
        storage: [],
      }),
      chargebackMatrix: aggregator.chargebackMatrix(),
      storageCosts: [],
      findings: job.findings,
      trend: aggregator.trend(),
      topJobs: aggregator.topJobs(),
      topPrincipals: aggregator.topPrincipals(),
      counters: {
        entries: 1,
        jobs: 1,
        duplicateJobs: 0,
        outsidePeriod: 0,
        tableReads: 0,
        ignored: {},
        rejected: {},
      },
      totals: {
        compute: 5_000_000_000n,
        storage: 0n,
        freeRides: 5_000_000_000n,
        findings: 1,
        findingsByKind: { external_free_ride: 1 },
        unpricedByReason: {},
      },
    };
    const html = renderHtml(report);
    expect(html).not.toContain("<script>");
    expect(html).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;@evil.example");
    expect(html).toContain('id="total-compute">5.00<');
  });
});
