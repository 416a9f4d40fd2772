// The other forms users export the same entries in (issue 11 A.2), read as entries, not rejected
// line by line:
// - pretty-printed LogEntry objects, one or several (the repository's own fixtures are such);
// - the Logging API's entries.list response, `{"entries": [LogEntry...], "nextPageToken": ...}`
//   (https://cloud.google.com/logging/docs/reference/v2/rest/v2/entries/list), pretty or compact;
// - UTF-16 with a byte-order mark, as a Windows shell redirect (PowerShell `>`) writes it.
// (One JSON array, as `gcloud logging read --format=json` writes, and a UTF-8 BOM were read already:
// log-files.test.ts.)
import { readFileSync } from "node:fs";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runReport } from "../src/cli/report-command.ts";
import { FORMS_READ } from "../src/io/log-files.ts";
import { cli } from "./support/cli.ts";

const REGISTRY = new URL("./fixtures/functions/registry.yaml", import.meta.url).pathname;
const text = (path: string) => readFileSync(new URL(`./fixtures/${path}`, import.meta.url), "utf8");
const v1Pretty = text("entries/v1-jobcompleted.google-cloudevents.json");
const v2Pretty = text("functions/v2-jobchange-done.json");
const compact = (pretty: string) => JSON.stringify(JSON.parse(pretty));

async function read(content: string | Buffer) {
  const dir = await mkdtemp(join(tmpdir(), "bqcb-forms-"));
  const logs = join(dir, "export.json");
  await writeFile(logs, content);
  const { summary } = await runReport({
    logs: [logs],
    registryFile: REGISTRY,
    granularity: "month",
    outDir: join(dir, "out"),
    progress: false,
  });
  return summary;
}

describe("forms of the same entries", () => {
  it("one pretty-printed entry (a fixture file as it is)", async () => {
    const summary = await read(v1Pretty);
    expect(summary).toMatchObject({ jobs: 1, rejected: { total: 0 }, input_status: "ok" });
  });

  it("several pretty-printed entries one after another", async () => {
    const summary = await read(`${v1Pretty}\n${v2Pretty}\n`);
    expect(summary).toMatchObject({ entries_read: 2, jobs: 2, rejected: { total: 0 } });
  });

  it("an entries.list response, pretty-printed and compact", async () => {
    const page = { entries: [JSON.parse(v1Pretty), JSON.parse(v2Pretty)], nextPageToken: "EAA4AUoA" };
    for (const body of [JSON.stringify(page, null, 2), JSON.stringify(page)]) {
      const summary = await read(body);
      expect(summary).toMatchObject({ entries_read: 2, jobs: 2, rejected: { total: 0 } });
    }
  });

  it("NDJSON in UTF-16, little- and big-endian, with its byte-order mark", async () => {
    const ndjson = `${compact(v1Pretty)}\r\n${compact(v2Pretty)}\r\n`;
    const le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(ndjson, "utf16le")]);
    const be = Buffer.from(le);
    be.swap16();
    for (const bytes of [le, be]) {
      const summary = await read(bytes);
      expect(summary).toMatchObject({ entries_read: 2, jobs: 2, rejected: { total: 0 } });
    }
  });

  it("NDJSON stays NDJSON: a bad line is one rejected entry, the next line is read", async () => {
    const summary = await read(`${compact(v2Pretty)}\n{"insertId": "cut\n${compact(v1Pretty)}\n`);
    expect(summary).toMatchObject({ entries_read: 3, jobs: 2, rejected: { total: 1 } });
  });
});

// A file in none of those forms (issue 11 A.2) is refused whole, in one line naming the file, what
// it looks like and the forms read; the run goes on with the other files, says so first and exits
// 5 (reports written, input not read). An NDJSON file with bad lines is still read line by line.
describe("a file in none of the forms read", () => {
  const good = `${compact(v1Pretty)}\n${compact(v2Pretty)}\n`;
  const others: [string, string | Buffer, string][] = [
    [
      "jobs.csv",
      "job_id,creation_time,total_bytes_billed\nacme-fin-bi:US.bquxjob_1,2026-10-01 07:00:00 UTC,10485760\n",
      'CSV (bq query --format=csv, bq extract), starting "job_id,creation_time,total_bytes_billed"',
    ],
    [
      "registry.yaml",
      "departments:\n  - id: finance\n    projects: [acme-fin-bi]\n",
      'YAML, starting "departments:"',
    ],
    [
      "listing.txt",
      "gs://acme-audit/cloudaudit.googleapis.com/data_access/2026/10/01/00:00:00_00:59:59_S0.json\n",
      'a Cloud Storage object listing (gcloud storage ls), starting "gs://acme-audit/cloudaudit.googleapis.com/data_access/202..."',
    ],
    ["notes.txt", "\nBigQuery audit logs, October\n", 'plain text, starting "BigQuery audit logs, October"'],
    [
      "export.avro",
      Buffer.concat([Buffer.from("Obj\u0001", "latin1"), Buffer.from([4, 0x14, 0x61, 0x76, 0x72, 0x6f])]),
      "an Avro file (bq extract --destination_format=AVRO)",
    ],
  ];

  it("is refused in one line naming it, its form and the forms read; the other files are read", async () => {
    const dir = await mkdtemp(join(tmpdir(), "bqcb-refused-"));
    const logs = join(dir, "good.ndjson");
    await writeFile(logs, good);
    const files: string[] = [];
    for (const [name, content] of others) {
      files.push(join(dir, name));
      await writeFile(join(dir, name), content);
    }
    const out = join(dir, "out");
    const run = await cli(["report", "--logs", logs, ...files, "--registry", REGISTRY, "--out", out]);
    expect(run.code).toBe(5);
    const refusals = run.stderr.split("\n").filter((line) => line.includes(": refused: "));
    expect(refusals).toEqual(
      others.map(
        ([name, , form]) =>
          `bq-chargeback: ${join(dir, name)}: refused: it is ${form}; expected ${FORMS_READ}`,
      ),
    );
    const summary = JSON.parse(await readFile(join(out, "summary.json"), "utf8"));
    expect(summary).toMatchObject({
      input_status: "inputs_refused",
      entries_read: 2,
      jobs: 2,
      rejected: { total: 0 },
      refused_inputs: others.map(([name, , form]) => ({ file: join(dir, name), form })),
    });
    expect(summary.warning).toMatch(/^5 of 6 inputs were refused, in none of the forms read/);
    expect(run.stdout.split("\n")[0]).toBe(`WARNING       ${summary.warning}`);
    // report.md and report.html open with it too
    expect(await readFile(join(out, "report.md"), "utf8")).toContain(summary.warning);
    expect(await readFile(join(out, "report.html"), "utf8")).toContain("5 of 6 inputs were refused");
  });

  it("an NDJSON file whose first line is damaged is read line by line, nothing lost", async () => {
    const dir = await mkdtemp(join(tmpdir(), "bqcb-refused-"));
    const logs = join(dir, "logs.ndjson");
    await writeFile(logs, `oops, not an entry\n${good}`);
    const out = join(dir, "out");
    const run = await cli(["report", "--logs", logs, "--registry", REGISTRY, "--out", out]);
    expect(run.code).toBe(0);
    const summary = JSON.parse(await readFile(join(out, "summary.json"), "utf8"));
    expect(summary).toMatchObject({
      input_status: "ok",
      jobs: 2,
      rejected: { total: 1 },
      refused_inputs: [],
    });
    const rejected = JSON.parse((await readFile(join(out, "rejected.ndjson"), "utf8")).trim());
    expect(rejected).toMatchObject({ source: `${logs}:1`, reason: "invalid_json" });
  });
});
