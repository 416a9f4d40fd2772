// The one path of the core, in two stages. Stage one, assessEntry: one entry's text in, what it
// is out (parsed, attributed, priced, checked), with no state, so it runs in any worker thread or
// Cloud Function instance. Stage two, ChargebackPipeline.accept: each job once, the period kept,
// everything aggregated into the reports; one instance sees every entry. The CLI (inline or with
// workers) runs both; the ingest function runs stage one and leaves de-duplication and
// aggregation to the SQL of sql/. Pure (no I/O, no clock).
import {
  ChargebackAggregator,
  type JobSummary,
  type PrincipalRow,
  storageCosts,
  summarizeJob,
  type TopJob,
  type TrendRow,
} from "./aggregate.ts";
import { attribute, classifyPrincipal } from "./attribute.ts";
import type { InvoiceReport } from "./billing/invoice-report.ts";
import {
  detectJobFindings,
  type RegistryView,
  UnexpectedReadDetector,
  unexpectedReadFinding,
} from "./detect.ts";
import { FreeTierLedger, type FreeTierReport, type FreeTierUse, freeTierReport } from "./free-tier.ts";
import { COMPLETE_COPY, jobKey } from "./job-copies.ts";
import { JobIdSet } from "./job-id-set.ts";
import type { LabelCoverageReport } from "./label-coverage.ts";
import { type Nanos, sumNanos } from "./money.ts";
import { parseEntry, parseLine } from "./parse.ts";
import { DayClock, periodEnd, periodOf, periodStart } from "./period.ts";
import { priceJob, priceStorageMonth } from "./pricebook.ts";
import { projectDepartment, type Registry } from "./registry.ts";
import type { DepartmentCostRow, MatrixRow, StorageCostRow } from "./rows.ts";
import { storageReadFinding } from "./storage-read.ts";
import { TimeRange } from "./time-range.ts";
import { TopFindings } from "./top-findings.ts";
import {
  type Finding,
  type JobCost,
  type JobEvent,
  OUTSIDE,
  type PeriodGranularity,
  type RejectedEntry,
  type SourceRef,
  type TableStorage,
} from "./types.ts";
import type { ViewReadRow } from "./view-reads.ts";

export interface PipelineOptions {
  registry: Registry;
  /** IANA zone of billing days (Google bills in America/Los_Angeles). */
  timeZone?: string;
  granularity?: PeriodGranularity;
  /** Inclusive range of usage days (YYYY-MM-DD) to report; jobs outside it are counted and skipped. */
  from?: string;
  to?: string;
  /**
   * The billing day the run takes as today: without bounds and without a job, the report is the
   * period containing it (a storage snapshot is of today). Absent: such a run reports nothing.
   */
  today?: string;
  /** Where incomplete copies wait (default: the heap; the CLI keeps them in a scratch file). */
  heldCopies?: HeldCopies;
}

export interface RunCounters {
  entries: number;
  jobs: number;
  duplicateJobs: number;
  outsidePeriod: number;
  tableReads: number;
  ignored: Record<string, number>;
  rejected: Record<string, number>;
}

/** What stage one needs besides the entry: the registry, the billing day and the period length. */
export interface EntryContext {
  registry: Registry;
  view: RegistryView;
  clock: DayClock;
  granularity: PeriodGranularity;
  /** Entries timed after this instant are rejected: the reader's clock plus skew (notAfterFor). */
  notAfterMs?: number;
}

export function entryContext(
  registry: Registry,
  options: { timeZone?: string; granularity?: PeriodGranularity; notAfterMs?: number } = {},
): EntryContext {
  return {
    registry,
    view: registryView(registry),
    clock: new DayClock(options.timeZone),
    granularity: options.granularity ?? "month",
    notAfterMs: options.notAfterMs,
  };
}

/** What one entry is, judged alone: small and flat, so it crosses threads cheaply. */
export type Verdict =
  | { kind: "job"; job: JobSummary }
  /** A tableDataRead: its billing day, and its finding when the read was billed where nobody expected. */
  | { kind: "table_read"; usageDate: string; finding: Finding | undefined; entryKey: string }
  | { kind: "ignored"; reason: string }
  | { kind: "rejected"; entry: RejectedEntry };

