// The deterministic sample-organisation generator: the same options always give the same
// bytes. It feeds `npm start` (sample/acme), the tests, and the benchmark's large inputs.
import { once } from "node:events";
import { createWriteStream } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { billingSample } from "./billing.ts";
import {
  billedFor,
  computeEngineEntry,
  type SampleJob,
  v1Completed,
  v2Change,
  v2Insertion,
  v2TableRead,
} from "./entries.ts";
import { iamExportFiles } from "./iam.ts";
import {
  OUTSIDE_READS,
  type OutsideRead,
  REGISTRY_YAML,
  RESERVATION,
  SCENARIOS,
  type Scenario,
  STORAGE,
} from "./organisation.ts";

export interface SampleOptions {
  /** YYYY-MM */
  month: string;
  seed: number;
  /** Target number of top-level jobs (script children come on top). */
  jobs: number;
  /** Share of jobs logged only in the legacy v1 format. */
  v1Share?: number;
}

export interface SampleStats {
  entries: number;
  jobs: number;
  scriptParents: number;
  scriptChildren: number;
  cacheHits: number;
  failed: number;
  loads: number;
  reservationJobs: number;
  v1Only: number;
  bothFormats: number;
  repeatedEntries: number;
  inOrgTableReads: number;
  outsideReads: Record<string, number>;
  scenarios: Record<string, number>;
  malformed: number;
}

/** mulberry32: small, fast and good enough for sample data (and the fuzz tests). */
export function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pickWeighted<T extends { weight: number }>(items: readonly T[], r: number): T {
  const total = items.reduce((sum, item) => sum + item.weight, 0);
  let at = r * total;
  for (const item of items) {
    at -= item.weight;
    if (at < 0) return item;
  }
  return items[items.length - 1] as T;
}

export const hex = (rand: () => number, length: number) => {
  let out = "";
  while (out.length < length)
    out += Math.floor(rand() * 0x100000000)
      .toString(16)
      .padStart(8, "0");
  return out.slice(0, length);
};

export function emptyStats(): SampleStats {
  return {
    entries: 0,
    jobs: 0,
    scriptParents: 0,
    scriptChildren: 0,
    cacheHits: 0,
    failed: 0,
    loads: 0,
    reservationJobs: 0,
    v1Only: 0,
    bothFormats: 0,
    repeatedEntries: 0,
    inOrgTableReads: 0,
    outsideReads: {},
    scenarios: {},
    malformed: 0,
  };
}

function monthRange(month: string): [number, number] {
  const [year, m] = month.split("-").map(Number) as [number, number];
  // From 01:00 Pacific (08:00Z in PDT) on the 1st to midnight Pacific at the end: some jobs fall
  // on the next UTC day or month, and must still count in this month, as Google bills.
  const start = Date.UTC(year, m - 1, 1, 8);
  const end = Date.UTC(year, m, 1, 7);
  return [start, end];
}

interface Plan {
  at: number;
  kind: "job" | "outside";
  rand: number;
}

/**
 * The month's entries as NDJSON lines, roughly in time order. `stats` (if given) is filled with
 * what was generated, so tests and docs can state counts without hard-coding them.
 */
