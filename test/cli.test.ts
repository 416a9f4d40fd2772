// The command a new user runs, end to end, on the bundled sample organisation: expectations are
// derived from what the generator says it generated, not copied from a previous run.
import { execFile } from "node:child_process";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { gzipSync } from "node:zlib";
import { beforeAll, describe, expect, it } from "vitest";
import { emptyStats, generateEntries } from "../src/sample/generate.ts";
import { cli, micros, ROOT, table } from "./support/cli.ts";

const SAMPLE = join(ROOT, "sample/acme");

let out: string;
let jobs: Record<string, string>[];
let findings: Record<string, string>[];
const stats = emptyStats();

beforeAll(async () => {
  // The bundled sample was written with these options (sample/acme/README.md).
  for (const _ of generateEntries({ month: "2026-10", seed: 1, jobs: 700 }, stats));
  out = await mkdtemp(join(tmpdir(), "bqcb-cli-"));
  const result = await cli(["demo", "--out", out]);
  expect(result.code, result.stderr).toBe(0);
  jobs = await table(out, "job_costs.csv");
  findings = await table(out, "findings.csv");
}, 60_000);

describe("bq-chargeback demo on the sample organisation", () => {
  it("counts every job once, whatever arrived twice", async () => {
    expect(jobs).toHaveLength(stats.jobs);
    expect(new Set(jobs.map((job) => job.job_id)).size).toBe(jobs.length);
    const summary = JSON.parse(await readFile(join(out, "summary.json"), "utf8"));
    expect(summary.jobs).toBe(stats.jobs);
    expect(summary.duplicate_job_entries).toBe(stats.repeatedEntries + stats.bothFormats);
    expect(summary.entries_read).toBe(stats.entries);
  });

  it("keeps each bad line with its file, line and reason", async () => {
    const rejected = (await readFile(join(out, "rejected.ndjson"), "utf8"))
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(rejected.map((r) => r.reason).sort()).toEqual([
      "invalid_field",
      "invalid_json",
      "not_bigquery_audit",
    ]);
    const lines = (await readFile(join(SAMPLE, "logs/2026-10-v2-and-v1.ndjson"), "utf8")).split("\n");
    for (const entry of rejected) {
      // the rejected_entries record: source is file:line
      const [, file, line] = /^(.*):(\d+)$/.exec(entry.source) ?? [];
      expect(file).toBe("sample/acme/logs/2026-10-v2-and-v1.ndjson");
      expect(lines[Number(line) - 1]).toBe(entry.raw);
    }
    const summary = JSON.parse(await readFile(join(out, "summary.json"), "utf8"));
    expect(summary.rejected.total).toBe(stats.malformed);
  });

  it("prices script parents at zero and their children at what they billed", () => {
    const parents = jobs.filter((job) => job.statement_type === "SCRIPT");
    const children = jobs.filter((job) => (job.job_id as string).includes("script_job_"));
    expect(parents).toHaveLength(stats.scriptParents);
    expect(children).toHaveLength(stats.scriptChildren);
    // v2 entries link a child to its parent; v1 has no parentJobName, so v1-only children stand alone
    const linked = children.filter((job) => job.parent_job_id !== "");
    expect(linked.length).toBeGreaterThan(0);
    expect(linked.every((job) => job.audit_format === "v2")).toBe(true);
    for (const parent of parents)
      expect([parent.pricing_model, parent.compute_cost_usd]).toEqual(["script_parent", "0.000000"]);
    const parentIds = new Set(parents.map((p) => p.job_id));
    for (const child of linked) expect(parentIds.has(child.parent_job_id as string)).toBe(true);
    expect(children.some((child) => micros(child.compute_cost_usd as string) > 0n)).toBe(true);
    const cached = jobs.filter((job) => job.cache_hit === "true");
    expect(cached).toHaveLength(stats.cacheHits);
    for (const job of cached) expect(job.compute_cost_usd).toBe("0.000000");
    expect(jobs.filter((job) => job.pricing_model === "reservation")).toHaveLength(stats.reservationJobs);
  });

  it("balances: what departments paid is what departments consumed is the total", async () => {
    const departments = await table(out, "department_costs.csv");
    const paid = departments.reduce((sum, row) => sum + micros(row.compute_paid_usd as string), 0n);
    const consumed = departments.reduce((sum, row) => sum + micros(row.compute_consumed_usd as string), 0n);
    const summary = JSON.parse(await readFile(join(out, "summary.json"), "utf8"));
    // each column is rounded per row from exact sums: they agree to a micro-dollar per row
    const tolerance = BigInt(departments.length);
    expect(paid - micros(summary.totals_usd.compute)).toBeLessThanOrEqual(tolerance);
    expect(micros(summary.totals_usd.compute) - paid).toBeLessThanOrEqual(tolerance);
    expect(paid - consumed <= tolerance && consumed - paid <= tolerance).toBe(true);
    const matrix = await table(out, "chargeback_matrix.csv");
    expect(matrix.reduce((sum, row) => sum + Number(row.jobs), 0)).toBe(stats.jobs);
    expect(departments.map((row) => row.department)).toEqual(
      expect.arrayContaining([
        "data-science",
        "finance",
        "marketing",
        "platform",
        "sales",
        "unassigned",
        "external:partner-x.example",
      ]),
    );
  });

  it("finds the free rides the sample contains, and none where there is none", () => {
    const of = (kind: string) => findings.filter((finding) => finding.kind === kind);
    const external = of("external_free_ride");
    // every job the partner ran on our project, but script parents (their children are counted)
    const partnerJobs = jobs.filter(
      (job) => job.principal === "pat@partner-x.example" && job.pricing_model !== "script_parent",
    );
    expect(partnerJobs.length).toBeGreaterThanOrEqual(
      (stats.scenarios["partner-on-our-project-our-data"] ?? 0) +
        (stats.scenarios["partner-on-our-project-own-data"] ?? 0),
    );
    expect(external.map((f) => f.job_id).sort()).toEqual(partnerJobs.map((job) => job.job_id).sort());
    expect(
      external.filter((f) => f.severity === "critical").every((f) => f.data_projects === "px-data"),
    ).toBe(true);
    expect(external.filter((f) => f.severity === "critical").length).toBeGreaterThan(0);
    for (const finding of external)
      expect(finding.remediation).toContain("remove roles/bigquery.jobUser for user:pat@partner-x.example");
    const cross = of("cross_department_free_ride");
    expect(new Set(cross.map((f) => `${f.principal} on ${f.billing_project}`))).toEqual(
      new Set(["bob@mkt.acme.example on acme-fin-bi", "hank@ds.acme.example on acme-sales-bi"]),
    );
    // the shared ETL project is charged back, never a free ride
    expect(findings.some((f) => f.billing_project === "acme-etl")).toBe(false);
    const unexpected = of("unexpected_billing_project");
    expect(unexpected.some((f) => f.billing_project === "rogue-analytics-77")).toBe(true);
    expect(unexpected.some((f) => f.billing_project === "" && f.principal === "mallory@other.example")).toBe(
      true,
    );
    expect(
      unexpected.some(
        (f) => f.billing_project === "px-analytics" || (f.principal ?? "").endsWith("@partner-x.example"),
      ),
    ).toBe(false);
    expect(of("unregistered_project").every((f) => f.billing_project === "acme-sandbox-42")).toBe(true);
    const sandboxJobs = jobs.filter(
      (job) => job.billing_project === "acme-sandbox-42" && job.pricing_model !== "script_parent",
    );
    expect(sandboxJobs.length).toBeGreaterThanOrEqual(stats.scenarios["unregistered-sandbox"] ?? 0);
    expect(of("unregistered_project")).toHaveLength(sandboxJobs.length);
  });

  it("puts jobs on their Pacific billing day", () => {
    const lateUtc = jobs.filter((job) => (job.end_time as string) >= "2026-11-01T00:00:00");
    expect(lateUtc.length).toBeGreaterThan(0);
    for (const job of lateUtc) expect(job.usage_date).toBe("2026-10-31");
  });
});

