// `bq-chargeback report`: exported logs in, a report folder out, the same core as the cloud.
import { availableParallelism } from "node:os";
import { type InvoiceReport, invoiceReport } from "../core/billing/invoice-report.ts";
import { BillingJobUsage } from "../core/billing/job-usage.ts";
import { withInvoicedDepartments } from "../core/billing/rows.ts";
import { GrantUsage } from "../core/iam/usage.ts";
import { notAfterFor } from "../core/parse.ts";
import { DayClock } from "../core/period.ts";
import { ChargebackPipeline, entryContext } from "../core/pipeline.ts";
import { parseRegistry, type Registry } from "../core/registry.ts";
import type { PeriodGranularity, TableStorage } from "../core/types.ts";
import { readBillingExports } from "../io/billing-export.ts";
import { HeldCopiesFile } from "../io/held-copies-file.ts";
import type { IamInput } from "../io/iam-exports.ts";
import { readJobsExports } from "../io/jobs-export.ts";
import {
  chunkFile,
  expandInputs,
  type InputChunk,
  type InputDamage,
  type RefusedInput,
  readInputChunks,
  readTextFile,
  totalInputBytes,
} from "../io/log-files.ts";
import { ReportFiles } from "../io/report-files.ts";
import { readStorageSnapshot } from "../io/storage-snapshot.ts";
import { buildSummary, type DamagedInput, type Summary } from "../report/summary.ts";
import { assessChunk, processChunk, type WorkerItem } from "./job-worker.ts";
import { Progress } from "./progress.ts";
import { WorkerPool } from "./worker-pool.ts";

export interface ReportOptions {
  logs: string[];
  /** Entries from elsewhere than files (the Logging API for backfills); then `logs` is only named in the summary. */
  source?: AsyncIterable<InputChunk>;
  registryFile: string;
  storageFile?: string;
  storageLocation?: string;
  from?: string;
  to?: string;
  granularity: PeriodGranularity;
  timeZone?: string;
  outDir: string;
  /** Force progress on or off; by default shown only on a terminal. */
  progress?: boolean;
  /** Worker threads that parse and price beside this one (0: all in this thread). Default: defaultWorkers(). */
  workers?: number;
  /**
   * How the input is cut for stage one (default 64 KiB, 2000 entries of a JSON array): the results are
   * the same at every size (tested); for tests and measurements.
   */
  chunking?: { chunkBytes?: number; batchSize?: number };
  /** IAM exports to audit with the same registry, joined with these logs (the `iam` section). */
  policies?: IamInput[];
  /** Cloud Billing export files (JSON, NDJSON or CSV from bq): reconcile the report with the invoice. */
  billingFiles?: string[];
  /** INFORMATION_SCHEMA.JOBS export files: measure the logs' coverage per project and day. */
  jobsFiles?: string[];
  /** Flag project-days whose coverage is below this many basis points (default 9500: 95%). */
  coverageThresholdBasisPoints?: number;
}

export interface ReportResult {
  summary: Summary;
  files: string[];
  /** The IAM audit, when policies were given. */
  iam?: import("../io/iam-files.ts").IamRun;
  invoice?: InvoiceReport;
}

const PARALLEL_FROM_BYTES = 64 * 1024 * 1024;

/**
 * Worker threads by default: one a core but one. The main thread reads, de-duplicates, aggregates
 * and writes, and parses and prices too whenever the workers are busy (WorkerPool.map), so no core
 * is shared by two busy threads. On two cores, one worker and the main thread measured ~11 %
 * faster than one thread at 1 GB and at 10 GB, at 13-37 MB more; a worker a core was no faster
 * (docs/performance.md).
 */
export function defaultWorkers(): number {
  const cores = availableParallelism();
  return cores > 1 ? Math.min(cores - 1, 7) : 0;
}

export async function loadRegistryFile(file: string): Promise<{ registry: Registry; text: string }> {
  const text = await readTextFile(file);
  return { registry: parseRegistry(text, file), text };
}

