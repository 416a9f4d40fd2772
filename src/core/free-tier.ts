// BigQuery's free tier, and who consumed it. Google: "10 GiB storage, up to 1 TiB queries in
// on-demand compute free per month" (product page, https://cloud.google.com/bigquery, [PROD] in
// shared/reference/audit-log-formats.md §8.1); "The first 1 TB of data processed per month is free
// of charge (per billing account)" (pricing page, https://cloud.google.com/bigquery/pricing,
// on-demand pricing). So the free TiB is taken by the month's on-demand bytes as they are billed:
// the jobs of the calendar month (billing days, Pacific by default) in end-time order consume it
// first. Capacity (editions) jobs never do. The registry's projects are taken as one billing
// account. The free 10 GiB of storage is stated, not valued: Google does not say which storage
// class (logical or physical, active or long-term) it is taken from.
import type { JobSummary } from "./aggregate.ts";
import { mulDivRound, type Nanos } from "./money.ts";
import { periodEnd, periodStart } from "./period.ts";
import { BYTES_PER_TIB } from "./pricebook.ts";

export type FreeTierMode = "show" | "deduct";
export const FREE_TIER_MODES: readonly FreeTierMode[] = ["show", "deduct"];

/** On-demand query bytes free per month and billing account: 1 TiB. */
export const FREE_QUERY_BYTES = BYTES_PER_TIB;
/** Storage free per month and billing account, in GiB. */
export const FREE_STORAGE_GIB = 10;

/** The free bytes one job consumed, and their worth at its own price. */
export interface FreeTierUse {
  month: string;
  period: string;
  jobId: string;
  payerDepartment: string;
  consumerDepartment: string;
  freeBytes: bigint;
  freeUsd: Nanos;
}

/** The few facts of an on-demand job the free tier needs, kept until the month's TiB is placed. */
interface Candidate {
  endMs: number;
  job: Pick<
    JobSummary,
    "jobId" | "period" | "payerDepartment" | "consumerDepartment" | "billedBytes" | "computeCost"
  >;
}

/** Whether the job draws on the free TiB: priced on demand, with bytes billed. */
export function drawsOnFreeTier(job: JobSummary): boolean {
  return job.pricingModel === "on_demand" && job.billedBytes > 0n && job.computeCost > 0n;
}

/** Billing-time order: end time to the millisecond, then job id (the SQL orders the same way). */
const before = (a: Candidate, b: Candidate): number =>
  a.endMs - b.endMs || (a.job.jobId < b.job.jobId ? -1 : a.job.jobId > b.job.jobId ? 1 : 0);

const PRUNE_EVERY = 4096;

/**
 * The on-demand jobs of each month, kept only as far as the month's free TiB reaches: jobs come in
 * any order, so a job is kept until earlier ones fill the TiB (memory bounded by the jobs inside
 * the TiB, not by the month's jobs).
 */
export class FreeTierLedger {
  private readonly months = new Map<string, { kept: Candidate[]; added: number; cutoff?: Candidate }>();

  add(job: JobSummary): void {
    if (!drawsOnFreeTier(job)) return;
    const month = job.usageDate.slice(0, 7);
    let state = this.months.get(month);
    if (!state) {
      state = { kept: [], added: 0 };
      this.months.set(month, state);
    }
    const candidate: Candidate = {
      endMs: Date.parse(job.endTime),
      job: {
        jobId: job.jobId,
        period: job.period,
        payerDepartment: job.payerDepartment,
        consumerDepartment: job.consumerDepartment,
        billedBytes: job.billedBytes,
        computeCost: job.computeCost,
      },
    };
    // After the TiB is full, a later job cannot draw on it.
    if (state.cutoff && before(state.cutoff, candidate) < 0) return;
    state.kept.push(candidate);
    if (++state.added % PRUNE_EVERY === 0) prune(state);
  }

  /** Each month's free bytes per job, months and jobs in billing order. */
  uses(): FreeTierUse[] {
    const uses: FreeTierUse[] = [];
    for (const month of [...this.months.keys()].sort()) {
      const state = this.months.get(month);
      if (!state) continue;
      prune(state);
      let left = FREE_QUERY_BYTES;
      for (const { job } of state.kept) {
        if (left === 0n) break;
        // biome-ignore lint/complexity/useMathMinMax: bigint, which Math.min does not take
        const freeBytes = job.billedBytes < left ? job.billedBytes : left;
        left -= freeBytes;
        uses.push({
          month,
          period: job.period,
          jobId: job.jobId,
          payerDepartment: job.payerDepartment,
          consumerDepartment: job.consumerDepartment,
          freeBytes,
          // the job's own cost for the bytes that were free, one rounding: all of it when all were
          freeUsd: mulDivRound(job.computeCost, freeBytes, job.billedBytes),
        });
      }
    }
    return uses;
  }
}

/** Sorts the kept jobs and drops those after the one that fills the TiB. */
function prune(state: { kept: Candidate[]; cutoff?: Candidate }): void {
  state.kept.sort(before);
  let bytes = 0n;
  for (let i = 0; i < state.kept.length; i++) {
    bytes += (state.kept[i] as Candidate).job.billedBytes;
    if (bytes >= FREE_QUERY_BYTES) {
      state.kept.length = i + 1;
      state.cutoff = state.kept[i];
      return;
    }
  }
}

/** One month's free tier as the report shows it. */
export interface FreeTierMonth {
  month: string;
  /** Whether the report covers the whole month: if not, jobs before it may have used the TiB. */
  wholeMonth: boolean;
  freeBytes: bigint;
  freeUsd: Nanos;
  /** Payer departments whose jobs consumed it, with their bytes and worth, most first. */
  byDepartment: { department: string; freeBytes: bigint; freeUsd: Nanos }[];
}

export interface FreeTierReport {
  mode: FreeTierMode;
  months: FreeTierMonth[];
  /** Every job's use, for the deduction (per period, payer and consumer). */
  uses: FreeTierUse[];
}

export function freeTierReport(
  uses: FreeTierUse[],
  mode: FreeTierMode,
  range: { from: string; to: string },
): FreeTierReport {
  const months = new Map<string, FreeTierMonth>();
  for (const use of uses) {
    let month = months.get(use.month);
    if (!month) {
      month = {
        month: use.month,
        wholeMonth: range.from <= periodStart(use.month) && range.to >= periodEnd(use.month),
        freeBytes: 0n,
        freeUsd: 0n,
        byDepartment: [],
      };
      months.set(use.month, month);
    }
    month.freeBytes += use.freeBytes;
    month.freeUsd += use.freeUsd;
    const row = month.byDepartment.find((d) => d.department === use.payerDepartment);
    if (row) {
      row.freeBytes += use.freeBytes;
      row.freeUsd += use.freeUsd;
    } else
      month.byDepartment.push({
        department: use.payerDepartment,
        freeBytes: use.freeBytes,
        freeUsd: use.freeUsd,
      });
  }
  for (const month of months.values())
    month.byDepartment.sort((a, b) =>
      a.freeUsd === b.freeUsd ? (a.department < b.department ? -1 : 1) : a.freeUsd > b.freeUsd ? -1 : 1,
    );
  return { mode, months: [...months.values()], uses };
}
