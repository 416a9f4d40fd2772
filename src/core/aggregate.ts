// The in-memory engine of the reports: period x department sums and the payer x consumer matrix,
// with exactly the semantics of docs/tables.md that the SQL in sql/reports reproduces.
// State is small (periods x departments) and mergeable, so workers can aggregate in parallel.

import { FINDING_KINDS } from "./findings.ts";
import { copyCompleteness } from "./job-copies.ts";
import { LabelCoverage } from "./label-coverage.ts";
import type { Nanos } from "./money.ts";
import { prorate } from "./pricebook.ts";
import type { DepartmentCostRow, MatrixRow, StorageCostRow } from "./rows.ts";
import { type ClippedPeriod, TimeRange } from "./time-range.ts";
import { TupleMemo } from "./tuple-memo.ts";
import type {
  AuditFormat,
  Finding,
  JobCost,
  LabelUse,
  PeriodGranularity,
  SourceRef,
  TableStorage,
  UnpricedReason,
} from "./types.ts";
import { ViewReads, viewReadsOf } from "./view-reads.ts";

export interface TrendRow {
  day: string;
  department: string;
  computePaid: Nanos;
}

export interface PrincipalRow {
  principal: string;
  consumerDepartment: string;
  jobs: number;
  computeCost: Nanos;
}

/** The few facts of a job that the top-jobs list shows. */
export interface TopJob {
  jobId: string;
  billingProject: string;
  principal: string;
  payerDepartment: string;
  consumerDepartment: string;
  statementType: string;
  billedBytes: bigint;
  computeCost: Nanos;
  endTime: string;
  findings: string[];
}

const TOP_JOBS = 20;

/**
 * What aggregation needs of a priced job: small and flat, so worker threads send it cheaply.
 */
export interface JobSummary extends Omit<TopJob, "findings"> {
  usageDate: string;
  period: string;
  findings: Finding[];
  /** How much this copy of the job tells (copyCompleteness): of several copies the most complete is kept. */
  completeness: number;
  /** Which entry this copy came from, to say which copy of a duplicated job was kept. */
  source: SourceRef;
  format: AuditFormat;
  /** Why no rule could price the job (pricebook.ts); absent for a priced job. */
  unpricedReason?: UnpricedReason;
  /** For sharing out the invoice (src/core/billing): how the job was priced and its slot use. */
  pricingModel: string;
  reservation: string;
  slotMs: bigint;
  /** The job's label of the registry's label_keys, and what it decided (attribute.ts). */
  label?: string;
  labelUse?: LabelUse;
  /** For a job that referenced views: each view's project and the other projects whose tables it read. */
  viewReads?: { viewProject: string; dataProjects: string[] }[];
}

export function summarizeJob(cost: JobCost): JobSummary {
  return {
    jobId: cost.job.jobId,
    billingProject: cost.job.billingProject,
    principal: cost.job.principal,
    payerDepartment: cost.attribution.payerDepartment,
    consumerDepartment: cost.attribution.consumerDepartment,
    statementType: cost.job.statementType,
    billedBytes: cost.job.billedBytes,
    computeCost: cost.pricing.computeCost,
    endTime: cost.job.endTime,
    usageDate: cost.usageDate,
    period: cost.period,
    findings: cost.findings,
    completeness: copyCompleteness(cost.job),
    source: cost.job.source,
    format: cost.job.format,
    ...(cost.pricing.unpricedReason ? { unpricedReason: cost.pricing.unpricedReason } : {}),
    pricingModel: cost.pricing.pricingModel,
    reservation: cost.job.reservation,
    slotMs: cost.job.slotMs,
    ...(cost.attribution.label
      ? { label: cost.attribution.label.label, labelUse: cost.attribution.label.use }
      : {}),
    ...(cost.job.referencedViews.length > 0 ? { viewReads: viewReadsOf(cost.job) } : {}),
  };
}

export function isFreeRide(job: { findings: readonly Finding[] }): boolean {
  return job.findings.some((finding) => FINDING_KINDS[finding.kind].freeRide);
}

type ComputeSums = Omit<DepartmentCostRow, "period" | "department" | "storage_usd">;