export async function runReport(options: ReportOptions): Promise<ReportResult> {
  const { registry, text: registryText } = await loadRegistryFile(options.registryFile);
  const snapshot: TableStorage[] = options.storageFile
    ? await readStorageSnapshot(options.storageFile, options.storageLocation)
    : [];
  const inputs = options.source ? options.logs : await expandInputs(options.logs);
  const billingRows = options.billingFiles?.length
    ? await readBillingExports(options.billingFiles)
    : undefined;
  const countedJobs = options.jobsFiles?.length ? await readJobsExports(options.jobsFiles) : [];
  // Interrupted or failed: no folder is left behind that looks like a report (report-files.ts).
  // The handlers are in place before the staging folder exists; a signal that comes while it is
  // being made is acted on as soon as it is known.
  let files: ReportFiles | undefined;
  let pending: NodeJS.Signals | undefined;
  const stop = (signal: NodeJS.Signals) => {
    files?.abandon();
    console.error(`bq-chargeback: ${signal}: stopped; no report written to ${options.outDir}`);
    process.exit(signal === "SIGINT" ? 130 : 143);
  };
  const interrupted = (signal: NodeJS.Signals) => {
    if (files) stop(signal);
    else pending = signal;
  };
  process.once("SIGINT", interrupted);
  process.once("SIGTERM", interrupted);
  try {
    files = await ReportFiles.create(options.outDir);
    if (pending) stop(pending);
    return await writeReport(files);
  } catch (error) {
    files?.abandon();
    throw error;
  } finally {
    process.off("SIGINT", interrupted);
    process.off("SIGTERM", interrupted);
  }

  async function writeReport(files: ReportFiles): Promise<ReportResult> {
    const pipeline = new ChargebackPipeline({
      registry,
      timeZone: options.timeZone,
      granularity: options.granularity,
      from: options.from,
      to: options.to,
      // Without --from/--to or a job, the report is today's period: the snapshot is of today.
      today: new DayClock(options.timeZone).dayOf(Date.now()),
      // On disk: held on the heap, a quarter of some mixes' jobs would grow memory with the input.
      heldCopies: new HeldCopiesFile(files.scratchPath("held-copies")),
    });
    // Each principal's jobs per billing project, to tell realized grants from latent ones.
    const usage = options.policies ? new GrantUsage() : undefined;
    // What each department used, per day and project: the weights that share out the invoice.
    const billingUsage = billingRows ? new BillingJobUsage() : undefined;
    const totalBytes = options.source ? 0 : await totalInputBytes(inputs);
    const progress = new Progress({ totalBytes, enabled: options.progress });
    const startedAt = performance.now();
    let bytesRead = 0;
    const damages: InputDamage[] = [];
    const refused: RefusedInput[] = [];
    const chunks =
      options.source ??
      readInputChunks(inputs, {
        ...options.chunking,
        onBytes: (count) => {
          bytesRead += count;
          progress.addBytes(count);
        },
        onDamage: (damage) => damages.push(damage),
        onRefused: (input) => refused.push(input),
      });
    // Worker threads cost ~0.3 s to start: below a few tens of MB one thread finishes first.
    const notAfterMs = notAfterFor(Date.now());
    const workers =
      options.workers ?? (options.source || totalBytes >= PARALLEL_FROM_BYTES ? defaultWorkers() : 0);
    const pool =
      workers > 0
        ? new WorkerPool(workers, {
            registryText,
            registryFile: options.registryFile,
            timeZone: options.timeZone,
            granularity: options.granularity,
            notAfterMs,
          })
        : undefined;
    // NDJSON results carry chunk-relative line numbers: add the lines of the file's earlier chunks.
    let lineFile = "";
    let lineOffset = 0;
    const entriesOf = new Map<string, number>();
    const startChunk = (file: string) => {
      if (file !== lineFile) {
        lineFile = file;
        lineOffset = 0;
      }
    };
    /** Stage two for one verdict of stage one, and the outcome routed to the streamed files. */
    const take = (item: WorkerItem) => {
      const file = lineFile;
      entriesOf.set(file, (entriesOf.get(file) ?? 0) + 1);
      if (item.kind === "rejected") {
        const entry = { ...item.entry, source: { file, line: item.entry.source.line + lineOffset } };
        pipeline.accept({ kind: "rejected", entry });
        files.writeRejected(entry);
        return;
      }
      if (item.kind === "job") {
        // The item is this loop's own (made for it, or cloned from a worker): placed where it is in
        // its file without a copy of its ~20 fields.
        const job = item.job;
        job.source = { file, line: job.source.line + lineOffset };
        const outcome = pipeline.accept({ kind: "job", job }, item.csv);
        if (outcome.kind === "job") {
          files.writeJobLine(item.csv);
          files.writeFindings(outcome.job.findings);
          usage?.add(outcome.job.principal, outcome.job.billingProject, outcome.job.computeCost);
          billingUsage?.add(outcome.job);
        } else if (outcome.kind === "duplicate") files.writeDuplicate(outcome.copy);
        return;
      }
      pipeline.accept(item);
    };
    const endChunk = async (lineCount: number) => {
      lineOffset += lineCount;
      await files.drain();
      progress.setEntries(pipeline.counters.entries);
    };
    // Stage one here: for every chunk without workers, and for those the main thread takes with them.
    const context = entryContext(registry, { ...options, notAfterMs });
    try {
      if (pool) {
        // Stage one on the pool, chunk results in input order.
        const inline = (chunk: InputChunk) => processChunk(chunk, context);
        for await (const { file, result } of pool.map(chunks, inline)) {
          startChunk(file);
          for (const item of result.items) take(item);
          await endChunk(result.lineCount);
        }
      } else {
        // Inline: each verdict goes to stage two as it comes, the same order as from the pool.
        for await (const chunk of chunks) {
          startChunk(chunkFile(chunk));
          await endChunk(assessChunk(chunk, context, take));
        }
      }
    } finally {
      await pool?.close();
    }
    progress.done();
    for (const held of pipeline.releaseHeld()) {
      if (held.line !== undefined) files.writeJobLine(held.line);
      files.writeFindings(held.job.findings);
      usage?.add(held.job.principal, held.job.billingProject, held.job.computeCost);
      billingUsage?.add(held.job);
      await files.drain();
    }
    files.writeFindings(pipeline.readFindings());
    const report = pipeline.report(snapshot);
    if (billingRows && billingUsage) {
      report.invoice = invoiceReport({
        rows: billingRows,
        counted: countedJobs,
        usage: billingUsage,
        registry,
        clock: pipeline.clock,
        granularity: options.granularity,
        from: report.from,
        to: report.to,
        storage: report.storageCosts,
        coverageThresholdBasisPoints: options.coverageThresholdBasisPoints,
      });
      report.departmentCosts = withInvoicedDepartments(report.departmentCosts, report.invoice.reconciliation);
    }
    const damaged: DamagedInput[] = damages.map((damage) => ({
      file: damage.file,
      stored_bytes: damage.storedBytes,
      text_bytes: damage.textBytes,
      entries_read: entriesOf.get(damage.file) ?? 0,
      cause: damage.cause,
    }));
    const summary = buildSummary(report, {
      inputs,
      bytesRead,
      elapsedMs: performance.now() - startedAt,
      damaged,
      refused,
    });
    if (!options.policies)
      return { summary, files: await files.finish(report, summary), invoice: report.invoice };
    const { runIamAudit } = await import("../io/iam-files.ts");
    const { iamSummary } = await import("../report/iam-section.ts");
    const iam = await runIamAudit(options.policies, registry, usage, new Date().toISOString());
    summary.iam = iamSummary(iam);
    return { summary, files: await files.finish(report, summary, iam), iam, invoice: report.invoice };
  }
}
