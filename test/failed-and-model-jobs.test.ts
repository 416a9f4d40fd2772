// Failed, cancelled and BigQuery ML jobs priced as BigQuery bills them (issue 11 B.7), in the core
// and in the sink pipeline (sql/sink on ZetaSQL). Rules and sources: src/core/pricebook.ts priceJob.
// Entries are the repository's fixtures with the fields of each case changed as Google writes them:
// - v2: test/fixtures/functions/v2-jobchange-done.json (BigQueryAuditMetadata jobChange DONE).
//   A failed job carries jobStatus.errorResult, a google.rpc.Status {code, message}
//   (google/cloud/audit/bigquery_audit_metadata.proto JobStatus.error_result), and the entry's
//   protoPayload.status and severity ERROR (Google's abbreviated failed InsertJob example,
//   https://cloud.google.com/bigquery/docs/introduction-audit-workloads). A cancel is status
//   CANCELLED (1) with BigQuery's message "Job execution was cancelled: User requested
//   cancellation" (the text INFORMATION_SCHEMA.JOBS shows with error reason "stopped").
//   Script children carry jobStats.parentJobName and ids prefixed script_job_
//   (https://cloud.google.com/bigquery/docs/reference/auditlogs, Data access); a parent is
//   statementType SCRIPT.
// - v1: test/fixtures/entries/v1-jobcompleted.google-cloudevents.json (AuditData jobCompletedEvent),
//   whose jobStatus.error is a google.rpc.Status (audit_data.proto JobStatus.error).
// - CREATE MODEL: statementType CREATE_MODEL (QueryStatementType), the statement in
//   queryConfig.query / jobConfiguration.query.query; neither format carries the model type
//   (no ML statistics in either proto), so it is read from OPTIONS(model_type=...).
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parseRegistry } from "../src/core/registry.ts";
import type { JobCost } from "../src/core/types.ts";
import { reportOn, table } from "./support/cli.ts";
import { coreJobCost, pricedFromCore, pricedFromSink, sinkTablesForSuite } from "./support/sink-parity.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const registry = parseRegistry(readFileSync(`${ROOT}sample/acme/registry.yaml`, "utf8"), "registry.yaml");
const TIME_ZONE = "America/Los_Angeles";
type Json = Record<string, any>;

const fixture = (path: string): Json => JSON.parse(readFileSync(`${ROOT}test/fixtures/${path}`, "utf8"));
const MiB = 2n ** 20n;
const TiB = 2n ** 40n;

interface V2Job {
  insertId: string;
  jobId: string;
  statementType?: string;
  query?: string;
  billed?: string;
  error?: { code: number; message: string };
  parent?: string;
  truncated?: boolean;
}

/** The v2 fixture as one finished query job of acme-fin-bi, on demand, varied by `job`. */
function v2Query(job: V2Job): Json {
  const entry = fixture("functions/v2-jobchange-done.json");
  entry.insertId = job.insertId;
  entry.protoPayload.authenticationInfo.principalEmail = "carol@acme.example";
  const logged = entry.protoPayload.metadata.jobChange.job;
  logged.jobName = `projects/acme-fin-bi/jobs/${job.jobId}`;
  entry.protoPayload.resourceName = logged.jobName;
  const config = logged.jobConfig.queryConfig;
  config.statementType = job.statementType ?? "SELECT";
  config.query =
    job.query ?? "SELECT region, SUM(amount) FROM `acme-fin-lake.ledger.entries` GROUP BY region";
  if (job.truncated) config.queryTruncated = true;
  const stats = logged.jobStats.queryStats;
  stats.referencedTables = ["projects/acme-fin-lake/datasets/ledger/tables/entries"];
  stats.totalProcessedBytes = job.billed ?? "104857600";
  stats.totalBilledBytes = job.billed ?? "104857600";
  if (job.parent) logged.jobStats.parentJobName = `projects/acme-fin-bi/jobs/${job.parent}`;
  if (job.error) {
    logged.jobStatus.errorResult = job.error;
    logged.jobStatus.errors = [job.error];
    entry.protoPayload.status = job.error;
    entry.severity = "ERROR";
  }
  return entry;
}

/** The v1 fixture as a query job of acme-fin-bi, varied by `job`. */
function v1Query(job: V2Job): Json {
  const entry = fixture("entries/v1-jobcompleted.google-cloudevents.json");
  entry.insertId = job.insertId;
  entry.timestamp = "2026-10-14T17:02:20.276607Z";
  entry.receiveTimestamp = "2026-10-14T17:02:20.653866570Z";
  entry.resource.labels.project_id = "acme-fin-bi";
  entry.protoPayload.authenticationInfo.principalEmail = "carol@acme.example";
  const logged = entry.protoPayload.serviceData.jobCompletedEvent.job;
  logged.jobName = { jobId: job.jobId, location: "US", projectId: "acme-fin-bi" };
  entry.protoPayload.resourceName = `projects/acme-fin-bi/jobs/${job.jobId}`;
  logged.jobConfiguration.query.statementType = job.statementType ?? "SELECT";
  logged.jobConfiguration.query.query = job.query ?? "SELECT 1";
  const stats = logged.jobStatistics;
  stats.createTime = "2026-10-14T17:01:59.872Z";
  stats.startTime = "2026-10-14T17:01:59.956Z";
  stats.endTime = "2026-10-14T17:02:00.236Z";
  stats.totalBilledBytes = job.billed ?? "104857600";
  stats.totalProcessedBytes = job.billed ?? "104857600";
  if (job.error) {
    logged.jobStatus.error = job.error;
    entry.protoPayload.status = job.error;
    entry.severity = "ERROR";
  }
  return entry;
}

