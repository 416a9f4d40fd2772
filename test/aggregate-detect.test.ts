import { describe, expect, it } from "vitest";
import { ChargebackAggregator, storageCosts, summarizeJob } from "../src/core/aggregate.ts";
import {
  detectJobFindings,
  iamMember,
  type RegistryView,
  UnexpectedReadDetector,
} from "../src/core/detect.ts";
import type { TableReadEvent, TableStorage } from "../src/core/types.ts";
import { attribution, jobCost, jobEvent, pricing } from "./support/jobs.ts";

describe("aggregation per period and department", () => {
  it("sums paid, consumed and free rides given and taken, and fills the matrix", () => {
    const aggregator = new ChargebackAggregator();
    aggregator.addJob(summarizeJob(jobCost({ cost: 100n, payer: "finance", consumer: "finance" })));
    aggregator.addJob(
      summarizeJob(
        jobCost({
          cost: 30n,
          payer: "finance",
          consumer: "marketing",
          freeRide: "cross_department_free_ride",
        }),
      ),
    );
    aggregator.addJob(
      summarizeJob(
        jobCost({
          cost: 7n,
          payer: "finance",
          consumer: "external:partner-x.example",
          freeRide: "external_free_ride",
        }),
      ),
    );
    aggregator.addJob(
      summarizeJob(jobCost({ cost: 5n, payer: "marketing", consumer: "marketing", usageDate: "2026-11-01" })),
    );
    const rows = aggregator.departmentCosts({
      from: "2026-10-01",
      to: "2026-11-30",
      granularity: "month",
      registryDepartments: ["finance", "marketing", "sales"],
      storage: [
        {
          period: "2026-10",
          department: "sales",
          project_id: "p",
          dataset: "d",
          billing_model: "LOGICAL",
          storage_usd: 11n,
          unpriced_tables: 0n,
        },
      ],
    });
    const row = (period: string, department: string) =>
      rows.find((r) => r.period === period && r.department === department);
    expect(row("2026-10", "finance")).toMatchObject({
      compute_paid_usd: 137n,
      compute_consumed_usd: 100n,
      free_rides_given_usd: 37n,
      free_rides_taken_usd: 0n,
    });
    expect(row("2026-10", "marketing")).toMatchObject({
      compute_paid_usd: 0n,
      compute_consumed_usd: 30n,
      free_rides_taken_usd: 30n,
    });
    expect(row("2026-10", "external:partner-x.example")).toMatchObject({
      compute_consumed_usd: 7n,
      free_rides_taken_usd: 7n,
    });
    expect(row("2026-10", "sales")).toMatchObject({ compute_paid_usd: 0n, storage_usd: 11n });
    // every registry department appears in every period, even with nothing
    expect(row("2026-11", "sales")).toMatchObject({ compute_paid_usd: 0n, storage_usd: 0n });
    expect(row("2026-11", "marketing")).toMatchObject({ compute_paid_usd: 5n, compute_consumed_usd: 5n });
    // what was paid equals what was consumed, in every period
    for (const period of ["2026-10", "2026-11"]) {
      const inPeriod = rows.filter((r) => r.period === period);
      expect(inPeriod.reduce((s, r) => s + r.compute_paid_usd, 0n)).toBe(
        inPeriod.reduce((s, r) => s + r.compute_consumed_usd, 0n),
      );
    }
    expect(aggregator.chargebackMatrix()).toEqual([
      {
        period: "2026-10",
        payer_department: "finance",
        consumer_department: "external:partner-x.example",
        jobs: 1n,
        compute_cost_usd: 7n,
      },
      {
        period: "2026-10",
        payer_department: "finance",
        consumer_department: "finance",
        jobs: 1n,
        compute_cost_usd: 100n,
      },
      {
        period: "2026-10",
        payer_department: "finance",
        consumer_department: "marketing",
        jobs: 1n,
        compute_cost_usd: 30n,
      },
      {
        period: "2026-11",
        payer_department: "marketing",
        consumer_department: "marketing",
        jobs: 1n,
        compute_cost_usd: 5n,
      },
    ]);
  });

  it("gives the same sums when split across aggregators and merged (parallel runs)", () => {
    const jobs = Array.from({ length: 50 }, (_, i) =>
      jobCost({
        cost: BigInt(i * 13 + 1),
        payer: ["a", "b", "c"][i % 3] as string,
        consumer: ["a", "b"][i % 2] as string,
        usageDate: `2026-10-${String((i % 28) + 1).padStart(2, "0")}`,
        freeRide: i % 5 === 0 ? "cross_department_free_ride" : undefined,
      }),
    );
    const whole = new ChargebackAggregator();
    for (const job of jobs) whole.addJob(summarizeJob(job));
    const left = new ChargebackAggregator();
    const right = new ChargebackAggregator();
    for (const [i, job] of jobs.entries()) (i % 2 ? left : right).addJob(summarizeJob(job));
    left.merge(right);
    const options = {
      from: "2026-10-01",
      to: "2026-10-31",
      granularity: "day" as const,
      registryDepartments: ["a"],
      storage: [],
    };
    expect(left.departmentCosts(options)).toEqual(whole.departmentCosts(options));
    expect(left.chargebackMatrix()).toEqual(whole.chargebackMatrix());
    expect([left.firstDay, left.lastDay]).toEqual(["2026-10-01", "2026-10-28"]);
  });

  it("pro-rates each table's month cost to the days reported, rounding once per table", () => {
    const table: TableStorage = {
      projectId: "acme-fin-lake",
      dataset: "ledger",
      table: "t",
      location: "US",
      billingModel: "LOGICAL",
      activeLogicalBytes: 0n,
      longTermLogicalBytes: 0n,
      activePhysicalBytes: 0n,
      longTermPhysicalBytes: 0n,
      timeTravelPhysicalBytes: 0n,
      failSafePhysicalBytes: 0n,
      deleted: false,
      source: { file: "s", line: 2 },
    };
    const rows = storageCosts({
      snapshot: [table, { ...table, table: "u" }],
      from: "2026-10-30",
      to: "2026-11-02",
      granularity: "month",
      departmentOf: () => "finance",
      monthCost: (_t, monthStart) => (monthStart === "2026-10-01" ? 31_000n : 3_000n),
    });
    // October: 2 of 31 days of 31000 = 2000 per table; November: 2 of 30 days of 3000 = 200 per table
    expect(rows.map((r) => [r.period, r.storage_usd])).toEqual([
      ["2026-10", 4000n],
      ["2026-11", 400n],
    ]);
  });
});

