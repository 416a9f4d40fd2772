// Reads INFORMATION_SCHEMA.JOBS (JOBS_BY_PROJECT, JOBS_BY_ORGANIZATION) rows of the period, as
// `bq query --format=csv|json` or `bq extract` writes them: what BigQuery itself counted, to
// measure how much of it the audit logs saw.
import { readFile } from "node:fs/promises";
import type { CountedJob } from "../core/billing/coverage.ts";
import { parseBqTimestamp } from "./billing-export.ts";
import { parseTableRows } from "./table-rows.ts";

export class JobsExportError extends Error {}

const REQUIRED = ["project_id", "job_id", "end_time", "total_bytes_billed"] as const;

export function parseJobsExport(text: string, file: string): CountedJob[] {
  const rows = parseTableRows(text, file, {
    required: REQUIRED,
    what: "INFORMATION_SCHEMA.JOBS",
    error: JobsExportError,
  });
  return rows.map(({ values, line }) => {
    const fail = (column: string, problem: string): never => {
      throw new JobsExportError(`${file}:${line}: ${column}: ${problem}`);
    };
    const text = (column: string): string => {
      const value = values[column];
      if (value === undefined || value === null || value === "") return "";
      if (typeof value !== "string" && typeof value !== "number")
        fail(column, `expected text, found ${JSON.stringify(value)}`);
      return String(value).trim();
    };
    const projectId = text("project_id") || fail("project_id", "expected a project id, found nothing");
    const jobId = text("job_id") || fail("job_id", "expected a job id, found nothing");
    // A job still running has no end_time: it is counted on the day it was created.
    const endMs = parseBqTimestamp(values.end_time || values.creation_time);
    if (endMs === undefined)
      fail(
        "end_time",
        `expected a timestamp such as 2026-10-01 07:00:00 UTC, found ${JSON.stringify(values.end_time)}`,
      );
    const bytes = text("total_bytes_billed") || "0";
    if (!/^\d+$/.test(bytes))
      fail("total_bytes_billed", `expected a whole number of bytes, found "${bytes}"`);
    return {
      projectId,
      jobId,
      endMs: endMs as number,
      totalBytesBilled: BigInt(bytes),
      source: { file, line },
    };
  });
}

export async function readJobsExports(files: readonly string[]): Promise<CountedJob[]> {
  const jobs: CountedJob[] = [];
  for (const file of files)
    for (const job of parseJobsExport(await readFile(file, "utf8"), file)) jobs.push(job);
  return jobs;
}
