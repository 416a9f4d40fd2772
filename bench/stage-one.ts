// CPU time a entry of core's stage one as the report runs it (job-worker.ts processChunk: split,
// sink-row check, parseLine, costJob, the job_costs line), in this process, best of N passes.
// With --against DIR (another checkout's root, e.g. main's src copied out), both run interleaved,
// pass by pass, on the same entries, and their verdicts and lines must be equal.
//
//   npm run bench:stage-one -- --logs .bench/job-heavy-200MB.ndjson [--entries 20000] [--passes 9]
//     [--against /tmp/stage-old]
import { createReadStream, readFileSync } from "node:fs";
import path from "node:path";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    logs: { type: "string" },
    registry: { type: "string", default: "sample/acme/registry.yaml" },
    entries: { type: "string", default: "20000" },
    passes: { type: "string", default: "9" },
    against: { type: "string" },
  },
});
if (!values.logs) throw new Error("--logs FILE: an NDJSON file of audit log entries");

const wanted = Number(values.entries);
const lines: string[] = [];
for await (const line of createInterface({ input: createReadStream(values.logs) })) {
  lines.push(line);
  if (lines.length >= wanted) break;
}
// Chunks of about 64 KiB, as the reader cuts them (DEFAULT_CHUNK_BYTES).
const chunks: Uint8Array[] = [];
const encoder = new TextEncoder();
for (let i = 0, text = ""; i <= lines.length; i++) {
  if (i === lines.length || text.length > 64 * 1024) {
    chunks.push(encoder.encode(text));
    text = "";
  }
  if (i < lines.length) text += `${lines[i]}\n`;
}
const registryText = readFileSync(values.registry, "utf8");

interface Contender {
  name: string;
  /** Every chunk's verdicts; `keep` false drops each chunk's as the report does once handed on. */
  run(keep: boolean): unknown[];
  best: number;
}

async function contender(name: string, root: string): Promise<Contender> {
  const worker = await import(path.resolve(root, "src/cli/job-worker.ts"));
  const context = worker.chunkContext({
    registryText,
    registryFile: values.registry,
    granularity: "month",
    notAfterMs: Date.UTC(2100, 0, 1),
  });
  return {
    name,
    best: Number.POSITIVE_INFINITY,
    run: (keep) => {
      const all: unknown[] = [];
      for (const data of chunks) {
        const { items } = worker.processChunk({ kind: "ndjson", file: "f", data }, context);
        if (keep) all.push(...items);
      }
      return all;
    },
  };
}

const contenders = [await contender("this", ".")];
if (values.against) contenders.unshift(await contender("against", values.against));
if (contenders.length === 2) {
  const [a, b] = contenders.map((c) => c.run(true));
  const same = (x: unknown) => JSON.stringify(x, (_k, v) => (typeof v === "bigint" ? `${v}n` : v));
  if (same(a) !== same(b)) throw new Error("the two contenders' verdicts differ");
}
for (let pass = 0; pass < Number(values.passes); pass++)
  for (const c of contenders) {
    const start = process.cpuUsage();
    c.run(false);
    const used = process.cpuUsage(start);
    c.best = Math.min(c.best, (used.user + used.system) / lines.length);
  }
for (const c of contenders)
  console.log(`${c.name}: ${c.best.toFixed(2)} µs an entry (${lines.length} entries)`);