const view: RegistryView = {
  projectKind: (p) =>
    p.startsWith("acme-etl") ? "shared" : p.startsWith("acme-") ? "department" : "unregistered",
  projectDepartment: (p) => (p.startsWith("acme-") ? "finance" : "unassigned"),
  principalKind: (p) =>
    p.endsWith("@partner-x.example") ? "partner" : p.endsWith("@acme.example") ? "registered" : "external",
  principalDepartment: (p) => (p.endsWith("@acme.example") ? "finance" : "external"),
  isPartnerBillingProject: (p) => p === "px-analytics",
};

describe("free-ride detection on jobs", () => {
  it("flags an external principal on our project, critical when all it read was outside", () => {
    const job = jobEvent({ principal: "eve@partner-x.example" });
    const own = detectJobFindings(
      job,
      attribution({
        principalKind: "partner",
        partner: "partner-x",
        consumerDepartment: "external:partner-x.example",
        dataProjects: ["px-data"],
        dataOwnerDepartments: ["outside"],
      }),
      pricing(42n),
      "2026-10",
    );
    expect(own).toHaveLength(1);
    expect(own[0]).toMatchObject({
      kind: "external_free_ride",
      severity: "critical",
      cost: 42n,
      billingProject: "acme-fin-bi",
    });
    expect(own[0]?.remediation).toContain("remove roles/bigquery.jobUser for user:eve@partner-x.example");
    expect(own[0]?.remediation).toContain("on project acme-fin-bi");
    const ours = detectJobFindings(
      job,
      attribution({
        principalKind: "external",
        dataProjects: ["acme-fin-lake"],
        dataOwnerDepartments: ["finance"],
      }),
      pricing(42n),
      "2026-10",
    );
    expect(ours[0]).toMatchObject({ kind: "external_free_ride", severity: "high" });
  });

  it("flags cross-department use of a department project, but not of a shared project or by unassigned people", () => {
    const job = jobEvent();
    const cross = attribution({ payerDepartment: "finance", consumerDepartment: "marketing" });
    expect(detectJobFindings(job, cross, pricing(1n), "2026-10-15").map((f) => f.kind)).toEqual([
      "cross_department_free_ride",
    ]);
    expect(
      detectJobFindings(job, { ...cross, billingProjectKind: "shared" }, pricing(1n), "2026-10-15"),
    ).toEqual([]);
    expect(
      detectJobFindings(
        job,
        { ...cross, principalKind: "organization", consumerDepartment: "unassigned" },
        pricing(1n),
        "2026-10",
      ),
    ).toEqual([]);
    expect(detectJobFindings(job, attribution(), pricing(1n), "2026-10-15")).toEqual([]);
  });

  it("flags unregistered billing projects, and never a script parent (its children are checked)", () => {
    const job = jobEvent({ billingProject: "acme-sandbox-42" });
    const unregistered = attribution({ billingProjectKind: "unregistered", payerDepartment: "unassigned" });
    const findings = detectJobFindings(job, unregistered, pricing(5n), "2026-10-15");
    expect(findings.map((f) => [f.kind, f.severity])).toEqual([["unregistered_project", "medium"]]);
    expect(findings[0]?.remediation).toContain("acme-sandbox-42");
    expect(
      detectJobFindings(job, unregistered, pricing(0n, { pricingModel: "script_parent" }), "2026-10-15"),
    ).toEqual([]);
  });

  it("writes IAM members as IAM does", () => {
    expect(iamMember("a@acme.example")).toBe("user:a@acme.example");
    expect(iamMember("etl@acme-etl.iam.gserviceaccount.com")).toBe(
      "serviceAccount:etl@acme-etl.iam.gserviceaccount.com",
    );
    expect(iamMember("principal://iam.googleapis.com/locations/global/workforcePools/p/subject/s")).toMatch(
      /^principal:/,
    );
  });
});