const INVALID = { code: 3, message: "Query error: Unrecognized name: regoin at [1:8]" };
const CANCELLED = { code: 1, message: "Job execution was cancelled: User requested cancellation" };
const LOGISTIC =
  "CREATE OR REPLACE MODEL `acme-fin-bi.ml.churn`\nOPTIONS (model_type = 'logistic_reg', input_label_cols = ['churned']) AS\nSELECT * FROM `acme-fin-lake.ledger.entries`";

const entries = {
  failed: v2Query({ insertId: "failed", jobId: "bquxjob_failed_1", error: INVALID, billed: "10485760" }),
  cancelled: v2Query({ insertId: "cancelled", jobId: "bquxjob_cancel_1", error: CANCELLED }),
  v1Failed: v1Query({ insertId: "v1-failed", jobId: "bqjob_v1_failed", error: INVALID, billed: "10485760" }),
  scriptParent: v2Query({
    insertId: "script",
    jobId: "script_parent_9",
    statementType: "SCRIPT",
    error: { code: 3, message: "Query error: Division by zero: 1 / 0 at [3:1]" },
  }),
  scriptChildDone: v2Query({ insertId: "child-0", jobId: "script_job_9_0", parent: "script_parent_9" }),
  scriptChildFailed: v2Query({
    insertId: "child-1",
    jobId: "script_job_9_1",
    parent: "script_parent_9",
    error: { code: 3, message: "Query error: Division by zero: 1 / 0 at [3:1]" },
    billed: "10485760",
  }),
  model: v2Query({
    insertId: "model",
    jobId: "bquxjob_model_1",
    statementType: "CREATE_MODEL",
    query: LOGISTIC,
  }),
  v1Model: v1Query({
    insertId: "v1-model",
    jobId: "bqjob_v1_model",
    statementType: "CREATE_MODEL",
    query:
      'CREATE MODEL ml.segments OPTIONS(MODEL_TYPE="KMEANS", NUM_CLUSTERS=4) AS SELECT * FROM ledger.entries',
  }),
  modelTruncated: v2Query({
    insertId: "model-truncated",
    jobId: "bquxjob_model_2",
    statementType: "CREATE_MODEL",
    query: LOGISTIC.slice(0, 40),
    truncated: true,
  }),
  modelUnpricedType: v2Query({
    insertId: "model-automl",
    jobId: "bquxjob_model_3",
    statementType: "CREATE_MODEL",
    query:
      "CREATE MODEL ml.churn OPTIONS(model_type='AUTOML_CLASSIFIER', input_label_cols=['churned']) AS SELECT * FROM ledger.entries",
  }),
  modelTwoTypes: v2Query({
    insertId: "model-two",
    jobId: "bquxjob_model_4",
    statementType: "CREATE_MODEL",
    query: `-- was model_type='KMEANS'\n${LOGISTIC}`,
  }),
};

const costOf = (entry: Json): JobCost => coreJobCost(entry, registry);

/** billed bytes x a price in nano-dollars per TiB, rounded half-up to the nano-dollar. */
const cost = (billed: bigint, nanosPerTib: bigint) => (billed * nanosPerTib * 2n + TiB) / (2n * TiB);
const ON_DEMAND = 6_250_000_000n;
const MODEL_CREATION = 312_500_000_000n;

describe("failed and cancelled jobs, in the core", () => {
  it("a query that returned an error is not charged, even with billed bytes logged", () => {
    const priced = costOf(entries.failed);
    expect(priced.job.error?.code).toBe(3);
    expect(priced.job.billedBytes).toBe(10n * MiB);
    expect(priced.pricing.computeCost).toBe(0n);
    expect(priced.pricing.basis).toMatch(/not charged/);
  });

  it("so is a v1 one", () => {
    expect(costOf(entries.v1Failed).pricing.computeCost).toBe(0n);
  });

  it("a cancelled query pays the bytes it logged", () => {
    const priced = costOf(entries.cancelled);
    expect(priced.pricing.pricingModel).toBe("on_demand");
    expect(priced.pricing.computeCost).toBe(cost(100n * MiB, ON_DEMAND));
    expect(priced.pricing.basis).toMatch(/^cancelled job, billed as logged: /);
  });

  it("a script whose second child failed costs its first child only, counted once", () => {
    const parent = costOf(entries.scriptParent);
    const done = costOf(entries.scriptChildDone);
    const failed = costOf(entries.scriptChildFailed);
    expect(parent.pricing).toMatchObject({ pricingModel: "script_parent", computeCost: 0n });
    expect(done.job.parentJobId).toBe("acme-fin-bi:US.script_parent_9");
    expect(done.pricing.computeCost).toBe(cost(100n * MiB, ON_DEMAND));
    expect(failed.pricing.computeCost).toBe(0n);
  });
});

