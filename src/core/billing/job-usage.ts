// What the audit logs say each department used, per billing day and billing project (or
// reservation): the weights by which the invoice is shared out. Kept as sums, not jobs, so it
// stays small whatever the number of jobs; job ids are kept only to measure coverage.
import { canonicalReservation } from "../pricebook.ts";

/** The facts of one priced job that reconciliation needs (a subset of the pipeline's JobSummary). */
export interface BilledJobFacts {
  jobId: string;
  billingProject: string;
  usageDate: string;
  consumerDepartment: string;
  pricingModel: string;
  /** jobStats.reservation as logged: "", "unreserved" or a reservation name. */
  reservation: string;
  slotMs: bigint;
  billedBytes: bigint;
  /** The estimate from list prices, USD nano-dollars. */
  computeCost: bigint;
}

export interface UsageCell {
  day: string;
  billingProject: string;
  /** Canonical reservation name for reservation jobs, "" for on-demand ones. */
  reservation: string;
  consumerDepartment: string;
  jobs: number;
  billedBytes: bigint;
  slotMs: bigint;
  estimate: bigint;
}

const SEP = "\u0000";

/** `P:LOCATION.JOB` or `P:JOB` -> { project P, job JOB } (locations never hold a dot, job ids neither). */
export function splitJobId(jobId: string): { project: string; job: string } {
  const colon = jobId.indexOf(":");
  const rest = jobId.slice(colon + 1);
  const dot = rest.indexOf(".");
  return { project: jobId.slice(0, colon), job: dot >= 0 ? rest.slice(dot + 1) : rest };
}

export class BillingJobUsage {
  private readonly cells = new Map<string, UsageCell>();
  /** `project:job` -> billed bytes, for coverage against INFORMATION_SCHEMA.JOBS. */
  readonly loggedJobs = new Map<string, bigint>();

  add(job: BilledJobFacts): void {
    const { project, job: name } = splitJobId(job.jobId);
    this.loggedJobs.set(`${project}:${name}`, job.billedBytes);
    const reserved = job.pricingModel === "reservation";
    if (job.pricingModel !== "on_demand" && !reserved) return;
    // A job split across reservations by an older entry's reservationUsage names none: its
    // slots are no one reservation's and its bytes were not billed on demand (sql/invoice
    // leaves it out the same way).
    if (reserved && job.reservation === "") return;
    const reservation = reserved ? canonicalReservation(job.reservation) : "";
    const key = [job.usageDate, job.billingProject, reservation, job.consumerDepartment].join(SEP);
    let cell = this.cells.get(key);
    if (!cell) {
      cell = {
        day: job.usageDate,
        billingProject: job.billingProject,
        reservation,
        consumerDepartment: job.consumerDepartment,
        jobs: 0,
        billedBytes: 0n,
        slotMs: 0n,
        estimate: 0n,
      };
      this.cells.set(key, cell);
    }
    cell.jobs++;
    cell.billedBytes += job.billedBytes;
    cell.slotMs += job.slotMs;
    cell.estimate += job.computeCost;
  }

  all(): UsageCell[] {
    return [...this.cells.values()];
  }
}
