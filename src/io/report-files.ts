// Writes a report folder. job_costs.csv, findings.csv, rejected.ndjson and duplicates.ndjson are
// streamed while entries are read (they grow with the input); the report tables are written once
// at the end (they do not).
// Everything goes to a hidden folder beside the target, renamed into place only when complete:
// a failed or interrupted run leaves no folder that looks complete but is partial, nor one that
// mixes its files with an older run's.

import { createWriteStream, rmSync, type WriteStream } from "node:fs";
import { chmod, lstat, mkdir, mkdtemp, readdir, rename, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { FOCUS_COLUMNS } from "../core/billing/focus.ts";
import type { InvoiceReport } from "../core/billing/invoice-report.ts";
import {
  COVERAGE_COLUMNS,
  coverageCells,
  DEPARTMENT_INVOICED_COLUMNS,
  departmentInvoicedCells,
  RECONCILIATION_COLUMNS,
  reconciliationCells,
} from "../core/billing/rows.ts";
import type { FreeTierReport } from "../core/free-tier.ts";
import type { ChargebackReport, DroppedCopy, JobCopy } from "../core/pipeline.ts";
import {
  bigQueryJson,
  CHARGEBACK_MATRIX,
  columnsOf,
  csvCells,
  DEPARTMENT_COSTS,
  FINDINGS,
  findingRow,
  JOB_COSTS,
  REJECTED_ENTRIES,
  rejectedRow,
  type Schema,
  STORAGE_COSTS,
} from "../core/rows.ts";
import type { Finding, RejectedEntry } from "../core/types.ts";
import { freeTierCsvRows } from "../report/free-tier-section.ts";
import { iamHtmlSection, iamMarkdown } from "../report/iam-section.ts";
import { renderMarkdown } from "../report/markdown.ts";
import type { Summary } from "../report/summary.ts";
import { type CsvValue, csvLine } from "./csv.ts";
import { type IamRun, writeIamFiles } from "./iam-files.ts";

/** Bytes a streamed file buffers before writing. */
export const FLUSH_AT = 1 << 16;

/** The output folder cannot be used: said in one line, like a usage error. */
export class OutputError extends Error {}

/** What a report folder holds. A folder with nothing else (or nothing) may be replaced by a new run. */
const REPORT_FILE_NAMES = new Set([
  "job_costs.csv",
  "rejected.ndjson",
  "duplicates.ndjson",
  "department_costs.csv",
  "chargeback_matrix.csv",
  "storage_costs.csv",
  "free_tier.csv",
  "findings.csv",
  "summary.json",
  "report.md",
  "report.html",
  "iam_findings.csv",
  "iam_rejected.ndjson",
  "reconciliation.csv",
  "focus.csv",
  "coverage.csv",
]);

/** Fails unless `dir` is absent, empty, or a report folder of an earlier run. */
async function checkReplaceable(dir: string): Promise<void> {
  const info = await lstat(dir).catch((error: { code?: string }) => {
    if (error.code === "ENOENT") return undefined;
    throw error;
  });
  if (!info) return;
  if (!info.isDirectory()) throw new OutputError(`--out ${dir}: exists and is not a folder`);
  const foreign = (await readdir(dir)).filter((name) => !REPORT_FILE_NAMES.has(name));
  if (foreign.length > 0) {
    throw new OutputError(
      `--out ${dir}: holds files that are not a report's (${foreign.slice(0, 3).join(", ")}${foreign.length > 3 ? ", ..." : ""}): choose a new or empty folder, or an earlier report folder`,
    );
  }
}

/**
 * An append-only text file with a write buffer and backpressure; a write error (disk full) is
 * thrown, never left unhandled. Text is encoded into the buffer as it is appended: a line kept as
 * a string until the flush outlives V8's nursery and is promoted (with the pieces it was
 * concatenated from), which cost a report more GC than any other step (docs/performance.md).
 */
export class BufferedFile {
  private readonly stream: WriteStream;
  private buffer = Buffer.allocUnsafe(FLUSH_AT);
  private used = 0;
  /** Filled buffers waiting for the next flush. */
  private full: Buffer[] = [];
  private failure: Error | undefined;

  constructor(path: string) {
    // Room for several flushes: at the default 16 KB every flush would wait for the disk.
    this.stream = createWriteStream(path, { highWaterMark: 16 * FLUSH_AT });
    this.stream.on("error", (error) => {
      this.failure ??= error;
    });
  }

  append(text: string): void {
    // A UTF-16 code unit takes at most 3 bytes of UTF-8.
    if (this.used + text.length * 3 > this.buffer.length) {
      const bytes = Buffer.byteLength(text);
      if (this.used + bytes > this.buffer.length) this.seal(bytes);
    }
    this.used += this.buffer.write(text, this.used);
  }

  /** Puts what the buffer holds with the filled ones, and starts one of at least `size` bytes. */
  private seal(size = FLUSH_AT): void {
    this.full.push(this.buffer.subarray(0, this.used));
    this.buffer = Buffer.allocUnsafe(Math.max(FLUSH_AT, size));
    this.used = 0;
  }

  get needsFlush(): boolean {
    return this.full.length > 0;
  }

  async flush(): Promise<void> {
    if (this.failure) throw this.failure;
    if (this.used > 0) this.seal();
    const buffers = this.full;
    this.full = [];
    let ready = true;
    for (const buffer of buffers) ready = this.stream.write(buffer);
    if (ready) return;
    await new Promise<void>((resolve, reject) => {
      const done = (error?: Error) => {
        this.stream.off("drain", done);
        this.stream.off("error", done);
        if (error) reject(error);
        else resolve();
      };
      this.stream.on("drain", done);
      this.stream.on("error", done);
    });
  }

  async close(): Promise<void> {
    await this.flush();
    await new Promise<void>((resolve, reject) =>
      this.stream.end((error?: Error | null) => (error ? reject(error) : resolve())),
    );
    if (this.failure) throw this.failure;
  }

  destroy(): void {
    this.stream.destroy();
  }
}

export class ReportFiles {
  /** The report folder, once finished. */
  readonly dir: string;
  /** Where the files are written until then. */
  private readonly staging: string;
  private readonly jobs: BufferedFile;
  private readonly rejected: BufferedFile;
  private readonly duplicates: BufferedFile;
  private readonly findings: BufferedFile;
  /** Scratch files in the staging folder, deleted before it becomes the report folder. */
  private readonly scratch: string[] = [];

  private constructor(dir: string, staging: string) {
    this.dir = dir;
    this.staging = staging;
    this.jobs = new BufferedFile(join(staging, "job_costs.csv"));
    this.rejected = new BufferedFile(join(staging, "rejected.ndjson"));
    this.duplicates = new BufferedFile(join(staging, "duplicates.ndjson"));
    this.findings = new BufferedFile(join(staging, "findings.csv"));
    this.jobs.append(csvLine(columnsOf(JOB_COSTS)));
    this.findings.append(csvLine(columnsOf(FINDINGS)));
  }

  static async create(dir: string): Promise<ReportFiles> {
    const target = resolve(dir);
    await checkReplaceable(target);
    await mkdir(dirname(target), { recursive: true });
    // Beside the target, so the final rename stays on one file system.
    const staging = await mkdtemp(join(dirname(target), `.${basename(target)}.partial-`));
    await chmod(staging, 0o755); // mkdtemp's 0700 would become the report folder's mode
    return new ReportFiles(dir, staging);
  }

  /** Drops everything written (an error, Ctrl-C): synchronous, so it can run as the process exits. */
  abandon(): void {
    for (const file of this.streamed()) file.destroy();
    rmSync(this.staging, { recursive: true, force: true });
  }

  /** A scratch file's path (named with a leading dot): never part of the finished folder. */
  scratchPath(name: string): string {
    const path = join(this.staging, `.${name}`);
    this.scratch.push(path);
    return path;
  }

  /** Appends a job_costs line, formatted where the job was costed (a worker thread). */
  writeJobLine(line: string): void {
    this.jobs.append(line);
  }

  /** Findings in the order jobs are counted (the page lists the most expensive). */
  writeFindings(findings: readonly Finding[]): void {
    for (const finding of findings) this.findings.append(csvLine(csvCells(findingRow(finding), FINDINGS)));
  }

  writeRejected(entry: RejectedEntry): void {
    this.rejected.append(`${JSON.stringify(bigQueryJson(rejectedRow(entry), REJECTED_ENTRIES))}\n`);
  }

  /** A copy of a job not counted, and which copy was kept instead. */
  writeDuplicate(copy: DroppedCopy): void {
    const where = (c: JobCopy) => ({
      source: `${c.source.file}:${c.source.line}`,
      audit_format: c.format,
      completeness: c.completeness,
    });
    const record = {
      job_key: copy.jobKey,
      dropped: where(copy.dropped),
      kept: copy.kept ? where(copy.kept) : "the complete copy counted first",
    };
    this.duplicates.append(`${JSON.stringify(record)}\n`);
  }

  /** Call between batches: writes out buffered lines, waiting for the disk when it lags. */
  async drain(): Promise<void> {
    for (const file of this.streamed()) if (file.needsFlush) await file.flush();
  }

  private streamed(): BufferedFile[] {
    return [this.jobs, this.rejected, this.duplicates, this.findings];
  }

  async finish(report: ChargebackReport, summary: Summary, iam?: IamRun): Promise<string[]> {
    for (const file of this.streamed()) await file.close();
    // The page renderer (ECharts) is loaded only now: at start-up it would add ~50 MB to every run's memory.
    const { renderHtml } = await import("../report/html.ts");
    const files: [string, string][] = [
      [
        "department_costs.csv",
        lines(
          [...columnsOf(DEPARTMENT_COSTS), ...DEPARTMENT_INVOICED_COLUMNS],
          report.departmentCosts.map((row) => [
            ...csvCells(row, DEPARTMENT_COSTS),
            ...departmentInvoicedCells(row, report.invoice?.reconciliation),
          ]),
        ),
      ],
      ["chargeback_matrix.csv", csv(report.chargebackMatrix, CHARGEBACK_MATRIX)],
      ["storage_costs.csv", csv(report.storageCosts, STORAGE_COSTS)],
      ...(report.freeTier ? ([["free_tier.csv", freeTierCsv(report.freeTier)]] as [string, string][]) : []),
      ["summary.json", `${JSON.stringify(summary, null, 2)}\n`],
      [
        "report.md",
        renderMarkdown(report, summary, iam ? `## Who can bill which project\n\n${iamMarkdown(iam)}` : ""),
      ],
      ["report.html", renderHtml(report, iam ? iamHtmlSection(iam) : "", summary.warning)],
    ];
    if (report.invoice) files.push(...invoiceFiles(report.invoice));
    for (const [name, text] of files) await writeFile(join(this.staging, name), text);
    const iamFiles = iam ? await writeIamFiles(this.staging, iam) : [];
    for (const path of this.scratch) await rm(path, { force: true });
    await this.publish();
    return [
      "job_costs.csv",
      "rejected.ndjson",
      "duplicates.ndjson",
      "findings.csv",
      ...files.map(([name]) => name),
      ...iamFiles,
    ];
  }

  /** Puts the finished folder in place of the target; an earlier report there is replaced whole. */
  private async publish(): Promise<void> {
    const target = resolve(this.dir);
    await checkReplaceable(target);
    const earlier = `${this.staging}-earlier`;
    const replaced = await rename(target, earlier).then(
      () => true,
      (error: { code?: string }) => {
        if (error.code === "ENOENT") return false;
        throw error;
      },
    );
    await rename(this.staging, target);
    if (replaced) await rm(earlier, { recursive: true, force: true });
  }
}

function csv<Row>(rows: readonly Row[], schema: Schema<Row>): string {
  return lines(
    columnsOf(schema),
    rows.map((row) => csvCells(row, schema)),
  );
}

function freeTierCsv(report: FreeTierReport): string {
  const { header, rows } = freeTierCsvRows(report);
  return lines(header, rows);
}

function lines(header: readonly string[], rows: readonly CsvValue[][]): string {
  return [csvLine(header), ...rows.map((row) => csvLine(row))].join("");
}

/** reconciliation.csv, focus.csv (FOCUS 1.2) and, with a JOBS export, coverage.csv. */
function invoiceFiles(invoice: InvoiceReport): [string, string][] {
  const { reconciliation } = invoice;
  const files: [string, string][] = [
    [
      "reconciliation.csv",
      lines(
        RECONCILIATION_COLUMNS,
        reconciliation.rows.map((row) => reconciliationCells(row, reconciliation.currency)),
      ),
    ],
    [
      "focus.csv",
      lines(
        FOCUS_COLUMNS,
        invoice.focus.map((row) => FOCUS_COLUMNS.map((column) => row[column])),
      ),
    ],
  ];
  if (invoice.coverage.length > 0)
    files.push(["coverage.csv", lines(COVERAGE_COLUMNS, invoice.coverage.map(coverageCells))]);
  return files;
}