/** Stage one's answer: the verdict, and for a job its full cost (what its job_costs row is made of). */
export type Assessment = Exclude<Verdict, { kind: "job" }> | { kind: "job"; job: JobSummary; cost: JobCost };

/** One copy of a job, as a duplicates record names it. */
export interface JobCopy {
  source: SourceRef;
  format: string;
  completeness: number;
}

/** A copy of a job not counted because another copy of the same job was kept. */
export interface DroppedCopy {
  jobKey: string;
  dropped: JobCopy;
  /** The copy counted; undefined when it was complete and counted as it came (its source is not kept). */
  kept: JobCopy | undefined;
}

/** What became of one entry after stage two. */
export type Outcome =
  | { kind: "job"; job: JobSummary }
  | { kind: "rejected"; entry: RejectedEntry }
  | { kind: "duplicate"; copy: DroppedCopy }
  /** An incomplete copy: counted when the run ends (releaseHeld) unless a more complete one comes. */
  | { kind: "held" }
  | { kind: "outside_period" | "ignored" | "table_read" };

/** A job counted, with the job_costs line the caller gave along. */
export interface CountedJob {
  job: JobSummary;
  line: string | undefined;
}

export const copyOf = (job: JobSummary): JobCopy => ({
  source: job.source,
  format: job.format,
  completeness: job.completeness,
});

/**
 * The incomplete copies waiting for a better copy of their job, by job key: one copy a key, the
 * most complete so far. They come back when the run ends, in the order their jobs were first held.
 */
export interface HeldCopies {
  /** The copy held for the key, or undefined when none is. */
  heldCopy(key: string): JobCopy | undefined;
  /** Holds the copy: the key's first, or one more complete than the copy held. */
  hold(key: string, counted: CountedJob): void;
  /** Every held copy, once, in the order their keys were first held; the store is empty after. */
  release(): Iterable<CountedJob>;
}

/** Held copies on the heap (~2.7 KB each). */
export class MemoryHeldCopies implements HeldCopies {
  private readonly held = new Map<string, CountedJob>();

  heldCopy(key: string): JobCopy | undefined {
    const held = this.held.get(key);
    return held && copyOf(held.job);
  }

  hold(key: string, counted: CountedJob): void {
    this.held.set(key, counted);
  }

  *release(): Generator<CountedJob> {
    const held = [...this.held.values()];
    this.held.clear();
    yield* held;
  }
}

export interface ChargebackReport {
  /** What it was built from, which says where its details are: a report folder's files, or the BigQuery tables. */
  origin: "log_entries" | "report_tables";
  from: string;
  to: string;
  granularity: PeriodGranularity;
  timeZone: string;
  departmentCosts: DepartmentCostRow[];
  chargebackMatrix: MatrixRow[];
  storageCosts: StorageCostRow[];
  /**
   * The most expensive job findings and unexpected reads of each section of the page
   * (PAGE_FINDINGS each), most expensive first. Every finding is in findings.csv, written as jobs
   * are counted (the `job` outcome's findings) and from readFindings() at the end.
   */
  findings: Finding[];
  /** Compute paid per billing day and department. */
  trend: TrendRow[];
  topJobs: TopJob[];
  topPrincipals: PrincipalRow[];
  counters: RunCounters;
  totals: {
    compute: Nanos;
    storage: Nanos;
    freeRides: Nanos;
    /** All findings, not only those kept in `findings`. */
    findings: number;
    findingsByKind: Record<string, number>;
    /** Jobs in the period no rule could price, by reason (their cost is unknown, not 0). */
    unpricedByReason: Record<string, number>;
    /** Tables of the snapshot whose location has no storage price, by location (not in `storage`). */
    unpricedStorageByLocation?: Record<string, number>;
  };
  /** The invoice shared out, when the run was given the Cloud Billing export (src/core/billing). */
  invoice?: InvoiceReport;
  /**
   * The free tier and who consumed it (src/core/free-tier.ts); with the registry's
   * `free_tier: deduct` already taken off departmentCosts and chargebackMatrix.
   */
  freeTier?: FreeTierReport;
  /** How much of the bill job labels explain, when the registry names label_keys. */
  labelCoverage?: LabelCoverageReport;
  /** Data read through another project's view (view project, data project, jobs, cost), when any. */
  viewReads?: ViewReadRow[];
}