export function* generateEntries(
  options: SampleOptions,
  stats: SampleStats = emptyStats(),
): Generator<string> {
  const rand = random(options.seed);
  const v1Share = options.v1Share ?? 0.15;
  const [start, end] = monthRange(options.month);
  const plans: Plan[] = [];
  for (let i = 0; i < options.jobs; i++) {
    plans.push({
      at: start + Math.floor(rand() * (end - start - 600_000)),
      kind: rand() < 0.06 ? "outside" : "job",
      rand: rand(),
    });
  }
  plans.sort((a, b) => a.at - b.at);
  // Intentional bad input at fixed places: a truncated line, an entry of another service, a bad int64.
  const malformedAt = new Set([
    Math.floor(plans.length * 0.2),
    Math.floor(plans.length * 0.5),
    Math.floor(plans.length * 0.8),
  ]);
  let insertCounter = 0;
  const nextInsertId = () => `${hex(rand, 6)}${(insertCounter++).toString(36)}`;

  const emit = function* (entry: Record<string, unknown>): Generator<string> {
    stats.entries++;
    yield JSON.stringify(entry);
  };

  for (let index = 0; index < plans.length; index++) {
    const plan = plans[index] as Plan;
    if (malformedAt.has(index))
      yield* malformed(plan.at, [...malformedAt].indexOf(index), nextInsertId(), rand, stats);
    if (plan.kind === "outside") {
      const read = pickWeighted(OUTSIDE_READS, plan.rand);
      stats.outsideReads[read.name] = (stats.outsideReads[read.name] ?? 0) + 1;
      yield* outsideRead(read, plan.at, rand, nextInsertId).flatMap((e) => [...emit(e)]);
      continue;
    }
    const scenario = pickWeighted(SCENARIOS, plan.rand);
    stats.scenarios[scenario.name] = (stats.scenarios[scenario.name] ?? 0) + 1;
    const jobs = buildJobs(scenario, plan.at, rand, nextInsertId, stats);
    const format = rand();
    for (const job of jobs) {
      stats.jobs++;
      if (format < v1Share) {
        stats.v1Only++;
        yield* emit(v1Completed(job));
        continue;
      }
      yield* emit(v2Insertion(job));
      const change = v2Change(job);
      yield* emit(change);
      if (rand() < 0.02) {
        stats.repeatedEntries++;
        yield* emit(change);
      }
      if (format > 0.97) {
        stats.bothFormats++;
        yield* emit(v1Completed(job));
      }
      // A read across our own projects shows in the data project's log, naming our billing project.
      const foreign = job.referencedTables.find(
        (t) => !t.startsWith(`projects/${job.project}/`) && t.includes("/acme-"),
      );
      if (foreign && !job.cacheHit && !job.error && job.statementType !== "SCRIPT" && rand() < 0.5) {
        stats.inOrgTableReads++;
        yield* emit(
          v2TableRead({
            table: foreign,
            principal: job.principal,
            readerJobName: `projects/${job.project}/jobs/${job.jobId}`,
            timeMs: job.endMs - 500,
            insertId: nextInsertId(),
          }),
        );
      }
    }
  }
}

function* malformed(
  at: number,
  which: number,
  insertId: string,
  rand: () => number,
  stats: SampleStats,
): Generator<string> {
  stats.malformed++;
  stats.entries++;
  if (which === 0) {
    // A line cut short, as a crashed export or a full disk leaves it.
    const text = JSON.stringify(computeEngineEntry(at, insertId));
    yield text.slice(0, Math.floor(text.length / 2));
  } else if (which === 1) {
    yield JSON.stringify(computeEngineEntry(at, insertId));
  } else {
    const job = v2Change({
      project: "acme-fin-bi",
      jobId: `bquxjob_${hex(rand, 8)}_${hex(rand, 11)}`,
      location: "US",
      principal: "carol@acme.example",
      statementType: "SELECT",
      jobType: "QUERY",
      query: "SELECT 1",
      createMs: at,
      endMs: at + 2000,
      processedBytes: 1n,
      billedBytes: 10n * 2n ** 20n,
      slotMs: 10n,
      referencedTables: [],
      reservation: "unreserved",
      cacheHit: false,
      insertId,
    });
    // totalBilledBytes must be an int64 string; this one is not.
    yield JSON.stringify(job).replace(/"totalBilledBytes":"\d+"/, '"totalBilledBytes":"12.5"');
  }
}

function outsideRead(
  read: OutsideRead,
  at: number,
  rand: () => number,
  nextInsertId: () => string,
): Record<string, unknown>[] {
  const readerJobName = read.billingProject
    ? `projects/${read.billingProject}/jobs/bquxjob_${hex(rand, 8)}_${hex(rand, 11)}`
    : undefined;
  const tables =
    rand() < 0.3 ? [read.table, read.table.replace(/tables\/[^/]+$/, "tables/summary")] : [read.table];
  return tables.map((table) =>
    v2TableRead({ table, principal: read.principal, readerJobName, timeMs: at, insertId: nextInsertId() }),
  );
}

