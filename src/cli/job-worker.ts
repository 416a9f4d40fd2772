// The work on one chunk of input, in a worker thread or in the main thread (the same function):
// split into entries and run core's stage one (assessEntry) on each, handing back the verdicts in
// input order. Stage two (de-duplication, aggregation) stays in the main thread, which takes
// chunks back in sequence, so results do not depend on how many workers ran.
import { parentPort, workerData } from "node:worker_threads";
import type { JobSummary } from "../core/aggregate.ts";
import { assessEntry, type EntryContext, entryContext, type Verdict } from "../core/pipeline.ts";
import { parseRegistry } from "../core/registry.ts";
import { csvCells, JOB_COSTS, jobCostRow } from "../core/rows.ts";
import type { PeriodGranularity } from "../core/types.ts";
import { csvLine } from "../io/csv.ts";
import { type InputChunk, MAX_ENTRY_BYTES } from "../io/log-files.ts";
import { sinkRowDetail, sinkRowEntry } from "../io/sink-rows.ts";

export interface WorkerSetup {
  registryText: string;
  registryFile: string;
  timeZone?: string;
  granularity: PeriodGranularity;
  /** Entries timed after this instant are rejected (the run's clock plus skew). */
  notAfterMs: number;
}

/** A verdict of core's stage one; a job carries its job_costs line, formatted here, off the main thread. */
export type WorkerItem = Exclude<Verdict, { kind: "job" }> | { kind: "job"; job: JobSummary; csv: string };

export interface ChunkResult {
  items: WorkerItem[];
  /** Lines the chunk held (NDJSON chunks carry chunk-relative line numbers; the reader adds the offset). */
  lineCount: number;
}

// ignoreBOM keeps a U+FEFF at a chunk's start as text: the reader drops the file's own BOM.
const decoder = new TextDecoder("utf-8", { ignoreBOM: true });

/** `row`: the entry's number in its file when lines do not tell it (a one-line JSON array). */
function processText(
  text: string,
  file: string,
  line: number,
  context: EntryContext,
  take: (item: WorkerItem) => void,
  row?: number,
) {
  // Parsed here once, whatever the entry's form; text that is not JSON is left to the parser to
  // reject (JSON.parse never gives undefined).
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = undefined;
  }
  const sinkRow = sinkRowEntry(value);
  const assessed = assessEntry(text, { file, line }, context, sinkRow ?? value);
  if (sinkRow && assessed.kind === "rejected")
    assessed.entry = { ...assessed.entry, detail: sinkRowDetail(assessed.entry.detail, row) };
  if (assessed.kind === "job") {
    const { job, cost } = assessed;
    take({ kind: "job", job, csv: csvLine(csvCells(jobCostRow(cost), JOB_COSTS)) });
  } else take(assessed);
}

/** An entry longer than any Cloud Logging writes: rejected with its start kept (log-files.ts). */
function tooLarge(file: string, line: number, size: string, start: string): WorkerItem {
  const detail = `an entry of ${size}: expected at most ${MAX_ENTRY_BYTES} (Cloud Logging writes entries of at most 256 KB); its start is kept`;
  const entry = {
    kind: "rejected" as const,
    reason: "entry_too_large",
    detail,
    source: { file, line },
    raw: start,
  };
  return { kind: "rejected", entry };
}

export function processChunk(chunk: InputChunk, context: EntryContext): ChunkResult {
  const items: WorkerItem[] = [];
  const lineCount = assessChunk(chunk, context, (item) => items.push(item));
  return { items, lineCount };
}

/**
 * Stage one over a chunk, each verdict handed to `take` as it comes (in input order); returns the
 * lines the chunk held. In one thread, stage two takes each at once, so nothing of an entry
 * outlives it long enough to leave V8's nursery.
 */
export function assessChunk(
  chunk: InputChunk,
  context: EntryContext,
  take: (item: WorkerItem) => void,
): number {
  if (chunk.kind === "oversize") {
    take(tooLarge(chunk.file, 1, `${chunk.bytes} bytes`, decoder.decode(chunk.prefix)));
    return 1;
  }
  if (chunk.kind === "records") {
    const { batch } = chunk;
    for (let i = 0; i < batch.texts.length; i++) {
      const text = batch.texts[i] as string;
      const line = batch.lines[i] as number;
      const size = batch.tooLarge?.[i];
      if (size !== undefined) take(tooLarge(batch.file, line, `${size} characters`, text));
      else processText(text, batch.file, line, context, take, (batch.before ?? 0) + i + 1);
    }
    return 0;
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
      if (entry.trim().length > 0) processText(entry, chunk.file, line, context, take);
    }
    start = end + 1;
  }
  return line;
}

export function chunkContext(setup: WorkerSetup): EntryContext {
  return entryContext(parseRegistry(setup.registryText, setup.registryFile), setup);
}

if (parentPort && workerData) {
  const context = chunkContext(workerData as WorkerSetup);
  const port = parentPort;
  port.on("message", (request: { seq: number; chunk: InputChunk }) => {
    port.postMessage({ seq: request.seq, result: processChunk(request.chunk, context) });
  });
}
