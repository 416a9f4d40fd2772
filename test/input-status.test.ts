// A run over an input that was mostly not read does not look like success (issue 11 A.3): the
// command exits 5 and the summary (stdout, summary.json, report.md) says so first.
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { cli, ROOT } from "./support/cli.ts";

const REGISTRY = join(ROOT, "test/fixtures/functions/registry.yaml");

async function report(lines: string[]) {
  const dir = await mkdtemp(join(tmpdir(), "bqcb-status-"));
  const logs = join(dir, "logs.ndjson");
  await writeFile(logs, `${lines.join("\n")}\n`);
  const out = join(dir, "out");
  return { ...(await cli(["report", "--logs", logs, "--registry", REGISTRY, "--out", out])), out };
}

const fixture = async (path: string) => JSON.parse(await readFile(join(ROOT, "test/fixtures", path), "utf8"));

/**
 * A Cloud Storage data-access audit entry, in the LogEntry shape Cloud Audit Logs writes
 * (https://cloud.google.com/logging/docs/audit/understanding-audit-logs): another service's log,
 * as a too-wide `gcloud logging read` filter exports it.
 */
const storageEntry = (i: number) =>
  JSON.stringify({
    insertId: `gcs-${i}`,
    logName: "projects/acme-fin-bi/logs/cloudaudit.googleapis.com%2Fdata_access",
    protoPayload: {
      "@type": "type.googleapis.com/google.cloud.audit.AuditLog",
      authenticationInfo: { principalEmail: "carol@acme.example" },
      methodName: "storage.objects.get",
      resourceName: `projects/_/buckets/acme-fin-drop/objects/ledger-${i}.avro`,
      serviceName: "storage.googleapis.com",
      status: {},
    },
    resource: { type: "gcs_bucket", labels: { bucket_name: "acme-fin-drop", project_id: "acme-fin-bi" } },
    severity: "INFO",
    timestamp: "2026-10-14T17:02:20.091854Z",
  });

describe("a run over an input that was mostly not read", () => {
  it("exits 5 and says first that most entries were rejected", async () => {
    const job = JSON.stringify(await fixture("functions/v2-jobchange-done.json"));
    const result = await report([storageEntry(1), storageEntry(2), storageEntry(3), job]);
    expect(result.code).toBe(5);
    expect(result.stdout.split("\n")[0]).toMatch(
      /^WARNING +3 of 4 entries were rejected \(not_bigquery_audit 3\)/,
    );
    expect(result.stderr).toContain("3 of 4 entries were rejected");
    const summary = JSON.parse(await readFile(join(result.out, "summary.json"), "utf8"));
    expect(Object.keys(summary).slice(0, 2)).toEqual(["input_status", "warning"]);
    expect(summary).toMatchObject({ input_status: "mostly_rejected", jobs: 1 });
    const markdown = await readFile(join(result.out, "report.md"), "utf8");
    expect(markdown.split("\n\n")[1]).toMatch(/^> \*\*Warning:\*\* 3 of 4 entries were rejected/);
  }, 30_000);

  it("exits 5 when no BigQuery job was read at all", async () => {
    const read = JSON.stringify(await fixture("entries/v2-tableDataRead-list.datahub.json"));
    const result = await report([read]);
    expect(result.code).toBe(5);
    const summary = JSON.parse(await readFile(join(result.out, "summary.json"), "utf8"));
    expect(summary).toMatchObject({ input_status: "no_jobs", jobs: 0 });
    expect(summary.warning).toMatch(/^no BigQuery job was read from 1 entries/);
  }, 30_000);

  it("exits 0 with no warning when the entries are read", async () => {
    const job = JSON.stringify(await fixture("functions/v2-jobchange-done.json"));
    const result = await report([job, storageEntry(1)]);
    expect(result.code, result.stderr).toBe(0);
    const summary = JSON.parse(await readFile(join(result.out, "summary.json"), "utf8"));
    expect(summary).toMatchObject({ input_status: "ok", warning: null });
  }, 30_000);

  it("says how many jobs are unpriced and why, in the summary and each department's row", async () => {
    const hidden = await fixture("functions/v2-jobchange-done.json");
    hidden.protoPayload.authenticationInfo.principalEmail = "carol@acme.example";
    // row-level security hides totalBilledBytes: absent, while bytes were processed
    delete hidden.protoPayload.metadata.jobChange.job.jobStats.queryStats.totalBilledBytes;
    const result = await report([JSON.stringify(hidden)]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(
      /compute +0\.000000 USD, plus 1 unpriced jobs of unknown cost \(billed_bytes_hidden 1;/,
    );
    const summary = JSON.parse(await readFile(join(result.out, "summary.json"), "utf8"));
    expect(summary.unpriced).toEqual({ jobs: 1, by_reason: { billed_bytes_hidden: 1 } });
    const csv = (await readFile(join(result.out, "department_costs.csv"), "utf8")).trim().split("\n");
    const column = csv[0]?.split(",").indexOf("unpriced_jobs") ?? -1;
    expect(column).toBeGreaterThan(1);
    expect(csv.find((line) => line.includes(",finance,"))?.split(",")[column]).toBe("1");
  }, 30_000);
});
