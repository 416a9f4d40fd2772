// `bq-chargeback iam` on the sample organisation, whose IAM export holds the grants behind what
// its logs play out: expectations are derived from the chargeback's own findings, not copied.
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { cli, micros, ROOT, table } from "./support/cli.ts";

const SAMPLE = "sample/acme";
const POLICIES = ["--policies", `${SAMPLE}/iam/*.json`, "--registry", `${SAMPLE}/registry.yaml`];

const sum = (values: string[]) => values.reduce((total, usd) => total + micros(usd), 0n);
/** CSV costs have 6 decimals, each rounded from nano-dollars: a sum of n may be off by n/2 micro-dollars. */
const closeTo = (usd: string, rows: string[]) => {
  const difference = micros(usd) - sum(rows);
  return (difference < 0n ? -difference : difference) * 2n <= BigInt(rows.length);
};

let out: string;
let result: Awaited<ReturnType<typeof cli>>;
let iam: Record<string, string>[];
let rides: Record<string, string>[];
let jobs: Record<string, string>[];

beforeAll(async () => {
  out = await mkdtemp(join(tmpdir(), "bqcb-iam-"));
  result = await cli([
    "iam",
    ...POLICIES,
    "--logs",
    `${SAMPLE}/logs/*.*`,
    "--out",
    out,
    "--fail-on",
    "critical",
  ]);
  iam = await table(out, "iam_findings.csv");
  rides = await table(out, "findings.csv");
  jobs = await table(out, "job_costs.csv");
}, 60_000);

const of = (kind: string, member: string) => iam.filter((f) => f.kind === kind && f.member === member);

