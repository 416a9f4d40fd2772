// Writes a report folder. job_costs.csv and rejected.ndjson are streamed while entries are read
// (they grow with the input); the report tables are written once at the end (they do not).
import { createWriteStream, type WriteStream } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { ChargebackReport, DroppedCopy, JobCopy } from "../core/pipeline.ts";
import {
  DEPARTMENT_COST_COLUMNS,
  departmentCostCells,
  FINDING_COLUMNS,
  findingCells,
  JOB_COST_COLUMNS,
  jobCostCsvCells,
  jobCostRecord,
  MATRIX_COLUMNS,
  matrixCells,
  rejectedRecord,
  STORAGE_COST_COLUMNS,
  storageCostCells,
} from "../core/rows.ts";
import type { JobCost, RejectedEntry } from "../core/types.ts";
import { renderHtml } from "../report/html.ts";
import { iamHtmlSection, iamMarkdown } from "../report/iam-section.ts";
import { renderMarkdown } from "../report/markdown.ts";
import type { Summary } from "../report/summary.ts";
import { type CsvValue, csvLine } from "./csv.ts";
import { type IamRun, writeIamFiles } from "./iam-files.ts";

const FLUSH_AT = 1 << 20;

/** An append-only text file with a write buffer and backpressure. */
class BufferedFile {
  private readonly stream: WriteStream;
  private parts: string[] = [];
  private size = 0;

  constructor(path: string) {
    this.stream = createWriteStream(path);
  }

  append(text: string): void {
    this.parts.push(text);
    this.size += text.length;
  }

  get needsFlush(): boolean {
    return this.size >= FLUSH_AT;
  }

  async flush(): Promise<void> {
    if (this.parts.length === 0) return;
    const text = this.parts.join("");
    this.parts = [];
    this.size = 0;
    if (!this.stream.write(text)) await new Promise<void>((resolve) => this.stream.once("drain", resolve));
  }

  async close(): Promise<void> {
    await this.flush();
    await new Promise<void>((resolve, reject) =>
      this.stream.end((error?: Error | null) => (error ? reject(error) : resolve())),
    );
  }
}

export class ReportFiles {
  readonly dir: string;
  private readonly jobs: BufferedFile;
  private readonly rejected: BufferedFile;
  private readonly duplicates: BufferedFile;

  private constructor(dir: string) {
    this.dir = dir;
    this.jobs = new BufferedFile(join(dir, "job_costs.csv"));
    this.rejected = new BufferedFile(join(dir, "rejected.ndjson"));
    this.duplicates = new BufferedFile(join(dir, "duplicates.ndjson"));
    this.jobs.append(csvLine(JOB_COST_COLUMNS));
  }

  static async create(dir: string): Promise<ReportFiles> {
    await mkdir(dir, { recursive: true });
    return new ReportFiles(dir);
  }

  writeJob(cost: JobCost): void {
    this.jobs.append(csvLine(jobCostCsvCells(jobCostRecord(cost), cost)));
  }

  /** Appends an already formatted job_costs line (from a worker). */
  writeJobLine(line: string): void {
    this.jobs.append(line);
  }

  writeRejected(entry: RejectedEntry): void {
    this.rejected.append(`${JSON.stringify(rejectedRecord(entry))}\n`);
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
    if (this.jobs.needsFlush) await this.jobs.flush();
    if (this.rejected.needsFlush) await this.rejected.flush();
    if (this.duplicates.needsFlush) await this.duplicates.flush();
  }

  async finish(report: ChargebackReport, summary: Summary, iam?: IamRun): Promise<string[]> {
    await this.jobs.close();
    await this.rejected.close();
    await this.duplicates.close();
    const files: [string, string][] = [
      [
        "department_costs.csv",
        csv(
          DEPARTMENT_COST_COLUMNS,
          report.departmentCosts.map((row) => departmentCostCells(row)),
        ),
      ],
      [
        "chargeback_matrix.csv",
        csv(
          MATRIX_COLUMNS,
          report.chargebackMatrix.map((row) => matrixCells(row)),
        ),
      ],
      [
        "storage_costs.csv",
        csv(
          STORAGE_COST_COLUMNS,
          report.storageCosts.map((row) => storageCostCells(row)),
        ),
      ],
      [
        "findings.csv",
        csv(
          FINDING_COLUMNS,
          report.findings.map((finding) => findingCells(finding)),
        ),
      ],
      ["summary.json", `${JSON.stringify(summary, null, 2)}\n`],
      [
        "report.md",
        renderMarkdown(report, summary, iam ? `## Who can bill which project\n\n${iamMarkdown(iam)}` : ""),
      ],
      ["report.html", renderHtml(report, summary, iam ? iamHtmlSection(iam) : "")],
    ];
    for (const [name, text] of files) await writeFile(join(this.dir, name), text);
    const iamFiles = iam ? await writeIamFiles(this.dir, iam) : [];
    return [
      "job_costs.csv",
      "rejected.ndjson",
      "duplicates.ndjson",
      ...files.map(([name]) => name),
      ...iamFiles,
    ];
  }
}

function csv(header: readonly string[], rows: CsvValue[][]): string {
  return [csvLine(header), ...rows.map((row) => csvLine(row))].join("");
}