export function registryView(registry: Registry): RegistryView {
  const partnerProjects = new Set(registry.partners.flatMap((partner) => partner.billingProjects));
  return {
    projectKind: (project) => projectDepartment(registry, project).kind,
    projectDepartment: (project) => projectDepartment(registry, project).department,
    principalKind: (principal) => classifyPrincipal(principal, registry).kind,
    principalDepartment: (principal) => classifyPrincipal(principal, registry).department,
    isPartnerBillingProject: (project) => partnerProjects.has(project),
  };
}

function bump(counts: Record<string, number>, key: string): void {
  counts[key] = (counts[key] ?? 0) + 1;
}

/** Attributes, prices and checks one job. */
export function costJob(job: JobEvent, context: EntryContext): JobCost {
  const usageDate = context.clock.dayOf(job.endTimeMs);
  const period = periodOf(usageDate, context.granularity);
  const attribution = attribute(job, context.registry);
  const pricing = priceJob(job, context.registry, usageDate);
  const findings = detectJobFindings(job, attribution, pricing, usageDate);
  return { job, attribution, pricing, findings, usageDate, period };
}

/**
 * Stage one: parses one entry and, for a job or a read, attributes, prices and checks it.
 * `entry`, when given, is the text already parsed (JSON.parse), or read into a LogEntry by an
 * adapter (a sink row converted); the text is kept as the raw entry.
 */
export function assessEntry(
  text: string,
  source: SourceRef,
  context: EntryContext,
  entry?: unknown,
): Assessment {
  try {
    return assess(text, source, context, entry);
  } catch (error) {
    // A defect on one entry costs that entry, never the run (nor, in the function, a poison message).
    const detail = `the entry could not be assessed: ${(error as Error)?.message ?? String(error)}`;
    return {
      kind: "rejected",
      entry: { kind: "rejected", reason: "unprocessable_entry", detail, source, raw: text },
    };
  }
}

function assess(text: string, source: SourceRef, context: EntryContext, entry: unknown): Assessment {
  const options = { notAfterMs: context.notAfterMs };
  const parsed =
    entry === undefined ? parseLine(text, source, options) : parseEntry(entry, text, source, options);
  switch (parsed.kind) {
    case "job": {
      const cost = costJob(parsed, context);
      return { kind: "job", job: summarizeJob(cost), cost };
    }
    case "table_read": {
      const usageDate = context.clock.dayOf(parsed.timestampMs);
      return {
        kind: "table_read",
        usageDate,
        finding:
          storageReadFinding(parsed, context.view, usageDate) ??
          unexpectedReadFinding(parsed, context.view, usageDate),
        entryKey: parsed.entryKey,
      };
    }
    case "ignored":
      return { kind: "ignored", reason: parsed.reason };
    case "rejected":
      return { kind: "rejected", entry: parsed };
  }
}

export class ChargebackPipeline {
  readonly registry: Registry;
  readonly clock: DayClock;
  readonly granularity: PeriodGranularity;
  readonly from: string | undefined;
  readonly to: string | undefined;
  private readonly today: string | undefined;
  readonly aggregator = new ChargebackAggregator();
  readonly counters: RunCounters = {
    entries: 0,
    jobs: 0,
    duplicateJobs: 0,
    outsidePeriod: 0,
    tableReads: 0,
    ignored: {},
    rejected: {},
  };
  /** Every job key seen; dropped once all entries are in (releaseHeld), the run's largest state. */
  private seenJobs: JobIdSet | undefined = new JobIdSet();
  /** Incomplete copies, by job key, waiting for a more complete copy until the run ends. */
  private readonly held: HeldCopies;
  private readonly jobFindings = new TopFindings();
  private readonly freeTier = new FreeTierLedger();
  private readonly reads: UnexpectedReadDetector;

  constructor(options: PipelineOptions) {
    this.registry = options.registry;
    this.clock = new DayClock(options.timeZone);
    this.granularity = options.granularity ?? "month";
    this.from = options.from;
    this.to = options.to;
    this.today = options.today;
    this.reads = new UnexpectedReadDetector(registryView(options.registry));
    this.held = options.heldCopies ?? new MemoryHeldCopies();
  }

