// Spreads batches of raw entries over worker threads and gives the results back in input
// order, with a bounded number of batches in flight so memory stays flat.
import { Worker } from "node:worker_threads";
import type { RecordBatch } from "../io/log-files.ts";
import type { WorkerItem, WorkerResponse, WorkerSetup } from "./job-worker.ts";

const WORKER_URL = new URL("./job-worker.ts", import.meta.url);

interface Pending {
  resolve: (items: WorkerItem[]) => void;
  reject: (error: Error) => void;
}

class JobWorker {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private failure: Error | undefined;

  constructor(setup: WorkerSetup) {
    this.worker = new Worker(WORKER_URL, { workerData: setup });
    this.worker.on("message", (response: WorkerResponse) => {
      const waiting = this.pending.get(response.seq);
      this.pending.delete(response.seq);
      waiting?.resolve(response.items);
    });
    const fail = (error: Error) => {
      this.failure = error;
      for (const waiting of this.pending.values()) waiting.reject(error);
      this.pending.clear();
    };
    this.worker.on("error", fail);
    this.worker.on("exit", (code) => {
      if (code !== 0) fail(new Error(`worker thread exited with code ${code}`));
    });
  }

  get load(): number {
    return this.pending.size;
  }

  run(seq: number, batch: RecordBatch): Promise<WorkerItem[]> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.pending.set(seq, { resolve, reject });
      this.worker.postMessage({ seq, batch });
    });
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }
}

export class WorkerPool {
  private readonly workers: JobWorker[];

  constructor(size: number, setup: WorkerSetup) {
    this.workers = Array.from({ length: size }, () => new JobWorker(setup));
  }

  /** Results of each batch, in the order the batches came. */
  async *map(
    batches: AsyncIterable<RecordBatch>,
  ): AsyncGenerator<{ batch: RecordBatch; items: WorkerItem[] }> {
    const maxInFlight = this.workers.length * 3;
    const queue: { batch: RecordBatch; result: Promise<WorkerItem[]> }[] = [];
    let seq = 0;
    for await (const batch of batches) {
      const worker = this.workers.reduce((least, candidate) =>
        candidate.load < least.load ? candidate : least,
      );
      const result = worker.run(seq++, batch);
      // Observe rejections now; they are rethrown when the batch's turn comes.
      result.catch(() => undefined);
      queue.push({ batch, result });
      while (queue.length >= maxInFlight) {
        const head = queue.shift() as (typeof queue)[number];
        yield { batch: head.batch, items: await head.result };
      }
    }
    for (const head of queue) yield { batch: head.batch, items: await head.result };
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.close()));
  }
}