function read(overrides: Partial<TableReadEvent>): TableReadEvent {
  return {
    kind: "table_read",
    dataProject: "acme-fin-lake",
    table: "projects/acme-fin-lake/datasets/ledger/tables/entries",
    reason: "JOB",
    principal: "bob@other.example",
    timestamp: "2026-10-15T12:00:00Z",
    timestampMs: Date.parse("2026-10-15T12:00:00Z"),
    entryKey: "log#1",
    scannedBytes: 0n,
    source: { file: "t", line: 1 },
    ...overrides,
  };
}

describe("unexpected billing projects from table reads", () => {
  it("accepts reads billed to registered projects and partner billing projects", () => {
    const detector = new UnexpectedReadDetector(view);
    expect(
      detector.add(
        read({ readerBillingProject: "acme-mkt-bi", readerJobId: "acme-mkt-bi:j1" }),
        "2026-10-15",
      ),
    ).toBe(false);
    expect(
      detector.add(
        read({ readerBillingProject: "px-analytics", readerJobId: "px-analytics:j2" }),
        "2026-10-15",
      ),
    ).toBe(false);
    expect(detector.add(read({ reason: "TABLEDATA_LIST_REQUEST" }), "2026-10-15")).toBe(false);
    expect(
      detector.add(read({ dataProject: "someone-else", readerBillingProject: "x-proj" }), "2026-10-15"),
    ).toBe(false);
    expect(detector.findings()).toEqual([]);
  });

  it("reports an unknown billing project once per job, with every data project it read", () => {
    const detector = new UnexpectedReadDetector(view);
    const base = { readerBillingProject: "rogue-proj", readerJobId: "rogue-proj:j9" };
    detector.add(read({ ...base, entryKey: "a" }), "2026-10-15");
    detector.add(read({ ...base, entryKey: "b", dataProject: "acme-mkt-lake" }), "2026-10-15");
    detector.add(read({ ...base, entryKey: "a" }), "2026-10-15");
    const findings = detector.findings();
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({
      kind: "unexpected_billing_project",
      billingProject: "rogue-proj",
      jobId: "rogue-proj:j9",
      dataProjects: ["acme-fin-lake", "acme-mkt-lake"],
      cost: 0n,
    });
  });

  it("judges redacted billing projects by the principal: partners expected, anyone else a finding", () => {
    const detector = new UnexpectedReadDetector(view);
    expect(detector.add(read({ principal: "pat@partner-x.example" }), "2026-10-15")).toBe(false);
    expect(detector.add(read({ principal: "bob@other.example", entryKey: "x" }), "2026-10-15")).toBe(true);
    expect(detector.add(read({ principal: "", entryKey: "y" }), "2026-10-15")).toBe(true);
    expect(detector.findings().map((f) => [f.billingProject, f.severity])).toEqual([
      ["", "high"],
      ["", "critical"],
    ]);
  });
});

describe("trend and top lists", () => {
  it("keeps daily paid cost, principals by cost and the most expensive jobs, also across merges", () => {
    const make = (i: number) =>
      jobCost({
        cost: BigInt(i),
        payer: i % 2 ? "a" : "b",
        consumer: "a",
        usageDate: `2026-10-0${(i % 3) + 1}`,
      });
    const whole = new ChargebackAggregator();
    const left = new ChargebackAggregator();
    const right = new ChargebackAggregator();
    for (let i = 0; i < 30; i++) {
      whole.addJob(summarizeJob(make(i)));
      (i < 15 ? left : right).addJob(summarizeJob(make(i)));
    }
    left.merge(right);
    for (const aggregator of [whole, left]) {
      const trend = aggregator.trend();
      expect(trend.reduce((sum, row) => sum + row.computePaid, 0n)).toBe(BigInt((29 * 30) / 2));
      expect(trend[0]).toMatchObject({ day: "2026-10-01" });
      const top = aggregator.topJobs();
      expect(top).toHaveLength(20);
      expect(top.map((job) => job.computeCost)).toEqual(Array.from({ length: 20 }, (_, i) => BigInt(29 - i)));
      expect(aggregator.topPrincipals()).toEqual([
        { principal: "alice@acme.example", consumerDepartment: "a", jobs: 30, computeCost: 435n },
      ]);
    }
  });
});