const zeroSums = (): ComputeSums => ({
  compute_paid_usd: 0n,
  compute_consumed_usd: 0n,
  free_rides_given_usd: 0n,
  free_rides_taken_usd: 0n,
  unpriced_jobs: 0n,
});

/**
 * A Map key for a tuple of texts: the JSON of the array. Unlike texts joined with a separator,
 * no text can forge it: a department named after an external domain can hold any character.
 */
const keyOf = (...parts: string[]): string => JSON.stringify(parts);
const partsOf = (key: string): string[] => JSON.parse(key) as string[];

const KEYS_LIMIT = 100_000;

/**
 * keyOf of tuples of one length, remembered: the same periods, days and departments come job
 * after job, and finding a key again costs less than writing its JSON.
 */
const tupleKeys = () => new TupleMemo(KEYS_LIMIT, (parts) => keyOf(...parts));

export class ChargebackAggregator {
  private readonly departments = new Map<string, ComputeSums>();
  private readonly matrix = new Map<string, { jobs: bigint; cost: Nanos }>();
  private readonly dailyPaid = new Map<string, Nanos>();
  private readonly principals = new Map<string, PrincipalRow>();
  /** Keys of (period or day, department) and of (period, payer, consumer), each length apart. */
  private readonly pairKeys = tupleKeys();
  private readonly tripleKeys = tupleKeys();
  /** The most expensive jobs, kept sorted and short. */
  private topJobList: TopJob[] = [];
  /** Unpriced jobs by reason, for the summary. */
  private readonly unpriced = new Map<UnpricedReason, number>();
  /** Jobs and cost the registry's job labels explain. */
  readonly labels = new LabelCoverage();
  /** Data read through another project's view. */
  readonly viewReads = new ViewReads();
  /** Smallest and largest usage day seen, for reports run without --from/--to. */
  firstDay: string | undefined;
  lastDay: string | undefined;

  addJob(job: JobSummary): void {
    const cost = job.computeCost;
    const payer = job.payerDepartment;
    const consumer = job.consumerDepartment;
    const freeRide = isFreeRide(job);
    const paid = this.sumsOf(job.period, payer);
    paid.compute_paid_usd += cost;
    if (freeRide) paid.free_rides_given_usd += cost;
    if (job.unpricedReason) {
      paid.unpriced_jobs++;
      this.unpriced.set(job.unpricedReason, (this.unpriced.get(job.unpricedReason) ?? 0) + 1);
    }
    const consumed = this.sumsOf(job.period, consumer);
    consumed.compute_consumed_usd += cost;
    if (freeRide) consumed.free_rides_taken_usd += cost;
    const pair = this.tripleKeys.of(job.period, payer, consumer);
    const cell = this.matrix.get(pair);
    if (cell) {
      cell.jobs++;
      cell.cost += cost;
    } else this.matrix.set(pair, { jobs: 1n, cost });
    const day = this.pairKeys.of(job.usageDate, payer);
    this.dailyPaid.set(day, (this.dailyPaid.get(day) ?? 0n) + cost);
    this.addPrincipal({
      principal: job.principal,
      consumerDepartment: consumer,
      jobs: 1,
      computeCost: cost,
    });
    if (cost > 0n) this.offerTopJob(job);
    this.labels.add(job);
    this.viewReads.add(job);
    if (this.firstDay === undefined || job.usageDate < this.firstDay) this.firstDay = job.usageDate;
    if (this.lastDay === undefined || job.usageDate > this.lastDay) this.lastDay = job.usageDate;
  }

  private addPrincipal(row: PrincipalRow): void {
    const mine = this.principals.get(row.principal);
    if (mine) {
      mine.jobs += row.jobs;
      mine.computeCost += row.computeCost;
    } else this.principals.set(row.principal, { ...row });
  }

