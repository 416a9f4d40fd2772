// The same report whatever the degree of parallelism and however the input is cut into chunks
// (issue 14): every output file byte for byte, over the bundled sample (NDJSON and a JSON array
// export, v1 and v2, duplicates, held copies, table reads, rejected entries), with the storage
// snapshot, the billing export, the JOBS export and the IAM exports as the demo runs them.
import { mkdtemp, readdir, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runReport } from "../src/cli/report-command.ts";

const SAMPLE = new URL("../sample/acme/", import.meta.url).pathname;

/**
 * Every file of a report folder, less what is of the run, not of its input: the timings in
 * summary.json, the time of the IAM audit (the clock), and the numbers ECharts gives the SVG
 * style classes of report.html (a counter of the charts drawn in the process).
 */
async function folder(dir: string): Promise<Record<string, string>> {
  const summary = JSON.parse(await readFile(join(dir, "summary.json"), "utf8"));
  const auditTime: string = summary.iam.audit_time;
  expect(summary.run.elapsed_ms).toBeGreaterThanOrEqual(0);
  summary.run = { ...summary.run, elapsed_ms: 0, entries_per_second: 0, mb_per_second: 0 };
  const files: Record<string, string> = {};
  for (const name of (await readdir(dir)).sort()) {
    const text = name === "summary.json" ? JSON.stringify(summary) : await readFile(join(dir, name), "utf8");
    files[name] = text
      .replaceAll(auditTime, "AUDIT_TIME")
      .replace(/\bzr\d+-cls-\d+/g, "zr-cls")
      .replace(/\bzr\d+-/g, "zr-");
  }
  return files;
}

/** Where two texts first differ, with a little context either side; undefined when equal. */
function firstDifference(got: string | undefined, want: string | undefined): string | undefined {
  if (got === want) return undefined;
  const a = got ?? "";
  const b = want ?? "";
  let at = 0;
  while (at < a.length && a[at] === b[at]) at++;
  return `at ${at}: got ...${a.slice(Math.max(0, at - 80), at + 80)}... want ...${b.slice(Math.max(0, at - 80), at + 80)}...`;
}

async function report(workers: number, chunking: { chunkBytes?: number; batchSize?: number }) {
  const outDir = join(await mkdtemp(join(tmpdir(), `bqcb-same-w${workers}-`)), "out");
  await runReport({
    logs: [join(SAMPLE, "logs/2026-10-v2-and-v1.ndjson"), join(SAMPLE, "logs/2026-10-export.json")],
    registryFile: join(SAMPLE, "registry.yaml"),
    storageFile: join(SAMPLE, "table_storage.csv"),
    billingFiles: [join(SAMPLE, "billing_export.json")],
    jobsFiles: [join(SAMPLE, "jobs_by_project.csv")],
    policies: (await readdir(join(SAMPLE, "iam"))).map((name) => ({ file: join(SAMPLE, "iam", name) })),
    granularity: "month",
    outDir,
    progress: false,
    workers,
    chunking,
  });
  return folder(outDir);
}

describe("the same results at every degree of parallelism and chunk size", () => {
  it("writes identical report folders with 0, 1 and 3 workers and chunks of 1 KiB / 1 entry, 64 KiB / 2000 entries and 1 MiB / 7 entries", async () => {
    const reference = await report(0, {});
    expect(Object.keys(reference)).toEqual(
      expect.arrayContaining([
        "job_costs.csv",
        "findings.csv",
        "duplicates.ndjson",
        "rejected.ndjson",
        "report.html",
      ]),
    );
    // The sample has held copies, duplicates and rejected entries for the cuts to disturb.
    expect(reference["duplicates.ndjson"]?.length).toBeGreaterThan(0);
    expect(reference["rejected.ndjson"]?.length).toBeGreaterThan(0);
    const chunkings = [
      // smaller than one entry: every NDJSON line spans chunks; one array entry a batch
      { chunkBytes: 1024, batchSize: 1 },
      { chunkBytes: 1 << 20, batchSize: 7 },
      {},
    ];
    for (const workers of [0, 1, 3]) {
      for (const chunking of chunkings) {
        if (workers === 0 && chunking.chunkBytes === undefined) continue;
        const got = await report(workers, chunking);
        for (const name of Object.keys(reference))
          expect(
            firstDifference(got[name], reference[name]),
            `${name} with ${workers} workers, ${JSON.stringify(chunking)}`,
          ).toBeUndefined();
        expect(Object.keys(got)).toEqual(Object.keys(reference));
      }
    }
  }, 180_000);
});
