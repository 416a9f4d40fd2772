// Hand-built core objects for tests of the stages after parsing (detection, aggregation).

import type {
  Attribution,
  JobCost,
  JobEvent,
  ParsedEntry,
  Pricing,
  RejectedEntry,
} from "../../src/core/types.ts";
import type { SampleJob } from "../../src/sample/entries.ts";

export function jobEvent(overrides: Partial<JobEvent> = {}): JobEvent {
  const project = overrides.billingProject ?? "acme-fin-bi";
  const name = overrides.jobName ?? "bquxjob_1";
  return {
    kind: "job",
    format: "v2",
    event: "jobChange",
    jobId: `${project}:US.${name}`,
    billingProject: project,
    jobName: name,
    location: "US",
    principal: "alice@acme.example",
    delegation: [],
    state: "DONE",
    jobType: "QUERY",
    statementType: "SELECT",
    modelType: "",
    billedBytes: 10n * 2n ** 20n,
    processedBytes: 1000n,
    billedBytesPresent: true,
    slotMs: 100n,
    reservation: "unreserved",
    reservationUsage: [],
    cacheHit: false,
    dryRun: false,
    referencedTables: [],
    referencedViews: [],
    endTime: "2026-10-15T12:00:00Z",
    endTimeMs: Date.parse(overrides.endTime ?? "2026-10-15T12:00:00Z"),
    labels: {},
    source: { file: "test", line: 1 },
    ...overrides,
  };
}

export function attribution(overrides: Partial<Attribution> = {}): Attribution {
  return {
    payerDepartment: "finance",
    consumerDepartment: "finance",
    billingProjectKind: "department",
    principalKind: "registered",
    dataProjects: [],
    dataOwnerDepartments: [],
    ...overrides,
  };
}

export function pricing(cost: bigint, overrides: Partial<Pricing> = {}): Pricing {
  return { pricingModel: "on_demand", computeCost: cost, basis: "test", ...overrides };
}

export function jobCost(options: {
  cost: bigint;
  payer: string;
  consumer: string;
  period?: string;
  usageDate?: string;
  freeRide?: "external_free_ride" | "cross_department_free_ride";
}): JobCost {
  const usageDate = options.usageDate ?? "2026-10-15";
  const period = options.period ?? usageDate.slice(0, 7);
  const job = jobEvent();
  return {
    job,
    attribution: attribution({ payerDepartment: options.payer, consumerDepartment: options.consumer }),
    pricing: pricing(options.cost),
    findings: options.freeRide
      ? [
          {
            kind: options.freeRide,
            severity: "medium",
            jobId: job.jobId,
            billingProject: job.billingProject,
            principal: job.principal,
            dataProjects: [],
            cost: options.cost,
            remediation: "",
            time: job.endTime,
            usageDate,
          },
        ]
      : [],
    usageDate,
    period,
  };
}

/** A sample-organisation job to build v1/v2 entries from (src/sample/entries.ts), one query of carol's. */
export const sampleJob = (overrides: Partial<SampleJob> = {}): SampleJob => ({
  project: "acme-fin-bi",
  jobId: "bquxjob_1a2b3c4d_19b2c3d4e5f",
  location: "US",
  principal: "carol@acme.example",
  statementType: "SELECT",
  jobType: "QUERY",
  query: "SELECT 1",
  createMs: Date.parse("2026-10-14T17:02:11.204Z"),
  endMs: Date.parse("2026-10-14T17:02:19.877Z"),
  processedBytes: 3096864198n,
  billedBytes: 3097493504n,
  slotMs: 259581n,
  referencedTables: ["projects/acme-fin-lake/datasets/ledger/tables/entries"],
  reservation: "unreserved",
  cacheHit: false,
  insertId: "abc",
  ...overrides,
});

export function asRejected(parsed: ParsedEntry): RejectedEntry {
  if (parsed.kind !== "rejected") throw new Error(`expected a rejection, got ${parsed.kind}`);
  return parsed;
}