  private offerTopJob(job: JobSummary): void {
    const last = this.topJobList[this.topJobList.length - 1];
    if (this.topJobList.length >= TOP_JOBS && last && last.computeCost >= job.computeCost) return;
    const {
      usageDate: _day,
      period: _period,
      completeness: _completeness,
      source: _source,
      format: _format,
      unpricedReason: _unpriced,
      findings,
      pricingModel: _model,
      reservation: _reservation,
      slotMs: _slotMs,
      label: _label,
      labelUse: _labelUse,
      viewReads: _viewReads,
      ...top
    } = job;
    this.insertTopJob({ ...top, findings: findings.map((finding) => finding.kind) });
  }

  private insertTopJob(top: TopJob): void {
    this.topJobList.push(top);
    this.topJobList.sort((a, b) =>
      a.computeCost === b.computeCost ? compare(a.jobId, b.jobId) : a.computeCost > b.computeCost ? -1 : 1,
    );
    if (this.topJobList.length > TOP_JOBS) this.topJobList.length = TOP_JOBS;
  }

  /** Adds another aggregator's sums into this one (parallel runs). */
  merge(other: ChargebackAggregator): void {
    for (const [key, sums] of other.departments) {
      const [period = "", department = ""] = partsOf(key);
      const mine = this.sumsOf(period, department);
      mine.compute_paid_usd += sums.compute_paid_usd;
      mine.compute_consumed_usd += sums.compute_consumed_usd;
      mine.free_rides_given_usd += sums.free_rides_given_usd;
      mine.free_rides_taken_usd += sums.free_rides_taken_usd;
      mine.unpriced_jobs += sums.unpriced_jobs;
    }
    for (const [reason, count] of other.unpriced)
      this.unpriced.set(reason, (this.unpriced.get(reason) ?? 0) + count);
    this.labels.merge(other.labels);
    this.viewReads.merge(other.viewReads);
    for (const [key, cell] of other.matrix) {
      const mine = this.matrix.get(key);
      if (mine) {
        mine.jobs += cell.jobs;
        mine.cost += cell.cost;
      } else this.matrix.set(key, { ...cell });
    }
    for (const [key, cost] of other.dailyPaid)
      this.dailyPaid.set(key, (this.dailyPaid.get(key) ?? 0n) + cost);
    for (const row of other.principals.values()) this.addPrincipal(row);
    for (const top of other.topJobList) this.insertTopJob(top);
    for (const day of [other.firstDay, other.lastDay]) {
      if (day === undefined) continue;
      if (this.firstDay === undefined || day < this.firstDay) this.firstDay = day;
      if (this.lastDay === undefined || day > this.lastDay) this.lastDay = day;
    }
  }

  private sumsOf(period: string, department: string): ComputeSums {
    const key = this.pairKeys.of(period, department);
    let sums = this.departments.get(key);
    if (!sums) {
      sums = zeroSums();
      this.departments.set(key, sums);
    }
    return sums;
  }

  /**
   * Department rows for every period in [from, to]: every registry department, plus every
   * department that paid, consumed or owns storage in that period. Sorted by period, department.
   */
  departmentCosts(options: {
    from: string;
    to: string;
    granularity: PeriodGranularity;
    registryDepartments: readonly string[];
    storage: readonly StorageCostRow[];
  }): DepartmentCostRow[] {
    const storageBy = new Map<string, Nanos>();
    for (const row of options.storage) {
      const key = keyOf(row.period, row.department);
      storageBy.set(key, (storageBy.get(key) ?? 0n) + row.storage_usd);
    }
    // Departments with sums, per period: one pass over the keys, not one per period.
    const active = new Map<string, string[]>();
    for (const key of [...this.departments.keys(), ...storageBy.keys()]) {
      const [period = "", department = ""] = partsOf(key);
      const list = active.get(period);
      if (list) list.push(department);
      else active.set(period, [department]);
    }
    const rows: DepartmentCostRow[] = [];
    for (const { period } of periodsOf(options)) {
      const names = new Set([...options.registryDepartments, ...(active.get(period) ?? [])]);
      for (const department of [...names].sort()) {
        const key = keyOf(period, department);
        const sums = this.departments.get(key) ?? zeroSums();
        const {
          compute_paid_usd,
          compute_consumed_usd,
          free_rides_given_usd,
          free_rides_taken_usd,
          unpriced_jobs,
        } = sums;
        rows.push({
          period,
          department,
          compute_paid_usd,
          compute_consumed_usd,
          storage_usd: storageBy.get(key) ?? 0n,
          free_rides_given_usd,
          free_rides_taken_usd,
          unpriced_jobs,
        });
      }
    }
    return rows;
  }

