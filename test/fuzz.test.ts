// Fuzz (issue 12, "Done when"): 100 000 mutated entries built from the real captures and the
// sample through the core and the whole command, and 1 000 through the ingest function on the
// functions-framework server. No crash, no hang, memory bounded, and every entry accounted for:
// entries in = jobs + duplicates + outside the period + table reads + ignored + rejected.
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { notAfterFor } from "../src/core/parse.ts";
import { assessEntry, ChargebackPipeline, entryContext, type RunCounters } from "../src/core/pipeline.ts";
import { parseRegistry } from "../src/core/registry.ts";
import type { FakeBigQuery } from "./support/fake-bigquery.ts";
import { type FunctionServer, startIngestFunction } from "./support/function-server.ts";
import { mutatedEntries, random, seedEntries } from "./support/mutate.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const REGISTRY = join(ROOT, "sample/acme/registry.yaml");
const FUNCTION_REGISTRY = join(ROOT, "test/fixtures/functions/registry.yaml");
const ENTRIES = 100_000;
const MESSAGES = 1_000;
const run = promisify(execFile);

const sum = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);
const accounted = (c: RunCounters) =>
  c.jobs + c.duplicateJobs + c.outsidePeriod + c.tableReads + sum(c.ignored) + sum(c.rejected);

const seeds = seedEntries();
let lines: string[];
let inProcess: RunCounters;

beforeAll(() => {
  // Line 1 is a plain entry, so the file is read as NDJSON whatever the mutations make of line 2.
  lines = [JSON.stringify(seeds[0]), ...mutatedEntries(12, ENTRIES - 1, seeds)];
});

describe("fuzz: 100 000 mutated entries", () => {
  it("through the core: nothing throws, every entry is counted", () => {
    const registry = parseRegistry(readFileSync(REGISTRY, "utf8"), REGISTRY);
    const context = entryContext(registry, { notAfterMs: notAfterFor(Date.now()) });
    const pipeline = new ChargebackPipeline({ registry });
    for (const [i, text] of lines.entries()) {
      const assessed = assessEntry(text, { file: "fuzz.ndjson", line: i + 1 }, context);
      if (assessed.kind === "rejected" && assessed.entry.detail.length > 2000)
        throw new Error(`line ${i + 1}: a rejection's detail of ${assessed.entry.detail.length} characters`);
      pipeline.accept(assessed.kind === "job" ? { kind: "job", job: assessed.job } : assessed);
    }
    pipeline.report();
    inProcess = structuredClone(pipeline.counters);
    expect(inProcess.entries).toBe(ENTRIES);
    expect(accounted(inProcess)).toBe(ENTRIES);
    // the mutations reach every outcome, not only rejections
    expect(inProcess.jobs).toBeGreaterThan(500);
    expect(inProcess.duplicateJobs).toBeGreaterThan(500);
    expect(inProcess.tableReads).toBeGreaterThan(100);
    expect(sum(inProcess.ignored)).toBeGreaterThan(100);
    expect(sum(inProcess.rejected)).toBeGreaterThan(ENTRIES / 5);
    expect(Object.keys(inProcess.rejected).length).toBeGreaterThanOrEqual(4);
  }, 120_000);

  it("through the whole command, on worker threads with a capped heap: the same counts", async () => {
    const dir = await mkdtemp(join(tmpdir(), "bqcb-fuzz-"));
    const file = join(dir, "fuzz.ndjson");
    await writeFile(file, `${lines.join("\n")}\n`);
    const out = join(dir, "out");
    const args = ["report", "--logs", file, "--registry", REGISTRY, "--out", out, "--workers", "2"];
    // The main thread's heap is capped far below the input's size: memory stays bounded or the run dies.
    const result = await run(
      process.execPath,
      ["--max-old-space-size=192", join(ROOT, "bin/bq-chargeback.js"), ...args],
      { cwd: ROOT, timeout: 240_000, maxBuffer: 1 << 24 },
    ).catch((error: { code: number; signal: string; stderr: string }) => {
      throw new Error(`exit ${error.code ?? error.signal}: ${error.stderr}`);
    });
    expect(result.stderr).toBe("");
    const summary = JSON.parse(await readFile(join(out, "summary.json"), "utf8"));
    expect(summary.entries_read).toBe(ENTRIES);
    expect(
      summary.jobs +
        summary.duplicate_job_entries +
        summary.jobs_outside_period +
        summary.table_reads +
        summary.ignored.total +
        summary.rejected.total,
    ).toBe(ENTRIES);
    expect(summary.rejected.by_reason).toEqual(inProcess.rejected);
    expect(summary.ignored.by_reason).toEqual(inProcess.ignored);
    expect([summary.jobs, summary.duplicate_job_entries]).toEqual([inProcess.jobs, inProcess.duplicateJobs]);
    // every rejected entry is in rejected.ndjson, with its line
    const rejected = (await readFile(join(out, "rejected.ndjson"), "utf8")).split("\n").filter(Boolean);
    expect(rejected).toHaveLength(summary.rejected.total);
    const record = JSON.parse(rejected[rejected.length - 1] as string);
    expect(lines[Number(record.source.split(":").at(-1)) - 1]?.slice(0, 100)).toBe(record.raw.slice(0, 100));
    await rm(dir, { recursive: true, force: true });
  }, 300_000);
});