describe("BigQuery ML model creation, in the core", () => {
  it("a CREATE MODEL of a built-in type is priced at its model creation rate, not a query's", () => {
    const priced = costOf(entries.model);
    expect(priced.job.modelType).toBe("LOGISTIC_REG");
    expect(priced.pricing.pricingModel).toBe("bqml");
    expect(priced.pricing.computeCost).toBe(cost(100n * MiB, MODEL_CREATION));
    expect(priced.pricing.basis).toMatch(/LOGISTIC_REG model creation US 312.5 USD\/TiB/);
  });

  it("so is a v1 one, the option written in capitals with double quotes", () => {
    const priced = costOf(entries.v1Model);
    expect(priced.job.modelType).toBe("KMEANS");
    expect(priced.pricing.computeCost).toBe(cost(100n * MiB, MODEL_CREATION));
  });

  it("a truncated text, an ambiguous one or a type without a price is unpriced, with its reason", () => {
    expect(costOf(entries.modelTruncated).pricing).toMatchObject({
      pricingModel: "unpriced",
      unpricedReason: "model_type_unknown",
    });
    expect(costOf(entries.modelTwoTypes).pricing.unpricedReason).toBe("model_type_unknown");
    const automl = costOf(entries.modelUnpricedType);
    expect(automl.job.modelType).toBe("AUTOML_CLASSIFIER");
    expect(automl.pricing).toMatchObject({
      pricingModel: "unpriced",
      unpricedReason: "no_model_creation_price",
    });
  });

  it("the registry prices a model type the price book lacks", () => {
    const text = readFileSync(`${ROOT}sample/acme/registry.yaml`, "utf8");
    const withRate = parseRegistry(
      `${text}\nprices:\n  model_creation:\n    - { model_type: automl_classifier, location: US, from: 2023-07-05, usd_per_tib: 6.25, source: "our contract" }\n`,
      "registry.yaml",
    );
    expect(coreJobCost(entries.modelUnpricedType, withRate).pricing.computeCost).toBe(
      cost(100n * MiB, ON_DEMAND),
    );
  });
});

describe("failed, cancelled and BigQuery ML jobs in the sink pipeline (sql/sink)", () => {
  const written = sinkTablesForSuite(registry, TIME_ZONE, [["2026-10-16T00:00:00Z", Object.values(entries)]]);

  it("gives each job the core's pricing model and cost, and the script once", () => {
    expect(pricedFromSink(written().job_costs ?? [])).toEqual(
      pricedFromCore(Object.values(entries).map(costOf)),
    );
    expect(written().job_costs ?? []).toHaveLength(Object.keys(entries).length);
  });
});

describe("failed, cancelled and BigQuery ML jobs on the CLI", () => {
  it("writes each job's pricing model, counts the unpriced by reason, and sums the script once", async () => {
    const { out, ...result } = await reportOn(
      Object.values(entries),
      readFileSync(`${ROOT}sample/acme/registry.yaml`, "utf8"),
    );
    expect(result.code, result.stderr).toBe(0);
    const jobs = await table(out, "job_costs.csv");
    const modelOf = (entry: Json) =>
      jobs.find((row) => row.job_id === costOf(entry).job.jobId)?.pricing_model;
    expect(modelOf(entries.model)).toBe("bqml");
    expect(modelOf(entries.modelTruncated)).toBe("unpriced");
    expect(modelOf(entries.scriptParent)).toBe("script_parent");
    const summary = JSON.parse(await readFile(join(out, "summary.json"), "utf8"));
    expect(summary.unpriced).toEqual({
      jobs: 3,
      by_reason: { model_type_unknown: 2, no_model_creation_price: 1 },
    });
    // each job at the core's cost (to the micro-dollar the CSV writes), and the departments'
    // compute the jobs' exact sum: the script parent adds nothing to its children
    const micros = (usd: string | undefined) => BigInt(Math.round(Number(usd ?? "0") * 1e6));
    const costs = Object.values(entries).map((entry) => costOf(entry).pricing.computeCost);
    const toMicros = (nanos: bigint) => (nanos + 500n) / 1000n;
    expect(jobs.reduce((sum, row) => sum + micros(row.compute_cost_usd), 0n)).toBe(
      costs.reduce((sum, nanos) => sum + toMicros(nanos), 0n),
    );
    const paid = (await table(out, "department_costs.csv")).reduce(
      (sum, row) => sum + micros(row.compute_paid_usd),
      0n,
    );
    expect(paid).toBe(toMicros(costs.reduce((sum, nanos) => sum + nanos, 0n)));
  }, 60_000);
});