  private inRange(day: string): boolean {
    return (this.from === undefined || day >= this.from) && (this.to === undefined || day <= this.to);
  }

  /**
   * Stage two: takes one entry's verdict (and for a job the job_costs line to write for it). A job
   * is counted once whatever its copies; of several, the most complete is kept: a complete copy
   * counts at once, an incomplete one is held until a better copy comes or the run ends.
   */
  accept(verdict: Verdict, line?: string): Outcome {
    this.counters.entries++;
    switch (verdict.kind) {
      case "rejected":
        bump(this.counters.rejected, verdict.entry.reason);
        return { kind: "rejected", entry: verdict.entry };
      case "ignored":
        bump(this.counters.ignored, verdict.reason);
        return { kind: "ignored" };
      case "table_read":
        this.counters.tableReads++;
        if (!this.inRange(verdict.usageDate)) return { kind: "outside_period" };
        if (verdict.finding) this.reads.merge(verdict.finding, verdict.entryKey);
        return { kind: "table_read" };
      case "job":
        return this.acceptJob(verdict.job, line);
    }
  }

  private acceptJob(job: JobSummary, line: string | undefined): Outcome {
    const key = jobKey(job.jobId);
    if (!this.seenJobs) throw new Error("a job came after all entries were in (releaseHeld)");
    if (this.seenJobs.add(key)) {
      if (job.completeness >= COMPLETE_COPY) return this.record(job);
      this.held.hold(key, { job, line });
      return { kind: "held" };
    }
    this.counters.duplicateJobs++;
    const held = this.held.heldCopy(key);
    if (held && job.completeness > held.completeness) {
      this.held.hold(key, { job, line });
      return { kind: "duplicate", copy: { jobKey: key, dropped: held, kept: copyOf(job) } };
    }
    return { kind: "duplicate", copy: { jobKey: key, dropped: copyOf(job), kept: held } };
  }

  /**
   * Counts the held copies (the best of each job's copies), giving back those counted one by one
   * (not as a list: they may be many): call once all entries are in, and go through them all.
   */
  *releaseHeld(): Generator<CountedJob> {
    // At 10 GB of job-heavy logs the set is ~64 MB: freed before the report (and its page) is built.
    this.seenJobs = undefined;
    for (const held of this.held.release()) if (this.record(held.job).kind === "job") yield held;
  }

  private record(job: JobSummary): Outcome {
    if (!this.inRange(job.usageDate)) {
      this.counters.outsidePeriod++;
      return { kind: "outside_period" };
    }
    this.counters.jobs++;
    this.aggregator.addJob(job);
    this.freeTier.add(job);
    for (const finding of job.findings) this.jobFindings.add(finding);
    return { kind: "job", job };
  }

  /** The unexpected-read findings, one per reading job: known whole only once all entries are in. */
  readFindings(): Finding[] {
    return this.reads.findings();
  }

  /**
   * The days reported: the user's bounds, else whole calendar periods (in the billing zone) from
   * the first job's to the last job's, so storage is never pro-rated to the days jobs ran. Without
   * jobs, the period of the bound given, else of today; "" when there is nothing to anchor it.
   */
  private reportRange(): { from: string; to: string } {
    const whole = (day: string | undefined, end: "start" | "end") => {
      if (day === undefined) return undefined;
      const period = periodOf(day, this.granularity);
      return end === "start" ? periodStart(period) : periodEnd(period);
    };
    const anchor = this.to ?? this.today;
    const from = this.from ?? whole(this.aggregator.firstDay ?? anchor, "start") ?? "";
    const to = this.to ?? whole(this.aggregator.lastDay ?? (from === "" ? undefined : from), "end") ?? "";
    return { from, to };
  }

