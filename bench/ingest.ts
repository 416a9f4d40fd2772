// The ingest function's own costs: cold-start import time of functions/index.ts (what an
// instance pays before its first message) and CPU time per message through ingestEntry with an
// in-memory sink (what every message pays). `node bench/ingest.ts`
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { InsertRow } from "../src/cloud/ingest.ts";
import { parseRegistry } from "../src/core/registry.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
process.env.GOOGLE_CLOUD_PROJECT ??= "acme-chargeback";
process.env.BQ_CHARGEBACK_REGISTRY ??= `${ROOT}sample/acme/registry.yaml`;
process.env.BIGQUERY_API_ENDPOINT ??= "http://127.0.0.1:9";

const importStart = performance.now();
const cpuBefore = process.cpuUsage();
await import("../functions/index.ts");
const cpu = process.cpuUsage(cpuBefore);
console.log(
  `cold start: import functions/index.ts ${(performance.now() - importStart).toFixed(0)} ms wall, ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms CPU`,
);

const { createIngestContext, ingestEntry } = await import("../src/cloud/ingest.ts");
const lines = readFileSync(`${ROOT}sample/acme/logs/2026-10-v2-and-v1.ndjson`, "utf8").trim().split("\n");
let rows = 0;
const context = createIngestContext({
  registry: parseRegistry(readFileSync(`${ROOT}sample/acme/registry.yaml`, "utf8"), "registry.yaml"),
  timeZone: "America/Los_Angeles",
  sink: {
    async insert(_table: string, inserted: InsertRow[]) {
      rows += inserted.length;
    },
  },
  alerts: { async alert() {} },
  now: () => new Date("2026-11-01T00:00:00Z"),
});
const rounds = 5;
const started = process.cpuUsage();
for (let round = 0; round < rounds; round++) {
  for (const [i, line] of lines.entries()) await ingestEntry(line, { file: "bench", line: i + 1 }, context);
}
const used = process.cpuUsage(started);
const messages = lines.length * rounds;
console.log(
  `per message: ${((used.user + used.system) / messages).toFixed(1)} µs CPU over ${messages} messages (${rows} rows)`,
);
