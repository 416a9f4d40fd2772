// Rows of a Log Router sink's BigQuery table, exported to files (issue 11 A.1), are read as the
// entries they were written from. Fixtures (test/fixtures/sink/README.md names the sources of
// each shape): the same five entries — a v2 jobChange, a v1 jobcompleted, a v1 cached query
// (its statistics columns NULL), a v2 tableDataRead and the v2 entry delivered twice — as
// LogEntries (entries.ndjson), as `bq query --format=json` and `--format=prettyjson` print the
// table's rows and as `bq extract --destination_format=NEWLINE_DELIMITED_JSON` writes them.
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { rfc3339FromBq } from "../src/io/bq-timestamp.ts";
import { cli, table } from "./support/cli.ts";

const fixture = (name: string) => new URL(`./fixtures/sink/${name}`, import.meta.url).pathname;
const REGISTRY = new URL("./fixtures/functions/registry.yaml", import.meta.url).pathname;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "bqcb-sink-"));
});

async function report(logs: string, name: string) {
  const out = join(dir, name);
  const result = await cli([
    "report",
    "--logs",
    logs,
    "--registry",
    REGISTRY,
    "--out",
    out,
    "--workers",
    "0",
  ]);
  const summary = JSON.parse(await readFile(join(out, "summary.json"), "utf8"));
  const rejected = (await readFile(join(out, "rejected.ndjson"), "utf8"))
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line));
  return { result, summary, rejected, jobs: await table(out, "job_costs.csv") };
}

describe("Log Router sink rows exported with bq", () => {
  it("give the job costs of the same entries read as LogEntries", async () => {
    const entries = await report(fixture("entries.ndjson"), "entries");
    expect(entries.summary).toMatchObject({ jobs: 3, duplicate_job_entries: 1, table_reads: 1 });
    expect(entries.jobs.map((job) => job.audit_format).sort()).toEqual(["v1", "v1", "v2"]);
    for (const form of ["bq-query.json", "bq-query.pretty.json", "bq-extract.ndjson"]) {
      const rows = await report(fixture(form), form);
      expect(rows.result.code, `${form}: ${rows.result.stderr}`).toBe(0);
      expect(rows.rejected).toEqual([]);
      expect(rows.summary).toMatchObject({
        input_status: "ok",
        entries_read: 5,
        jobs: 3,
        duplicate_job_entries: 1,
        table_reads: 1,
      });
      // bq query prints a TIMESTAMP to the second (it drops the fraction); the v1 end times are
      // TIMESTAMP columns, the v2 ones JSON text in metadataJson, kept whole.
      const toSecond = (job: Record<string, string>) =>
        form.startsWith("bq-query") && job.audit_format === "v1"
          ? { ...job, end_time: job.end_time?.replace(/\.\d+Z$/, "Z") }
          : job;
      expect(rows.jobs).toEqual(entries.jobs.map(toSecond));
      // the v1 query whose statistics columns are NULL is a cache hit, as its LogEntry is
      const cached = rows.jobs.find((job) => job.job_id?.endsWith("bquxjob_5ec753e5_179ab1e2c48"));
      expect(cached).toMatchObject({ cache_hit: "true", pricing_model: "cache_hit", billed_bytes: "0" });
    }
  });

  it("a bad row is rejected with its file, line or row, and column; the other rows are counted", async () => {
    const lines = (await readFile(fixture("bq-extract.ndjson"), "utf8")).trim().split("\n");
    const broken = JSON.parse(lines[1] as string);
    broken.protopayload_auditlog.servicedata_v1_bigquery.jobCompletedEvent.job.jobStatistics.endTime =
      "yesterday";
    const ndjson = join(dir, "broken.ndjson");
    await writeFile(ndjson, [lines[0], JSON.stringify(broken), ...lines.slice(2)].join("\n"));
    const extract = await report(ndjson, "broken-extract");
    expect(extract.summary).toMatchObject({ entries_read: 5, jobs: 2, rejected: { total: 1 } });
    expect(extract.rejected).toEqual([
      expect.objectContaining({
        source: `${ndjson}:2`,
        reason: "invalid_field",
        detail:
          'sink row: protopayload_auditlog.servicedata_v1_bigquery.jobCompletedEvent.job.jobStatistics.endTime: expected a TIMESTAMP ("2026-10-01 12:00:00[.ffffff] UTC", RFC 3339 or epoch seconds), found "yesterday"',
      }),
    ]);
    // bq query prints one line: the row's number says which; a bad int64 inside metadataJson.
    const rows = JSON.parse(await readFile(fixture("bq-query.json"), "utf8"));
    rows[0].protopayload_auditlog.metadataJson = rows[0].protopayload_auditlog.metadataJson.replace(
      '"totalBilledBytes":"549755813888"',
      '"totalBilledBytes":"5.4e11"',
    );
    const json = join(dir, "broken.json");
    await writeFile(json, JSON.stringify(rows));
    const query = await report(json, "broken-query");
    expect(query.summary).toMatchObject({ entries_read: 5, jobs: 3, duplicate_job_entries: 0 });
    expect(query.rejected).toEqual([
      expect.objectContaining({
        source: `${json}:1`,
        detail:
          'sink row 1: protopayload_auditlog.metadataJson: $.jobChange.job.jobStats.queryStats.totalBilledBytes: expected an int64 (a string of digits), found "5.4e11"',
      }),
    ]);
  });
});

describe("a TIMESTAMP as bq and the API write it", () => {
  it.each([
    ["2026-10-01 12:00:00", "2026-10-01T12:00:00Z"],
    ["2026-10-01 12:00:00 UTC", "2026-10-01T12:00:00Z"],
    ["2015-05-20 21:34:02.1 UTC", "2015-05-20T21:34:02.1Z"],
    ["2015-05-20 21:34:02.123456 UTC", "2015-05-20T21:34:02.123456Z"],
    ["2026-10-01T12:00:00.5Z", "2026-10-01T12:00:00.5Z"],
    ["1.6330752E9", "2021-10-01T08:00:00.000000Z"],
    ["1633075200.123456", "2021-10-01T08:00:00.123456Z"],
    [1633075200, "2021-10-01T08:00:00.000000Z"],
  ])("%s", (written, expected) => {
    expect(rfc3339FromBq(written)).toBe(expected);
  });

  it("is not guessed from other text", () => {
    for (const text of ["yesterday", "2026-10-01", "12:00:00", "1e400", ""])
      expect(rfc3339FromBq(text)).toBeUndefined();
  });
});
