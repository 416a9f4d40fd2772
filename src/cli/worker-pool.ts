// Spreads input chunks over worker threads and gives the results back in input order, with a
// bounded number of chunks in flight so memory stays flat.
import { Worker } from "node:worker_threads";
import { chunkFile, type InputChunk } from "../io/log-files.ts";
import type { ChunkResult, WorkerSetup } from "./job-worker.ts";

// Beside this module: the compiled .js in dist/, the .ts in src/ (bin/entry-point.js).
const WORKER_URL = new URL(
  import.meta.url.endsWith(".js") ? "./job-worker.js" : "./job-worker.ts",
  import.meta.url,
);

/** Chunks given to a worker before it finishes one: enough to keep it busy while its results travel. */
const PER_WORKER = 2;
/**
 * Chunks done here that may wait behind a worker's: results go out in input order, so with fewer
 * the main thread would stop at each worker's chunk instead of working on.
 */
const INLINE_AHEAD = 16;

interface Pending {
  resolve: (result: ChunkResult) => void;
  reject: (error: Error) => void;
}

class ChunkWorker {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private failure: Error | undefined;

  constructor(setup: WorkerSetup) {
    this.worker = new Worker(WORKER_URL, { workerData: setup });
    this.worker.on("message", (response: { seq: number; result: ChunkResult }) => {
      const waiting = this.pending.get(response.seq);
      this.pending.delete(response.seq);
      waiting?.resolve(response.result);
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

  run(seq: number, chunk: InputChunk): Promise<ChunkResult> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.pending.set(seq, { resolve, reject });
      // Raw bytes move to the worker without a copy; texts are cloned.
      this.worker.postMessage(
        { seq, chunk },
        chunk.kind === "ndjson" ? [chunk.data.buffer as ArrayBuffer] : [],
      );
    });
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }
}

export class WorkerPool {
  private readonly workers: ChunkWorker[];

  constructor(size: number, setup: WorkerSetup) {
    this.workers = Array.from({ length: size }, () => new ChunkWorker(setup));
  }

  /**
   * Each chunk's result, in the order the chunks came; the chunk's file is kept alongside. When
   * every worker already has PER_WORKER chunks waiting, `inline` does the chunk here instead: the
   * main thread, which reads, de-duplicates and writes, would otherwise idle or, with a worker per
   * core, fight the workers for a core (docs/performance.md).
   */
  async *map(
    chunks: AsyncIterable<InputChunk>,
    inline?: (chunk: InputChunk) => ChunkResult,
  ): AsyncGenerator<{ file: string; result: ChunkResult }> {
    const maxInFlight = this.workers.length * PER_WORKER + (inline ? INLINE_AHEAD : 0);
    const queue: { file: string; result: Promise<ChunkResult> }[] = [];
    let seq = 0;
    for await (const chunk of chunks) {
      let worker = this.leastLoaded();
      // Results arrive as message events, which a loop of resolved promises never lets in: one
      // turn of the event loop before counting a worker as busy.
      if (inline && worker.load >= PER_WORKER) {
        await new Promise((resolve) => setImmediate(resolve));
        worker = this.leastLoaded();
      }
      const file = chunkFile(chunk);
      const result =
        inline && worker.load >= PER_WORKER ? Promise.resolve(inline(chunk)) : worker.run(seq++, chunk);
      // Observe rejections now; they are rethrown when the chunk's turn comes.
      result.catch(() => undefined);
      queue.push({ file, result });
      while (queue.length >= maxInFlight) {
        const head = queue.shift() as (typeof queue)[number];
        yield { file: head.file, result: await head.result };
      }
    }
    for (const head of queue) yield { file: head.file, result: await head.result };
  }

  private leastLoaded(): ChunkWorker {
    return this.workers.reduce((least, candidate) => (candidate.load < least.load ? candidate : least));
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.close()));
  }
}
