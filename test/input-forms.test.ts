// The other forms users export the same entries in (issue 11 A.2), read as entries, not rejected
// line by line:
// - pretty-printed LogEntry objects, one or several (the repository's own fixtures are such);
// - the Logging API's entries.list response, `{"entries": [LogEntry...], "nextPageToken": ...}`
//   (https://cloud.google.com/logging/docs/reference/v2/rest/v2/entries/list), pretty or compact;
// - UTF-16 with a byte-order mark, as a Windows shell redirect (PowerShell `>`) writes it.
// (One JSON array, as `gcloud logging read --format=json` writes, and a UTF-8 BOM were read already:
// log-files.test.ts.)
import { readFileSync } from "node:fs";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runReport } from "../src/cli/report-command.ts";

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