describe("bq-chargeback iam on the sample organisation, with its logs", () => {
  it("exits 4 for --fail-on critical, and writes the report with the audit in it", async () => {
    expect(result.code, result.stderr).toBe(4);
    expect(result.stdout).toMatch(/iam findings {2}\d+ \(critical 4,/);
    const summary = JSON.parse(await readFile(join(out, "summary.json"), "utf8"));
    expect(summary.jobs).toBeGreaterThan(0);
    expect(summary.iam.findings.total).toBe(iam.length);
    expect(summary.iam.findings.by_severity.critical).toBe(
      iam.filter((f) => f.severity === "critical").length,
    );
    expect(summary.iam.usage_checked).toBe(true);
    expect(summary.iam.rejected.total).toBe(0);
    // The realized grants are exactly the sample's free rides, to the nano-dollar.
    expect(summary.iam.realized_usd).toBe(summary.totals_usd.free_rides);
    const markdown = await readFile(join(out, "report.md"), "utf8");
    expect(markdown).toContain("## Who can bill which project");
    expect(markdown).toMatch(/\| critical \| external_job_rights \| realized: \d+ jobs/);
    const html = await readFile(join(out, "report.html"), "utf8");
    expect(html).toContain('<section id="iam"><h2>Who can bill which project</h2>');
    expect(html).toContain("iam-matrix");
  });

  it("finds the partner's wrongly granted Job User, realized at the cost of its free rides", () => {
    const [pat] = of("external_job_rights", "user:pat@partner-x.example");
    expect(pat).toMatchObject({ severity: "critical", status: "realized", project: "acme-mkt-bi" });
    const patRides = rides.filter(
      (f) =>
        f.kind === "external_free_ride" &&
        f.principal === "pat@partner-x.example" &&
        f.billing_project === "acme-mkt-bi",
    );
    expect(patRides.length).toBeGreaterThan(0);
    // Every job of theirs there counts as use (a script parent too); the cost is the free rides'.
    const patJobs = jobs.filter(
      (j) => j.principal === "pat@partner-x.example" && j.billing_project === "acme-mkt-bi",
    );
    expect(Number(pat?.jobs)).toBe(patJobs.length);
    expect(
      closeTo(
        pat?.cost_usd ?? "",
        patRides.map((f) => f.cost_usd ?? ""),
      ),
    ).toBe(true);
    expect(pat?.remediation).toBe(
      "gcloud projects remove-iam-policy-binding acme-mkt-bi --member='user:pat@partner-x.example' --role=roles/bigquery.jobUser",
    );
  });

  it("joins the cross-department grants with the rides the logs show, and tells latent ones apart", () => {
    for (const [member, project] of [
      ["bob@mkt.acme.example", "acme-fin-bi"],
      ["hank@ds.acme.example", "acme-sales-bi"],
    ] as const) {
      const [grant] = of("cross_department_job_rights", `user:${member}`);
      const cross = rides.filter(
        (f) =>
          f.kind === "cross_department_free_ride" && f.principal === member && f.billing_project === project,
      );
      const theirs = jobs.filter((j) => j.principal === member && j.billing_project === project);
      expect(grant).toMatchObject({ project, status: "realized", jobs: String(theirs.length) });
      expect(
        closeTo(
          grant?.cost_usd ?? "",
          cross.map((f) => f.cost_usd ?? ""),
        ),
      ).toBe(true);
    }
    expect(of("cross_department_job_rights", "user:gina@ds.acme.example")[0]).toMatchObject({
      status: "latent",
      jobs: "0",
    });
    expect(of("cross_department_job_rights", "user:alice@acme.example")[0]).toMatchObject({
      status: "latent",
      role: "organizations/123456789012/roles/bqQueryRunner",
    });
  });

  it("raises nothing on a correct grant", () => {
    for (const member of [
      "user:alice@acme.example/acme-mkt-bi",
      "user:carol@acme.example",
      "user:dave@acme.example",
      "user:erin@acme.example",
      "user:ops@acme.example",
      "serviceAccount:etl-runner@acme-etl.iam.gserviceaccount.com",
      "serviceAccount:mkt-loader@acme-mkt-bi.iam.gserviceaccount.com",
      "user:intern@acme.example",
    ]) {
      const [who, project] = member.split("/");
      const hits = iam.filter((f) => f.member === who && (project === undefined || f.project === project));
      expect(hits, member).toEqual([]);
    }
    // The partner's dataset-level share (bq show access entry) is the share done right.
    expect(iam.filter((f) => f.resource === "acme-mkt-lake:campaigns")).toEqual([]);
  });

  it("reports the unused grant, the deleted principal, the unmapped number, the public dataset", () => {
    expect(of("unused_job_rights", "user:frank@acme.example")[0]).toMatchObject({
      project: "acme-sales-bi",
      status: "latent",
    });
    expect(iam.filter((f) => f.kind === "deleted_principal")).toHaveLength(1);
    expect(iam.filter((f) => f.kind === "unmapped_project_number")[0]?.member).toBe(
      "serviceAccount:555000000099-compute@developer.gserviceaccount.com",
    );
    expect(of("public_access", "domain:other.example")[0]?.resource).toBe("acme-fin-lake:ledger");
    expect(of("project_level_read", "user:quinn@partner-x.example")[0]?.project).toBe("acme-mkt-lake");
    // Where each came from: the export file and line.
    expect(of("external_job_rights", "user:pat@partner-x.example")[0]?.source).toMatch(
      /^sample\/acme\/iam\/organization-policies\.json:\d+: \[\d+\]\.policy\.bindings\[0\]\.members\[2\]$/,
    );
  });
});

describe("bq-chargeback iam without logs, and on bad input", () => {
  it("audits the export alone: statuses not checked, no unused grants, exit 0 without --fail-on", async () => {
    const dir = await mkdtemp(join(tmpdir(), "bqcb-iam-"));
    const alone = await cli(["iam", ...POLICIES, "--out", dir]);
    expect(alone.code, alone.stderr).toBe(0);
    const rows = await table(dir, "iam_findings.csv");
    expect(rows.find((f) => f.member === "user:pat@partner-x.example")?.status).toBe("not_checked");
    expect(rows.some((f) => f.kind === "unused_job_rights")).toBe(false);
    expect(await readFile(join(dir, "report.html"), "utf8")).toContain("Who can bill which project");
    expect(JSON.parse(await readFile(join(dir, "summary.json"), "utf8")).iam.usage_checked).toBe(false);
  });

  it("names the file and line of a truncated export (exit 2)", async () => {
    const dir = await mkdtemp(join(tmpdir(), "bqcb-iam-"));
    const text = await readFile(join(ROOT, SAMPLE, "iam/organization-policies.json"), "utf8");
    const cut = join(dir, "org.json");
    await writeFile(cut, text.slice(0, 5000));
    const failed = await cli([
      "iam",
      "--policies",
      cut,
      "--registry",
      `${SAMPLE}/registry.yaml`,
      "--out",
      dir,
    ]);
    expect(failed.code).toBe(2);
    expect(failed.stderr).toContain(
      `${cut}:${text.slice(0, 5000).split("\n").length}: the JSON ends before it is complete`,
    );
  });

  it("keeps bindings it cannot judge in iam_rejected.ndjson with where and what was expected", async () => {
    const dir = await mkdtemp(join(tmpdir(), "bqcb-iam-"));
    const policy = join(dir, "policy.json");
    await writeFile(
      policy,
      `${JSON.stringify(
        {
          bindings: [
            { role: "roles/bigquery.jobUser", members: ["user:erin@acme.example", "robot:r2@acme.example"] },
            { role: "projects/acme-sales-bi/roles/runner", members: ["user:frank@acme.example"] },
          ],
          etag: "BwX=",
          version: 1,
        },
        null,
        2,
      )}\n`,
    );
    const ran = await cli([
      "iam",
      "--policies",
      `acme-sales-bi=${policy}`,
      "--registry",
      `${SAMPLE}/registry.yaml`,
      "--out",
      dir,
    ]);
    expect(ran.code, ran.stderr).toBe(0);
    const rejected = (await readFile(join(dir, "iam_rejected.ndjson"), "utf8"))
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(rejected).toEqual([
      expect.objectContaining({
        file: policy,
        line: 7,
        path: "bindings[0].members[1]",
        reason: "unknown_member",
      }),
      expect.objectContaining({
        file: policy,
        line: 13,
        path: "bindings[1].members[0]",
        reason: "unknown_role",
      }),
    ]);
    expect(rejected[1].detail).toContain(
      "gcloud iam roles describe runner --project=acme-sales-bi --format=json",
    );
  });

  it("refuses an unknown --fail-on", async () => {
    const failed = await cli(["iam", ...POLICIES, "--fail-on", "severe"]);
    expect(failed.code).toBe(2);
    expect(failed.stderr).toContain("--fail-on severe: expected one of critical, high, medium, low or none");
  });
});
