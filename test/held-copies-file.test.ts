// The CLI keeps incomplete copies of jobs in a scratch file (src/io/held-copies-file.ts): it must
// answer exactly as the heap store does, whatever the order of holds, and leave no file behind.
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { JobSummary } from "../src/core/aggregate.ts";
import {
  assessEntry,
  ChargebackPipeline,
  type CountedJob,
  entryContext,
  type HeldCopies,
  MemoryHeldCopies,
} from "../src/core/pipeline.ts";
import { parseRegistry } from "../src/core/registry.ts";
import { HeldCopiesFile } from "../src/io/held-copies-file.ts";

const SAMPLE = new URL("../sample/acme/", import.meta.url).pathname;
const registry = parseRegistry(readFileSync(join(SAMPLE, "registry.yaml"), "utf8"), "registry.yaml");
const lines = readFileSync(join(SAMPLE, "logs/2026-10-v2-and-v1.ndjson"), "utf8").split("\n");

/** The sample's jobs as stage one judges them: real summaries (bigints, findings, sources). */
function sampleJobs(): JobSummary[] {
  const context = entryContext(registry);
  const jobs: JobSummary[] = [];
  for (const [i, line] of lines.entries()) {
    if (line.trim() === "") continue;
    const assessed = assessEntry(line, { file: "sample.ndjson", line: i + 1 }, context);
    if (assessed.kind === "job") jobs.push(assessed.job);
  }
  return jobs;
}

/** A deterministic pseudo-random sequence (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("held copies in a scratch file", () => {
  it("answers and releases as the heap store does, over thousands of holds across its write and read blocks", async () => {
    const jobs = sampleJobs();
    expect(jobs.length).toBeGreaterThan(10);
    const path = join(await mkdtemp(join(tmpdir(), "bqcb-held-")), ".held-copies");
    const stores: HeldCopies[] = [new MemoryHeldCopies(), new HeldCopiesFile(path)];
    const next = random(14);
    const keys: string[] = [];
    for (let i = 0; i < 6000; i++) {
      // Mostly new keys, sometimes a better copy of an earlier one (as the pipeline does).
      const key =
        keys.length > 0 && next() < 0.3 ? (keys[Math.floor(next() * keys.length)] as string) : `p:job_${i}`;
      if (!keys.includes(key)) keys.push(key);
      const job = { ...(jobs[i % jobs.length] as JobSummary), jobId: key, source: { file: "f", line: i } };
      const counted: CountedJob = { job, line: next() < 0.5 ? `${key},line ${i}\n` : undefined };
      for (const store of stores) store.hold(key, counted);
      const probe = next() < 0.5 ? key : `absent_${i}`;
      expect(stores[1]?.heldCopy(probe)).toEqual(stores[0]?.heldCopy(probe));
    }
    expect(existsSync(path)).toBe(true);
    const [fromHeap, fromFile] = stores.map((store) => [...store.release()]);
    expect(fromFile).toHaveLength(keys.length);
    expect(fromFile).toEqual(fromHeap);
    expect(existsSync(path)).toBe(false);
    expect([...(stores[1] as HeldCopies).release()]).toEqual([]);
  });

  it("gives the pipeline the same outcomes and report as the heap store", async () => {
    const path = join(await mkdtemp(join(tmpdir(), "bqcb-held-")), ".held-copies");
    const runs = [undefined, new HeldCopiesFile(path)].map((heldCopies) => {
      const pipeline = new ChargebackPipeline({ registry, heldCopies });
      const context = entryContext(registry);
      const outcomes = lines.map((line, i) =>
        line.trim() === ""
          ? undefined
          : pipeline.accept(assessEntry(line, { file: "s", line: i + 1 }, context)),
      );
      const released = [...pipeline.releaseHeld()];
      return { outcomes, released, report: pipeline.report() };
    });
    expect(runs[0]?.outcomes.some((outcome) => outcome?.kind === "held")).toBe(true);
    expect(runs[1]).toEqual(runs[0]);
    expect(existsSync(path)).toBe(false);
  });
});