describe("the same answer every way", () => {
  it("gives identical reports with 0, 1 and 3 worker threads", async () => {
    const files = [
      "job_costs.csv",
      "department_costs.csv",
      "chargeback_matrix.csv",
      "storage_costs.csv",
      "findings.csv",
      "rejected.ndjson",
    ];
    const outputs: string[][] = [];
    for (const workers of ["0", "1", "3"]) {
      const dir = await mkdtemp(join(tmpdir(), `bqcb-w${workers}-`));
      const result = await cli(["demo", "--out", dir, "--workers", workers]);
      expect(result.code, result.stderr).toBe(0);
      outputs.push(await Promise.all(files.map((name) => readFile(join(dir, name), "utf8"))));
    }
    expect(outputs[1]).toEqual(outputs[0]);
    expect(outputs[2]).toEqual(outputs[0]);
  }, 60_000);

  it("reads gzip and stdin like plain files", async () => {
    const text = await readFile(join(SAMPLE, "logs/2026-10-v2-and-v1.ndjson"));
    const dir = await mkdtemp(join(tmpdir(), "bqcb-gz-"));
    await writeFile(join(dir, "logs.ndjson.gz"), gzipSync(text));
    const registry = join(SAMPLE, "registry.yaml");
    const plain = await cli([
      "report",
      "--logs",
      join(SAMPLE, "logs/2026-10-v2-and-v1.ndjson"),
      "--registry",
      registry,
      "--out",
      join(dir, "a"),
    ]);
    const gz = await cli([
      "report",
      "--logs",
      join(dir, "logs.ndjson.gz"),
      "--registry",
      registry,
      "--out",
      join(dir, "b"),
    ]);
    const stdin = await cli(
      ["report", "--logs", "-", "--registry", registry, "--out", join(dir, "c")],
      text.toString("utf8"),
    );
    for (const result of [plain, gz, stdin]) expect(result.code, result.stderr).toBe(0);
    const [a, b, c] = await Promise.all(
      ["a", "b", "c"].map((d) => readFile(join(dir, d, "department_costs.csv"), "utf8")),
    );
    expect(b).toEqual(a);
    expect(c).toEqual(a);
  }, 60_000);

  it("reports by day and within --from/--to", async () => {
    const dir = await mkdtemp(join(tmpdir(), "bqcb-day-"));
    const result = await cli([
      "report",
      "--logs",
      join(SAMPLE, "logs/*.*"),
      "--registry",
      join(SAMPLE, "registry.yaml"),
      "--period",
      "day",
      "--from",
      "2026-10-10",
      "--to",
      "2026-10-11",
      "--out",
      dir,
    ]);
    expect(result.code, result.stderr).toBe(0);
    const rows = await table(dir, "department_costs.csv");
    expect(new Set(rows.map((row) => row.period))).toEqual(new Set(["2026-10-10", "2026-10-11"]));
    const dayJobs = await table(dir, "job_costs.csv");
    expect(dayJobs.length).toBe(
      jobs.filter((job) => job.usage_date === "2026-10-10" || job.usage_date === "2026-10-11").length,
    );
  }, 60_000);
});

