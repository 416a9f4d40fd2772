// The core's one entry point: parsed entries in, attributed and priced jobs, findings and report
// rows out. Pure (no I/O, no clock): the CLI, the Cloud Functions and the tests all drive it.
import {
  ChargebackAggregator,
  type DepartmentCostRow,
  type JobSummary,
  type MatrixRow,
  type PrincipalRow,
  type StorageCostRow,
  storageCosts,
  summarizeJob,
  type TopJob,
  type TrendRow,
} from "./aggregate.ts";
import { attribute, classifyPrincipal } from "./attribute.ts";
import { detectJobFindings, type RegistryView, UnexpectedReadDetector } from "./detect.ts";
import { JobIdSet } from "./job-id-set.ts";
import { type Nanos, sumNanos } from "./money.ts";
import { DayClock, periodOf } from "./period.ts";
import { priceJob, priceStorageMonth } from "./pricebook.ts";
import { projectDepartment, type Registry } from "./registry.ts";
import type {
  Finding,
  JobCost,
  JobEvent,
  ParsedEntry,
  PeriodGranularity,
  RejectedEntry,
  TableReadEvent,
  TableStorage,
} from "./types.ts";

export interface PipelineOptions {
  registry: Registry;
  /** IANA zone of billing days (Google bills in America/Los_Angeles). */
  timeZone?: string;
  granularity?: PeriodGranularity;
  /** Inclusive range of usage days (YYYY-MM-DD) to report; jobs outside it are counted and skipped. */
  from?: string;
  to?: string;
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

/** What became of one entry. */
export type Outcome =
  | { kind: "job"; job: JobSummary }
  | { kind: "rejected"; entry: RejectedEntry }
  | { kind: "duplicate" | "outside_period" | "ignored" | "table_read" };

export interface ChargebackReport {
  from: string;
  to: string;
  granularity: PeriodGranularity;
  timeZone: string;
  departmentCosts: DepartmentCostRow[];
  chargebackMatrix: MatrixRow[];
  storageCosts: StorageCostRow[];
  /** Job findings and unexpected reads, most expensive first. */
  findings: Finding[];
  /** Compute paid per billing day and department. */
  trend: TrendRow[];
  topJobs: TopJob[];
  topPrincipals: PrincipalRow[];
  counters: RunCounters;
  totals: { compute: Nanos; storage: Nanos; freeRides: Nanos; findingsByKind: Record<string, number> };
}

export function registryView(registry: Registry): RegistryView {
  const partnerProjects = new Set(registry.partners.flatMap((partner) => partner.billingProjects));
  return {
    projectKind: (project) => projectDepartment(registry, project).kind,
    projectDepartment: (project) => projectDepartment(registry, project).department,
    principalKind: (principal) => classifyPrincipal(principal, registry).kind,
    isPartnerBillingProject: (project) => partnerProjects.has(project),
  };
}

function bump(counts: Record<string, number>, key: string): void {
  counts[key] = (counts[key] ?? 0) + 1;
}

/** Attributes, prices and checks one job: the same function for every engine. */
export function costJob(
  job: JobEvent,
  registry: Registry,
  clock: DayClock,
  granularity: PeriodGranularity,
): JobCost {
  const usageDate = clock.dayOf(job.endTimeMs);
  const period = periodOf(usageDate, granularity);
  const attribution = attribute(job, registry);
  const pricing = priceJob(job, registry);
  const findings = detectJobFindings(job, attribution, pricing, period);
  return { job, attribution, pricing, findings, usageDate, period };
}

export class ChargebackPipeline {
  readonly registry: Registry;
  readonly clock: DayClock;
  readonly granularity: PeriodGranularity;
  readonly from: string | undefined;
  readonly to: string | undefined;
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
  private readonly seenJobs = new JobIdSet();
  private readonly jobFindings: Finding[] = [];
  private readonly reads: UnexpectedReadDetector;

