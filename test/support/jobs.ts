// Hand-built core objects for tests of the stages after parsing (detection, aggregation).
import type { Attribution, JobCost, JobEvent, Pricing } from "../../src/core/types.ts";

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
    billedBytes: 10n * 2n ** 20n,
    processedBytes: 1000n,
    billedBytesPresent: true,
    slotMs: 100n,
    reservation: "unreserved",
    cacheHit: false,
    dryRun: false,
    referencedTables: [],
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