describe("fuzz: 1 000 hostile messages to the ingest function", () => {
  let bigquery: FakeBigQuery;
  let server: FunctionServer;

  beforeAll(async () => {
    ({ bigquery, server } = await startIngestFunction(FUNCTION_REGISTRY));
  });

  afterAll(async () => {
    await server?.stop();
    await bigquery?.stop();
  });

  it("acknowledges every message and writes each entry's rows or its rejection", async () => {
    const registry = parseRegistry(readFileSync(FUNCTION_REGISTRY, "utf8"), FUNCTION_REGISTRY);
    const context = entryContext(registry, { notAfterMs: notAfterFor(Date.now()) });
    const next = random(99);
    const expected = { jobs: 0, rejected: 0 };
    const bodies: string[] = [];
    let n = 0;
    for (const text of mutatedEntries(34, MESSAGES, seeds)) {
      n++;
      const messageId = `fuzz-${n}`;
      const roll = next();
      // One in ten envelopes is broken itself: data not base64, not JSON, or missing.
      let data: unknown = { message: { data: Buffer.from(text).toString("base64"), messageId } };
      if (roll < 0.03) data = { message: { data: `${text.slice(0, 20)}*not base64*`, messageId } };
      else if (roll < 0.06) data = "{ not json";
      else if (roll < 0.1) data = { message: { messageId } };
      if (roll < 0.1) expected.rejected++;
      else {
        const kind = assessEntry(text, { file: `pubsub:${messageId}`, line: 1 }, context).kind;
        if (kind === "job") expected.jobs++;
        if (kind === "rejected") expected.rejected++;
      }
      bodies.push(
        JSON.stringify({
          specversion: "1.0",
          id: messageId,
          source: "//pubsub.googleapis.com/projects/acme-chargeback/topics/bq-audit",
          type: "google.cloud.pubsub.topic.v1.messagePublished",
          datacontenttype: "application/json",
          data,
        }),
      );
    }
    const statuses: number[] = [];
    // A few deliveries at a time, as Pub/Sub pushes them.
    for (let i = 0; i < bodies.length; i += 8) {
      const batch = bodies.slice(i, i + 8).map((body) =>
        fetch(server.url, {
          method: "POST",
          headers: { "content-type": "application/cloudevents+json" },
          body,
          signal: AbortSignal.timeout(30_000),
        }).then((response) => response.status),
      );
      statuses.push(...(await Promise.all(batch)));
    }
    expect(statuses.filter((status) => status >= 300)).toEqual([]);
    const inserted = (table: string) =>
      bigquery.inserts
        .filter((insert) => insert.table === table)
        .reduce((total, insert) => total + insert.rows.length, 0);
    expect(inserted("job_costs")).toBe(expected.jobs);
    expect(inserted("rejected_entries")).toBe(expected.rejected);
    // every row written holds values of its column's type (the stand-in refuses others, as BigQuery does)
    expect(bigquery.refused).toEqual([]);
    expect(expected.jobs).toBeGreaterThan(20);
    // a rejected row is bounded whatever the entry
    for (const row of bigquery.rows("rejected_entries"))
      expect(String(row.raw).length).toBeLessThanOrEqual(4096);
  }, 180_000);
});