  constructor(options: PipelineOptions) {
    this.registry = options.registry;
    this.clock = new DayClock(options.timeZone);
    this.granularity = options.granularity ?? "month";
    this.from = options.from;
    this.to = options.to;
    this.reads = new UnexpectedReadDetector(registryView(options.registry));
  }

  private inRange(day: string): boolean {
    return (this.from === undefined || day >= this.from) && (this.to === undefined || day <= this.to);
  }

  /** Takes one parsed entry; a job is counted once, whatever arrives twice. */
  accept(parsed: ParsedEntry): Outcome {
    switch (parsed.kind) {
      case "rejected":
        return this.acceptRejected(parsed);
      case "ignored":
        return this.acceptIgnored(parsed.reason);
      case "table_read":
        return this.acceptTableRead(parsed);
      case "job":
        if (this.isDuplicate(parsed.jobId)) return { kind: "duplicate" };
        return this.record(summarizeJob(costJob(parsed, this.registry, this.clock, this.granularity)));
    }
  }

  /** Takes a job costed elsewhere (a worker thread) with the same costJob. */
  acceptCosted(job: JobSummary): Outcome {
    if (this.isDuplicate(job.jobId)) return { kind: "duplicate" };
    return this.record(job);
  }

  acceptRejected(entry: RejectedEntry): Outcome {
    this.counters.entries++;
    bump(this.counters.rejected, entry.reason);
    return { kind: "rejected", entry };
  }

  acceptIgnored(reason: string): Outcome {
    this.counters.entries++;
    bump(this.counters.ignored, reason);
    return { kind: "ignored" };
  }

  acceptTableRead(read: TableReadEvent): Outcome {
    this.counters.entries++;
    this.counters.tableReads++;
    const day = this.clock.dayOf(read.timestampMs);
    if (!this.inRange(day)) return { kind: "outside_period" };
    this.reads.add(read, periodOf(day, this.granularity));
    return { kind: "table_read" };
  }

  private isDuplicate(jobId: string): boolean {
    this.counters.entries++;
    if (this.seenJobs.add(jobId)) return false;
    this.counters.duplicateJobs++;
    return true;
  }

  private record(job: JobSummary): Outcome {
    if (!this.inRange(job.usageDate)) {
      this.counters.outsidePeriod++;
      return { kind: "outside_period" };
    }
    this.counters.jobs++;
    this.aggregator.addJob(job);
    for (const finding of job.findings) this.jobFindings.push(finding);
    return { kind: "job", job };
  }

  /** The reports over everything accepted, with storage from the snapshot (if any). */
  report(snapshot: readonly TableStorage[] = []): ChargebackReport {
    const from = this.from ?? this.aggregator.firstDay ?? this.to ?? "";
    const to = this.to ?? this.aggregator.lastDay ?? from;
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
    const departmentCosts =
      from === ""
        ? []
        : this.aggregator.departmentCosts({
            from,
            to,
            granularity: this.granularity,
            registryDepartments: this.registry.departments.map((department) => department.id),
            storage,
          });
    const findings = [...this.jobFindings, ...this.reads.findings()].sort(
      (a, b) =>
        (a.cost === b.cost ? 0 : a.cost > b.cost ? -1 : 1) ||
        (a.time < b.time ? -1 : a.time > b.time ? 1 : 0),
    );
    const findingsByKind: Record<string, number> = {};
    for (const finding of findings) bump(findingsByKind, finding.kind);
    return {
      from,
      to,
      granularity: this.granularity,
      timeZone: this.clock.timeZone,
      departmentCosts,
      chargebackMatrix: this.aggregator.chargebackMatrix(),
      storageCosts: storage,
      findings,
      trend: this.aggregator.trend(),
      topJobs: this.aggregator.topJobs(),
      topPrincipals: this.aggregator.topPrincipals(),
      counters: this.counters,
      totals: {
        compute: sumNanos(departmentCosts.map((row) => row.computePaid)),
        storage: sumNanos(storage.map((row) => row.storage)),
        freeRides: sumNanos(departmentCosts.map((row) => row.freeRidesGiven)),
        findingsByKind,
      },
    };
  }
}