function buildJobs(
  scenario: Scenario,
  at: number,
  rand: () => number,
  nextInsertId: () => string,
  stats: SampleStats,
): SampleJob[] {
  const kind = rand();
  const processed = (scale: number) =>
    BigInt(Math.floor(scenario.gib * 8 * scale * (0.02 + 1.6 * rand() ** 2) * 2 ** 30)) +
    BigInt(Math.floor(rand() * 1e6));
  const base = (jobId: string, startMs: number): SampleJob => {
    const bytes = processed(1);
    const durationMs = 800 + Math.floor(rand() * 40_000);
    return {
      project: scenario.billingProject,
      jobId,
      location: scenario.location,
      principal: scenario.principal,
      statementType: "SELECT",
      jobType: "QUERY",
      query: `SELECT * FROM \`${scenario.tables[0]
        ?.split("/")
        .filter((_, i) => i % 2 === 1)
        .join(".")}\` WHERE day = CURRENT_DATE()`,
      createMs: startMs,
      endMs: startMs + durationMs,
      processedBytes: bytes,
      billedBytes: billedFor(bytes),
      slotMs: bytes / 4_000_000n + BigInt(Math.floor(rand() * 5000)),
      referencedTables: [...scenario.tables],
      reservation: "unreserved",
      cacheHit: false,
      insertId: nextInsertId(),
    };
  };
  const jobId = `bquxjob_${hex(rand, 8)}_${hex(rand, 11)}`;
  const job = base(jobId, at);
  if (scenario.reservation) {
    stats.reservationJobs++;
    job.reservation = RESERVATION;
    job.slotMs = job.slotMs * 40n;
    return [job];
  }
  if (kind < 0.06) {
    // A script: the parent repeats its children's totals (as INFORMATION_SCHEMA does); only the
    // children are to be priced.
    stats.scriptParents++;
    const children: SampleJob[] = [];
    const count = 2 + Math.floor(rand() * 2);
    for (let n = 0; n < count; n++) {
      const child = base(`script_job_${hex(rand, 32)}_${n}`, at + 300 + n * 1500);
      child.parentJobName = `projects/${job.project}/jobs/${jobId}`;
      child.statementType = n === 0 ? "CREATE_TABLE_AS_SELECT" : "SELECT";
      children.push(child);
    }
    stats.scriptChildren += children.length;
    job.statementType = "SCRIPT";
    job.query = "DECLARE d DATE DEFAULT CURRENT_DATE(); CREATE TEMP TABLE t AS SELECT ...; SELECT * FROM t;";
    job.processedBytes = children.reduce((sum, c) => sum + c.processedBytes, 0n);
    job.billedBytes = children.reduce((sum, c) => sum + c.billedBytes, 0n);
    job.slotMs = children.reduce((sum, c) => sum + c.slotMs, 0n);
    job.referencedTables = [];
    job.endMs = Math.max(...children.map((c) => c.endMs)) + 200;
    return [job, ...children];
  }
  if (kind < 0.14) {
    stats.cacheHits++;
    job.cacheHit = true;
    job.processedBytes = 0n;
    job.billedBytes = 0n;
    job.slotMs = 0n;
    job.referencedTables = [];
    return [job];
  }
  if (kind < 0.18) {
    stats.failed++;
    job.error = {
      code: 5,
      message: `Not found: Table ${scenario.billingProject}:tmp.missing_${hex(rand, 4)} was not found in location ${scenario.location}`,
    };
    job.processedBytes = 0n;
    job.billedBytes = 0n;
    job.slotMs = 0n;
    return [job];
  }
  if (kind < 0.21 && scenario.billingProject === "acme-etl") {
    stats.loads++;
    job.jobType = "IMPORT";
    job.statementType = "";
    return [job];
  }
  return [job];
}

export function registryYaml(): string {
  return REGISTRY_YAML;
}

/** INFORMATION_SCHEMA.TABLE_STORAGE rows for the sample's tables, plus each dataset's billing model. */
export function storageCsv(seed: number): string {
  const rand = random(seed ^ 0x5eed);
  const gib = (value: number) => BigInt(Math.floor(value * 2 ** 30)) + BigInt(Math.floor(rand() * 2 ** 20));
  const header =
    "project_id,table_schema,table_name,active_logical_bytes,long_term_logical_bytes,active_physical_bytes,long_term_physical_bytes,time_travel_physical_bytes,fail_safe_physical_bytes,storage_billing_model,location";
  const rows = STORAGE.map((t) => {
    const activeLogical = gib(t.gibActive);
    const longTermLogical = gib(t.gibLongTerm);
    const timeTravel = activeLogical / 40n;
    // Columnar compression: physical bytes are a fraction of logical ones; active physical includes time travel.
    const activePhysical = activeLogical / 4n + timeTravel;
    const longTermPhysical = longTermLogical / 5n;
    const failSafe = activeLogical / 60n;
    return [
      t.project,
      t.dataset,
      t.table,
      activeLogical,
      longTermLogical,
      activePhysical,
      longTermPhysical,
      timeTravel,
      failSafe,
      t.model,
      t.location,
    ].join(",");
  });
  return `${[header, ...rows].join("\n")}\n`;
}