  /** Compute paid per billing day and department (the trend, whatever the report's periods). */
  trend(): TrendRow[] {
    return [...this.dailyPaid.entries()]
      .map(([key, computePaid]) => {
        const [day = "", department = ""] = partsOf(key);
        return { day, department, computePaid };
      })
      .sort((a, b) => compare(a.day, b.day) || compare(a.department, b.department));
  }

  /** Principals by compute consumed, most expensive first. */
  topPrincipals(limit = TOP_JOBS): PrincipalRow[] {
    return [...this.principals.values()]
      .sort((a, b) =>
        a.computeCost === b.computeCost
          ? compare(a.principal, b.principal)
          : a.computeCost > b.computeCost
            ? -1
            : 1,
      )
      .slice(0, limit)
      .map((row) => ({ ...row }));
  }

  /** Unpriced jobs by reason, reasons sorted. */
  unpricedByReason(): Record<string, number> {
    return Object.fromEntries([...this.unpriced.entries()].sort(([a], [b]) => compare(a, b)));
  }

  /** The most expensive jobs (cost above zero), most expensive first. */
  topJobs(): TopJob[] {
    return this.topJobList.map((job) => ({ ...job }));
  }

  /** Matrix cells with at least one job, sorted by period, payer, consumer. */
  chargebackMatrix(): MatrixRow[] {
    return [...this.matrix.entries()]
      .map(([key, cell]) => {
        const [period = "", payerDepartment = "", consumerDepartment = ""] = partsOf(key);
        return {
          period,
          payer_department: payerDepartment,
          consumer_department: consumerDepartment,
          jobs: cell.jobs,
          compute_cost_usd: cell.cost,
        };
      })
      .sort(
        (a, b) =>
          compare(a.period, b.period) ||
          compare(a.payer_department, b.payer_department) ||
          compare(a.consumer_department, b.consumer_department),
      );
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The periods of [from, to], clipped to it; none when nothing was read (no day to start from). */
function periodsOf(options: { from: string; to: string; granularity: PeriodGranularity }): ClippedPeriod[] {
  if (options.from === "" || options.from > options.to) return [];
  return TimeRange.of(options.from, options.to, options.granularity).periods();
}

/**
 * Storage cost per period, department, project, dataset and billing model: each table's month
 * cost (from the price book), pro-rated to the days of the period inside [from, to]. A table
 * without a price (monthCost undefined) adds nothing to storage_usd and one to unpriced_tables.
 */
export function storageCosts(options: {
  snapshot: readonly TableStorage[];
  from: string;
  to: string;
  granularity: PeriodGranularity;
  departmentOf: (project: string) => string;
  monthCost: (table: TableStorage, monthStart: string) => Nanos | undefined;
}): StorageCostRow[] {
  const sums = new Map<string, StorageCostRow>();
  for (const { period, days, monthStart, daysInMonth } of periodsOf(options)) {
    for (const table of options.snapshot) {
      const monthCost = options.monthCost(table, monthStart);
      const share = monthCost === undefined ? 0n : prorate(monthCost, days, daysInMonth);
      const unpriced = monthCost === undefined ? 1n : 0n;
      const department = options.departmentOf(table.projectId);
      const key = keyOf(period, department, table.projectId, table.dataset, table.billingModel);
      const row = sums.get(key);
      if (row) {
        row.storage_usd += share;
        row.unpriced_tables += unpriced;
      } else
        sums.set(key, {
          period,
          department,
          project_id: table.projectId,
          dataset: table.dataset,
          billing_model: table.billingModel,
          storage_usd: share,
          unpriced_tables: unpriced,
        });
    }
  }
  return [...sums.values()].sort(
    (a, b) =>
      compare(a.period, b.period) ||
      compare(a.department, b.department) ||
      compare(a.project_id, b.project_id) ||
      compare(a.dataset, b.dataset) ||
      compare(a.billing_model, b.billing_model),
  );
}