  /** Tables whose location has no storage price in a month of the report, counted by location. */
  private unpricedStorage(snapshot: readonly TableStorage[], from: string, to: string) {
    const byLocation: Record<string, number> = {};
    if (from === "" || snapshot.length === 0) return byLocation;
    const months = [
      ...new Set(
        TimeRange.of(from, to, this.granularity)
          .periods()
          .map((period) => period.monthStart),
      ),
    ];
    for (const table of snapshot) {
      if (months.some((month) => priceStorageMonth(table, this.registry, month) === undefined))
        bump(byLocation, table.location);
    }
    return Object.fromEntries(Object.entries(byLocation).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }

  /** The reports over everything accepted, with storage from the snapshot (if any). */
  report(snapshot: readonly TableStorage[] = []): ChargebackReport {
    for (const _ of this.releaseHeld());
    const { from, to } = this.reportRange();
    const storage =
      from === ""
        ? []
        : storageCosts({
            snapshot,
            from,
            to,
            granularity: this.granularity,
            departmentOf: (project) => projectDepartment(this.registry, project).department,
            monthCost: (table, monthStart) => priceStorageMonth(table, this.registry, monthStart),
          });
    const freeTier = freeTierReport(this.freeTier.uses(), this.registry.freeTier, { from, to });
    const deduct = freeTier.mode === "deduct" ? freeTier.uses : [];
    const departmentCosts =
      from === ""
        ? []
        : deductFromDepartments(
            this.aggregator.departmentCosts({
              from,
              to,
              granularity: this.granularity,
              registryDepartments: this.registry.departments.map((department) => department.id),
              storage,
            }),
            deduct,
          );
    const findings = this.jobFindings.with(this.reads.findings());
    const viewReads = this.aggregator.viewReads.rows(
      (project) => this.registry.projectIndex.get(project)?.department ?? OUTSIDE,
    );
    return {
      origin: "log_entries",
      from,
      to,
      granularity: this.granularity,
      timeZone: this.clock.timeZone,
      departmentCosts,
      chargebackMatrix: deductFromMatrix(this.aggregator.chargebackMatrix(), deduct),
      storageCosts: storage,
      findings: findings.list(),
      trend: this.aggregator.trend(),
      topJobs: this.aggregator.topJobs(),
      topPrincipals: this.aggregator.topPrincipals(),
      counters: this.counters,
      totals: {
        compute: sumNanos(departmentCosts.map((row) => row.compute_paid_usd)),
        storage: sumNanos(storage.map((row) => row.storage_usd)),
        freeRides: sumNanos(departmentCosts.map((row) => row.free_rides_given_usd)),
        findings: findings.total,
        findingsByKind: findings.byKind,
        unpricedByReason: this.aggregator.unpricedByReason(),
        unpricedStorageByLocation: this.unpricedStorage(snapshot, from, to),
      },
      freeTier,
      ...(viewReads.length > 0 ? { viewReads } : {}),
      ...(this.registry.labelKeys.length > 0
        ? { labelCoverage: this.aggregator.labels.report(this.registry.labelKeys) }
        : {}),
    };
  }
}

const sumKey = (...parts: string[]) => JSON.stringify(parts);

/** The free tier taken off what each job's payer paid and its consumer consumed (`free_tier: deduct`). */
function deductFromDepartments(rows: DepartmentCostRow[], uses: readonly FreeTierUse[]): DepartmentCostRow[] {
  if (uses.length === 0) return rows;
  const paid = new Map<string, Nanos>();
  const consumed = new Map<string, Nanos>();
  for (const use of uses) {
    const payer = sumKey(use.period, use.payerDepartment);
    const consumer = sumKey(use.period, use.consumerDepartment);
    paid.set(payer, (paid.get(payer) ?? 0n) + use.freeUsd);
    consumed.set(consumer, (consumed.get(consumer) ?? 0n) + use.freeUsd);
  }
  return rows.map((row) => {
    const key = sumKey(row.period, row.department);
    return {
      ...row,
      compute_paid_usd: row.compute_paid_usd - (paid.get(key) ?? 0n),
      compute_consumed_usd: row.compute_consumed_usd - (consumed.get(key) ?? 0n),
    };
  });
}

function deductFromMatrix(rows: MatrixRow[], uses: readonly FreeTierUse[]): MatrixRow[] {
  if (uses.length === 0) return rows;
  const free = new Map<string, Nanos>();
  for (const use of uses) {
    const key = sumKey(use.period, use.payerDepartment, use.consumerDepartment);
    free.set(key, (free.get(key) ?? 0n) + use.freeUsd);
  }
  return rows.map((row) => ({
    ...row,
    compute_cost_usd:
      row.compute_cost_usd -
      (free.get(sumKey(row.period, row.payer_department, row.consumer_department)) ?? 0n),
  }));
}
