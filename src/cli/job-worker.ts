// A worker thread of a parallel report: parses, attributes, prices and checks a batch of raw
// entries, and hands back the results in the batch's order. De-duplication and aggregation stay
// in the main thread, which takes batches back in sequence, so results do not depend on how
// many workers ran.
import { parentPort, workerData } from "node:worker_threads";
import { parseLine } from "../core/parse.ts";
import { DayClock } from "../core/period.ts";
import { costJob } from "../core/pipeline.ts";
import { parseRegistry } from "../core/registry.ts";
import { jobCostCsvCells, jobCostRecord } from "../core/rows.ts";
import type { JobCost, PeriodGranularity, RejectedEntry, TableReadEvent } from "../core/types.ts";
import { csvLine } from "../io/csv.ts";
import type { RecordBatch } from "../io/log-files.ts";

export interface WorkerSetup {
  registryText: string;
  registryFile: string;
  timeZone?: string;
  granularity: PeriodGranularity;
}

export type WorkerItem =
  | { kind: "job"; cost: JobCost; csv: string }
  | { kind: "rejected"; entry: RejectedEntry }
  | { kind: "ignored"; reason: string }
  | { kind: "table_read"; read: TableReadEvent };

export interface WorkerRequest {
  seq: number;
  batch: RecordBatch;
}

export interface WorkerResponse {
  seq: number;
  items: WorkerItem[];
}

/** The work of one batch: the same functions the single-threaded path calls. */
export function processBatch(
  batch: RecordBatch,
  context: { registry: ReturnType<typeof parseRegistry>; clock: DayClock; granularity: PeriodGranularity },
): WorkerItem[] {
  const items: WorkerItem[] = [];
  for (let i = 0; i < batch.texts.length; i++) {
    const parsed = parseLine(batch.texts[i] as string, { file: batch.file, line: batch.lines[i] as number });
    switch (parsed.kind) {
      case "job": {
        const cost = costJob(parsed, context.registry, context.clock, context.granularity);
        items.push({ kind: "job", cost, csv: csvLine(jobCostCsvCells(jobCostRecord(cost), cost)) });
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
  return items;
}

if (parentPort && workerData) {
  const setup = workerData as WorkerSetup;
  const context = {
    registry: parseRegistry(setup.registryText, setup.registryFile),
    clock: new DayClock(setup.timeZone),
    granularity: setup.granularity,
  };
  const port = parentPort;
  port.on("message", (request: WorkerRequest) => {
    const response: WorkerResponse = { seq: request.seq, items: processBatch(request.batch, context) };
    port.postMessage(response);
  });
}
