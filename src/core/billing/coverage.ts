// How much of what BigQuery counted (INFORMATION_SCHEMA.JOBS) the audit logs saw, per billing
// project and day: jobs dropped by a sink that was down or filtered too narrowly, entries over
// 100 KB that lost their metadata, all show up here as jobs the logs lack.
import type { DayClock } from "../period.ts";
import type { SourceRef } from "../types.ts";

/** One row of INFORMATION_SCHEMA.JOBS (or JOBS_BY_PROJECT / _BY_ORGANIZATION). */
export interface CountedJob {
  projectId: string;
  jobId: string;
  /** end_time (creation_time when the job has none), epoch ms. */
  endMs: number;
  totalBytesBilled: bigint;
  source: SourceRef;
}

export interface CoverageRow {
  day: string;
  projectId: string;
  jobsCounted: number;
  jobsInLogs: number;
  bytesBilledCounted: bigint;
  bytesBilledInLogs: bigint;
  /** jobsInLogs / jobsCounted as a decimal with 4 places ("0.9833"). */
  jobsCoverage: string;
  bytesCoverage: string;
  belowThreshold: boolean;
}

/** a / b with 4 decimals, rounded down (so 0.99999 never shows as full coverage); "1.0000" when b is 0. */
export function ratio(a: bigint, b: bigint): string {
  if (b === 0n) return "1.0000";
  const scaled = (a * 10_000n) / b;
  return `${scaled / 10_000n}.${(scaled % 10_000n).toString().padStart(4, "0")}`;
}

/** Parses a threshold such as 0.95 into basis points (9500); undefined when not in [0, 1]. */
export function thresholdBasisPoints(text: string): number | undefined {
  if (!/^(?:0(?:\.\d{1,4})?|1(?:\.0{1,4})?)$/.test(text)) return undefined;
  return Math.round(Number(text) * 10_000);
}

export function coverage(options: {
  counted: readonly CountedJob[];
  /** `project:job` -> billed bytes of each job the logs saw. */
  logged: ReadonlyMap<string, bigint>;
  clock: DayClock;
  from?: string;
  to?: string;
  /** Flag a project-day whose job or byte coverage is below this many basis points. */
  thresholdBasisPoints: number;
}): CoverageRow[] {
  const cells = new Map<string, Omit<CoverageRow, "jobsCoverage" | "bytesCoverage" | "belowThreshold">>();
  const seen = new Set<string>();
  for (const job of options.counted) {
    const key = `${job.projectId}:${job.jobId}`;
    if (seen.has(key)) continue; // a job listed twice (two exports of the same view) counts once
    seen.add(key);
    const day = options.clock.dayOf(job.endMs);
    if ((options.from && day < options.from) || (options.to && day > options.to)) continue;
    const cellKey = `${day}\u0000${job.projectId}`;
    let cell = cells.get(cellKey);
    if (!cell) {
      cell = {
        day,
        projectId: job.projectId,
        jobsCounted: 0,
        jobsInLogs: 0,
        bytesBilledCounted: 0n,
        bytesBilledInLogs: 0n,
      };
      cells.set(cellKey, cell);
    }
    cell.jobsCounted++;
    cell.bytesBilledCounted += job.totalBytesBilled;
    const loggedBytes = options.logged.get(key);
    if (loggedBytes !== undefined) {
      cell.jobsInLogs++;
      cell.bytesBilledInLogs += loggedBytes;
    }
  }
  const threshold = BigInt(options.thresholdBasisPoints);
  return [...cells.values()]
    .map((cell) => ({
      ...cell,
      jobsCoverage: ratio(BigInt(cell.jobsInLogs), BigInt(cell.jobsCounted)),
      bytesCoverage: ratio(cell.bytesBilledInLogs, cell.bytesBilledCounted),
      belowThreshold:
        BigInt(cell.jobsInLogs) * 10_000n < threshold * BigInt(cell.jobsCounted) ||
        cell.bytesBilledInLogs * 10_000n < threshold * cell.bytesBilledCounted,
    }))
    .sort((a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : a.projectId < b.projectId ? -1 : 1));
}
