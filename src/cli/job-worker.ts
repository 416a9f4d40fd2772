// The work on one chunk of input, in a worker thread or in the main thread (the same function):
// split, parse, attribute, price and check, and hand back small flat results in input order.
// De-duplication and aggregation stay in the main thread, which takes chunks back in sequence,
// so results do not depend on how many workers ran.
import { parentPort, workerData } from "node:worker_threads";
import { type JobSummary, summarizeJob } from "../core/aggregate.ts";
import { parseLine } from "../core/parse.ts";
import { DayClock } from "../core/period.ts";
import { costJob } from "../core/pipeline.ts";
import { parseRegistry, type Registry } from "../core/registry.ts";
import { jobCostCsvCells, jobCostRecord } from "../core/rows.ts";
import type { PeriodGranularity, RejectedEntry, TableReadEvent } from "../core/types.ts";
import { csvLine } from "../io/csv.ts";
import type { InputChunk } from "../io/log-files.ts";

export interface WorkerSetup {
  registryText: string;
  registryFile: string;
  timeZone?: string;
  granularity: PeriodGranularity;
}

export type WorkerItem =
  | { kind: "job"; job: JobSummary; csv: string }
  | { kind: "rejected"; entry: RejectedEntry }
  | { kind: "ignored"; reason: string }
  | { kind: "table_read"; read: TableReadEvent };

export interface ChunkResult {
  items: WorkerItem[];
  /** Lines the chunk held (NDJSON chunks carry chunk-relative line numbers; the reader adds the offset). */
  lineCount: number;
}

export interface ChunkContext {
  registry: Registry;
  clock: DayClock;
  granularity: PeriodGranularity;
}

const decoder = new TextDecoder();

function processText(
  text: string,
  file: string,
  line: number,
  context: ChunkContext,
  items: WorkerItem[],
): void {
  const parsed = parseLine(text, { file, line });
  switch (parsed.kind) {
    case "job": {
      const cost = costJob(parsed, context.registry, context.clock, context.granularity);
      items.push({
        kind: "job",
        job: summarizeJob(cost),
        csv: csvLine(jobCostCsvCells(jobCostRecord(cost), cost)),
      });
      break;
    }
    case "rejected":
      items.push({ kind: "rejected", entry: parsed });
      break;
    case "ignored":
      items.push({ kind: "ignored", reason: parsed.reason });
      break;
    case "table_read":
      items.push({ kind: "table_read", read: parsed });
      break;
  }
}

export function processChunk(chunk: InputChunk, context: ChunkContext): ChunkResult {
  const items: WorkerItem[] = [];
  if (chunk.kind === "records") {
    const { batch } = chunk;
    for (let i = 0; i < batch.texts.length; i++) {
      processText(batch.texts[i] as string, batch.file, batch.lines[i] as number, context, items);
    }
    return { items, lineCount: 0 };
  }
  const text = decoder.decode(chunk.data);
  let line = 0;
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf("\n", start);
    if (end < 0) end = text.length;
    line++;
    let stop = end;
    if (stop > start && text.charCodeAt(stop - 1) === 13) stop--;
    if (stop > start) {
      const entry = text.slice(start, stop);
      if (entry.trim().length > 0) processText(entry, chunk.file, line, context, items);
    }
    start = end + 1;
  }
  return { items, lineCount: line };
}

export function chunkContext(setup: WorkerSetup): ChunkContext {
  return {
    registry: parseRegistry(setup.registryText, setup.registryFile),
    clock: new DayClock(setup.timeZone),
    granularity: setup.granularity,
  };
}

if (parentPort && workerData) {
  const context = chunkContext(workerData as WorkerSetup);
  const port = parentPort;
  port.on("message", (request: { seq: number; chunk: InputChunk }) => {
    port.postMessage({ seq: request.seq, result: processChunk(request.chunk, context) });
  });
}
