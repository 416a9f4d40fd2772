// npm run bench: generates realistic audit logs at several sizes from the sample organisation,
// runs the full `report` on them (one thread and all cores), and, on the same file and the same
// totals (billed bytes per billing project, each job once), the alternatives a user has: a bare
// Node split-and-JSON.parse loop (the practical ceiling), jq, and DuckDB. Each contender runs in
// its own process under GNU time for wall time and peak RSS. Two mixes of logs: the sample
// organisation's (half of the v2 entries are RUNNING jobInsertions, 15 % v1) and a job-heavy one
// (v2 jobChange DONE entries only, 1-6 tables each, ~300 principals, ~15 % of jobs with a finding).
//
//   npm run bench                        # both mixes at 200 MB and 1 GB
//   npm run bench -- --huge              # and 10 GB (or BENCH_10GB=1)
//   npm run bench -- --sizes 50MB        # quicker
//   npm run bench -- --mix job-heavy     # one mix
//   npm run bench -- --skip jq           # leave a contender out
import { execFile } from "node:child_process";
import { createReadStream, existsSync } from "node:fs";
import { mkdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { parseArgs, promisify } from "node:util";
import { parseCsv } from "../src/io/csv.ts";
import { sampleMonths, writeSizedNdjson } from "../src/sample/generate.ts";
import { generateJobHeavyEntries } from "../src/sample/job-heavy.ts";

const run = promisify(execFile);
/** Raised when the generators change what they write, so cached files are made anew. */
const GENERATOR_VERSION = 2;
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const WORK = join(ROOT, ".bench");
const NODE = process.execPath;

const { values } = parseArgs({
  options: {
    sizes: { type: "string", default: "200MB,1GB" },
    huge: { type: "boolean", default: process.env.BENCH_10GB === "1" },
    mix: { type: "string", default: "sample,job-heavy" },
    skip: { type: "string", multiple: true, default: [] },
    seed: { type: "string", default: "7" },
  },
});

function parseSize(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(MB|GB)$/i.exec(text.trim());
  if (!match) throw new Error(`--sizes: expected sizes like 100MB or 1GB, found "${text}"`);
  return Math.round(Number(match[1]) * (match[2]?.toUpperCase() === "GB" ? 1e9 : 1e6));
}

interface Measure {
  name: string;
  seconds: number;
  peakRssMb: number;
  totals: Record<string, string>;
}

/** Runs a command under GNU time; returns wall seconds, peak RSS and stdout. */
async function timed(
  command: string,
  args: string[],
): Promise<{ seconds: number; peakRssMb: number; stdout: string }> {
  const { stdout, stderr } = await run("/usr/bin/time", ["-f", "BENCH %e %M", command, ...args], {
    cwd: ROOT,
    maxBuffer: 1 << 28,
    // The bin's `#!/usr/bin/env node` must find this Node, not another on PATH.
    env: { ...process.env, PATH: `${dirname(NODE)}${delimiter}${process.env.PATH ?? ""}`, FORCE_COLOR: "0" },
  });
  const line = stderr.split("\n").find((l) => l.startsWith("BENCH "));
  if (!line) throw new Error(`no timing from ${command}: ${stderr}`);
  const [, seconds, kb] = line.split(" ");
  return { seconds: Number(seconds), peakRssMb: Number(kb) / 1024, stdout };
}

/** The records of a CSV file one by one: at 10 GB of logs job_costs.csv outgrows a string. */
async function* csvRecords(file: string): AsyncGenerator<string[]> {
  let record = "";
  for await (const line of createInterface({ input: createReadStream(file), crlfDelay: Infinity })) {
    record = record === "" ? line : `${record}\n${line}`;
    // A record ends where its quotes are balanced (RFC 4180 doubles a quote inside a quoted cell).
    if ((record.match(/"/g)?.length ?? 0) % 2 !== 0) continue;
    const [parsed] = parseCsv(record);
    record = "";
    if (parsed) yield parsed.cells;
  }
}

async function totalsFromJobCosts(dir: string): Promise<Record<string, string>> {
  const records = csvRecords(join(dir, "job_costs.csv"));
  const columns = (await records.next()).value ?? [];
  const project = columns.indexOf("billing_project");
  const billed = columns.indexOf("billed_bytes");
  const statement = columns.indexOf("statement_type");
  const totals = new Map<string, bigint>();
  for await (const cells of records) {
    if (cells[statement] === "SCRIPT") continue;
    const key = cells[project] as string;
    totals.set(key, (totals.get(key) ?? 0n) + BigInt(cells[billed] || "0"));
  }
  return Object.fromEntries([...totals].filter(([, v]) => v > 0n).map(([k, v]) => [k, v.toString()]));
}

// jq extracts one line per completed job; sort -u keeps each job once (a jq object of seen ids
// grows quadratically in jq 1.6); awk sums per project (in doubles, as jq would).
const JQ_PROGRAM = String.raw`
inputs | fromjson?
| select(.protoPayload.metadata.jobChange.after == "DONE" or .protoPayload.methodName == "jobservice.jobcompleted")
| if .protoPayload.metadata.jobChange then
    (.protoPayload.metadata.jobChange.job) as $j
    | ($j.jobName | split("/")) as $n
    | [($n[1] + ":" + (.resource.labels.location // "") + "." + $n[3]), $n[1],
       ($j.jobStats.queryStats.totalBilledBytes // ""), ($j.jobConfig.queryConfig.statementType // "")]
  else
    (.protoPayload.serviceData.jobCompletedEvent.job) as $j
    | [($j.jobName.projectId + ":" + ($j.jobName.location // "") + "." + $j.jobName.jobId), $j.jobName.projectId,
       ($j.jobStatistics.totalBilledBytes // ""), ($j.jobConfiguration.query.statementType // "")]
  end
| select(.[2] | test("^[0-9]+$"))
| @tsv`;
const JQ_PIPELINE = (file: string) =>
  `jq -R -n -r '${JQ_PROGRAM}' '${file}' | sort -t "$(printf '\\t')" -k1,1 -u | awk -F '\\t' '$4 != "SCRIPT" { t[$2] += $3 } END { for (p in t) printf "%s\\t%.0f\\n", p, t[p] }'`;

/** Totals with their keys in order, so contenders compare by value only. */
function sorted(totals: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(totals).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

async function main(): Promise<void> {
  await mkdir(WORK, { recursive: true });
  const skip = new Set(values.skip);
  const cores = availableParallelism();
  const results: { mix: string; size: string; bytes: number; entries: number; measures: Measure[] }[] = [];
  const sizes = (values.sizes as string).split(",").map((size) => size.trim());
  if (values.huge && !sizes.includes("10GB")) sizes.push("10GB");
  const runs = (values.mix as string)
    .split(",")
    .map((mix) => mix.trim())
    .flatMap((mix) => {
      if (mix !== "sample" && mix !== "job-heavy")
        throw new Error(`--mix: sample or job-heavy, found "${mix}"`);
      return sizes.map((sizeText) => ({ mix, sizeText }));
    });
  for (const { mix, sizeText } of runs) {
    const target = parseSize(sizeText);
    const file = join(WORK, `${mix === "sample" ? "audit" : mix}-${sizeText}.ndjson`);
    const metaFile = `${file}.meta.json`;
    let meta: { entries: number; bytes: number; seed: number; generator?: number } | undefined;
    if (existsSync(metaFile)) meta = JSON.parse(await readFile(metaFile, "utf8"));
    if (
      !meta ||
      meta.seed !== Number(values.seed) ||
      meta.generator !== GENERATOR_VERSION ||
      (await stat(file).catch(() => undefined))?.size !== meta.bytes
    ) {
      process.stderr.write(`generating ${sizeText} of ${mix} audit logs ... `);
      const started = performance.now();
      const seed = Number(values.seed);
      const lines = mix === "sample" ? sampleMonths(seed) : generateJobHeavyEntries(seed);
      const written = await writeSizedNdjson(file, target, lines);
      meta = { ...written, seed: Number(values.seed), generator: GENERATOR_VERSION };
      await writeFile(metaFile, JSON.stringify(meta));
      process.stderr.write(`${((performance.now() - started) / 1000).toFixed(1)} s\n`);
    }
    const measures: Measure[] = [];
    const contenders: { name: string; go: () => Promise<Measure> }[] = [
      {
        name: "bare JSON.parse loop (ceiling)",
        go: async () => {
          const r = await timed(NODE, ["bench/bare-parse.ts", file]);
          return { name: "bare JSON.parse loop (ceiling)", ...r, totals: JSON.parse(r.stdout).totals };
        },
      },
      // One thread, and worker threads beside the main thread, which parses too when they are
      // busy: a worker a core but one (the default), and a worker a core.
      ...[...new Set([0, Math.max(1, cores - 1), cores])].map((workers) => {
        const name =
          workers === 0
            ? "bq-chargeback report, 1 thread"
            : `bq-chargeback report, ${workers} worker${workers === 1 ? "" : "s"} + main thread`;
        return {
          name,
          go: async () => {
            const out = join(WORK, `out-${workers}`);
            await rm(out, { recursive: true, force: true });
            // Run as users run it: the bin's own line starts Node with its flags.
            const r = await timed("bin/bq-chargeback.js", [
              "report",
              "--logs",
              file,
              "--registry",
              "sample/acme/registry.yaml",
              "--workers",
              String(workers),
              "--no-progress",
              "--out",
              out,
            ]);
            return { name, ...r, totals: await totalsFromJobCosts(out) };
          },
        };
      }),
      {
        name: "jq 1.6 + sort -u + awk",
        go: async () => {
          const r = await timed("bash", ["-c", JQ_PIPELINE(file)]);
          const totals = Object.fromEntries(
            r.stdout
              .trim()
              .split("\n")
              .map((line) => line.split("\t") as [string, string]),
          );
          return { name: "jq 1.6 + sort -u + awk", ...r, totals };
        },
      },
      {
        name: `DuckDB (read_ndjson_objects, ${cores} threads)`,
        go: async () => {
          const r = await timed(NODE, ["bench/duckdb.ts", file]);
          return {
            name: `DuckDB (read_ndjson_objects, ${cores} threads)`,
            ...r,
            totals: JSON.parse(r.stdout).totals,
          };
        },
      },
    ];
    for (const contender of contenders) {
      if ([...skip].some((word) => contender.name.toLowerCase().includes(word.toLowerCase()))) continue;
      process.stderr.write(`${mix} ${sizeText}: ${contender.name} ... `);
      const measure = await contender.go();
      measure.totals = sorted(measure.totals);
      process.stderr.write(`${measure.seconds.toFixed(1)} s, ${measure.peakRssMb.toFixed(0)} MB\n`);
      measures.push(measure);
    }
    results.push({ mix, size: sizeText, bytes: meta.bytes, entries: meta.entries, measures });
  }
  const lines: string[] = [];
  for (const result of results) {
    const ceiling = result.measures[0];
    const reference = JSON.stringify(ceiling?.totals);
    lines.push(
      `\n### ${result.mix} mix, ${result.size}: ${(result.bytes / 1e6).toFixed(0)} MB, ${result.entries.toLocaleString("en-US")} entries\n`,
    );
    lines.push("| contender | seconds | MB/s | entries/s | peak RSS MB | vs ceiling | same totals |");
    lines.push("|---|---:|---:|---:|---:|---:|---|");
    for (const m of result.measures) {
      const same = JSON.stringify(m.totals) === reference;
      const close =
        !same &&
        Object.entries(ceiling?.totals ?? {}).every(([k, v]) => {
          const other = BigInt(m.totals[k] ?? "0");
          const diff = other > BigInt(v) ? other - BigInt(v) : BigInt(v) - other;
          return diff * 10n ** 12n <= BigInt(v);
        });
      lines.push(
        `| ${m.name} | ${m.seconds.toFixed(1)} | ${(result.bytes / 1e6 / m.seconds).toFixed(0)} | ${Math.round(result.entries / m.seconds).toLocaleString("en-US")} | ${m.peakRssMb.toFixed(0)} | ${ceiling ? (ceiling.seconds / m.seconds).toFixed(2) : "-"} | ${same ? "yes" : close ? "within 1e-12 (float sums)" : "NO"} |`,
      );
    }
  }
  const text = lines.join("\n");
  console.log(text);
  await writeFile(join(WORK, "results.md"), `${text}\n`);
  const mismatch = results.some((r) =>
    r.measures.some(
      (m) => JSON.stringify(m.totals) !== JSON.stringify(r.measures[0]?.totals) && !m.name.startsWith("jq"),
    ),
  );
  if (mismatch) {
    console.error("totals differ between contenders");
    process.exitCode = 1;
  }
}

await main();