describe("a domain-scoped project (example.com:p)", () => {
  it("is registered, attributed and reported like any other", async () => {
    const dir = await mkdtemp(join(tmpdir(), "bqcb-scoped-"));
    const registry = join(dir, "registry.yaml");
    await writeFile(
      registry,
      [
        "organization: { domains: [acme.example] }",
        "departments:",
        "  - id: finance",
        '    projects: ["example.com:acme-archive", acme-fin-lake]',
        "    principals: [carol@acme.example]",
      ].join("\n"),
    );
    // The ingest function's fixture entry, as if run in the domain-scoped project by a finance analyst.
    const entry = (await readFile(join(ROOT, "test/fixtures/functions/v2-jobchange-done.json"), "utf8"))
      .replaceAll("acme-fin-bi", "example.com:acme-archive")
      .replaceAll("px-data", "acme-fin-lake")
      .replace("pat@partner-x.example", "carol@acme.example");
    const logs = join(dir, "entries.ndjson");
    await writeFile(logs, `${JSON.stringify(JSON.parse(entry))}\n`);
    const result = await cli(["report", "--logs", logs, "--registry", registry, "--out", join(dir, "out")]);
    expect(result.code, result.stderr).toBe(0);
    expect(await table(join(dir, "out"), "job_costs.csv")).toEqual([
      expect.objectContaining({
        job_id: "example.com:acme-archive:US.bquxjob_4f1a_19b2c3d4e5f",
        billing_project: "example.com:acme-archive",
        payer_department: "finance",
        consumer_department: "finance",
      }),
    ]);
    expect(await table(join(dir, "out"), "findings.csv")).toEqual([]);
  }, 60_000);
});