export interface WrittenSample {
  files: string[];
  entries: number;
  bytes: number;
  stats: SampleStats;
}

/**
 * Writes a sample folder: registry.yaml, table_storage.csv, and the month's logs, as NDJSON and
 * (for `both`) the last sixth as a `gcloud logging read --format=json` array (newest first, as
 * gcloud orders it).
 */
export async function writeSample(
  dir: string,
  options: SampleOptions & { format: "ndjson" | "json-array" | "both" },
): Promise<WrittenSample> {
  await mkdir(join(dir, "logs"), { recursive: true });
  const stats = emptyStats();
  const lines = [...generateEntries(options, stats)];
  const files: string[] = [];
  const write = async (name: string, text: string) => {
    await writeFile(join(dir, name), text);
    files.push(join(dir, name));
    return Buffer.byteLength(text);
  };
  let bytes = 0;
  bytes += await write("registry.yaml", registryYaml());
  bytes += await write("table_storage.csv", storageCsv(options.seed));
  await mkdir(join(dir, "iam"), { recursive: true });
  for (const [name, text] of Object.entries(iamExportFiles())) bytes += await write(`iam/${name}`, text);
  const invoice = billingSample({
    month: options.month,
    logLines: lines,
    registryYaml: registryYaml(),
    storageCsv: storageCsv(options.seed),
  });
  bytes += await write("billing_export.json", invoice.usdJson);
  bytes += await write("billing_export_jpy.ndjson", invoice.jpyNdjson);
  bytes += await write("jobs_by_project.csv", invoice.jobsCsv);
  const split =
    options.format === "both"
      ? Math.floor((lines.length * 5) / 6)
      : options.format === "ndjson"
        ? lines.length
        : 0;
  if (split > 0)
    bytes += await write(`logs/${options.month}-v2-and-v1.ndjson`, `${lines.slice(0, split).join("\n")}\n`);
  if (split < lines.length) {
    // Only whole JSON entries can go in the array; malformed lines stay in the NDJSON part.
    const arrayPart = lines.slice(split).filter((line) => {
      try {
        JSON.parse(line);
        return true;
      } catch {
        return false;
      }
    });
    const pretty = arrayPart
      .reverse()
      .map((line) => JSON.stringify(JSON.parse(line), null, 2).replace(/^/gm, "  "));
    bytes += await write(`logs/${options.month}-export.json`, `[\n${pretty.join(",\n")}\n]\n`);
  }
  return { files, entries: stats.entries, bytes, stats };
}

/**
 * Month after month of the same organisation's entries, endlessly: the benchmark's sample mix. The
 * 24 months of 2024 and 2025 over and over, new jobs each time: later months would come after the
 * reader's clock, whose report rejects them (the bench's 10 GB once ran into 2034 and its totals
 * then differed from the other contenders').
 */
export function* sampleMonths(seed: number): Generator<string> {
  for (let monthIndex = 0; ; monthIndex++) {
    const year = 2024 + Math.floor((monthIndex % 24) / 12);
    const month = `${year}-${String((monthIndex % 12) + 1).padStart(2, "0")}`;
    yield* generateEntries({ month, seed: seed + monthIndex, jobs: 20_000 });
  }
}

/**
 * Streams lines to one NDJSON file until it holds `targetBytes`, for benchmarks. Backpressure
 * keeps memory flat.
 */
export async function writeSizedNdjson(
  file: string,
  targetBytes: number,
  lines: Iterable<string>,
): Promise<{ entries: number; bytes: number }> {
  const out = createWriteStream(file);
  let bytes = 0;
  let entries = 0;
  let buffer: string[] = [];
  let buffered = 0;
  const flush = async () => {
    if (buffer.length === 0) return;
    const text = buffer.join("");
    buffer = [];
    buffered = 0;
    if (!out.write(text)) await once(out, "drain");
  };
  for (const line of lines) {
    if (bytes >= targetBytes) break;
    const text = `${line}\n`;
    buffer.push(text);
    buffered += text.length;
    bytes += Buffer.byteLength(text);
    entries++;
    if (buffered > 1 << 20) await flush();
  }
  await flush();
  out.end();
  await once(out, "finish");
  return { entries, bytes };
}