describe("bad usage and configuration exit 2 with a message", () => {
  it("says what is missing or wrong", async () => {
    const noRegistry = await cli(["report", "--logs", "x.json"]);
    expect(noRegistry.code).toBe(2);
    expect(noRegistry.stderr).toContain("--registry");
    const badDate = await cli(["report", "--logs", "x", "--registry", "r", "--from", "2026-02-30"]);
    expect([badDate.code, badDate.stderr]).toEqual([
      2,
      expect.stringContaining('--from: expected a date YYYY-MM-DD, found "2026-02-30"'),
    ]);
    const unknown = await cli(["frobnicate"]);
    expect(unknown.code).toBe(2);
    const dir = await mkdtemp(join(tmpdir(), "bqcb-bad-"));
    await writeFile(
      join(dir, "registry.yaml"),
      "organization:\n  domains: [acme.example]\ndepartments:\n  - id: x\n    projectz: []\n",
    );
    const badRegistry = await cli([
      "report",
      "--logs",
      join(SAMPLE, "logs/*.json"),
      "--registry",
      join(dir, "registry.yaml"),
      "--out",
      dir,
    ]);
    expect(badRegistry.code).toBe(2);
    expect(badRegistry.stderr).toContain("registry.yaml:5: departments[0].projectz: unknown key");
    const missing = await cli([
      "report",
      "--logs",
      join(dir, "nope.ndjson"),
      "--registry",
      join(SAMPLE, "registry.yaml"),
    ]);
    expect([missing.code, missing.stderr]).toEqual([2, expect.stringContaining("nope.ndjson: no such file")]);
  });

  it("documents every command and flag", async () => {
    const help = await cli(["--help"]);
    expect(help.code).toBe(0);
    for (const command of ["report", "demo", "sample"]) expect(help.stdout).toContain(command);
    const reportHelp = await cli(["report", "--help"]);
    for (const flag of [
      "--logs",
      "--registry",
      "--storage",
      "--from",
      "--to",
      "--period",
      "--timezone",
      "--out",
      "--workers",
    ]) {
      expect(reportHelp.stdout).toContain(flag);
    }
  });
});

describe("the bin as its own program", () => {
  it("runs from its #! line (as npm start and npx run it), Node's flags included", async () => {
    // The #! line finds node on PATH: this Node first, as npm scripts put the project's Node.
    const env = { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ""}` };
    const bin = join(ROOT, "bin/bq-chargeback.js");
    const { stdout } = await promisify(execFile)(bin, ["--version"], { env });
    const { version } = JSON.parse(await readFile(join(ROOT, "package.json"), "utf8"));
    expect(stdout.trim()).toContain(version);
    expect((await readFile(bin, "utf8")).split("\n")[0]).toMatch(/--max-semi-space-size=\d+/);
  });
});
