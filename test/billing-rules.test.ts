// Priced as BigQuery bills (issue 11 B.5, B.11), in the core and in the sink pipeline (sql/sink).
// Entries are the repository's fixtures with the fields of each case changed as Google writes them:
// - a v2 load job (BigQueryAuditMetadata JobConfig.type "IMPORT" with loadConfig, JobStats.loadStats)
//   on the shared slot pool, which the job's reservation field names "default-pipeline"; loads and
//   extracts on it are free (https://cloud.google.com/bigquery/pricing#data_ingestion_pricing);
// - a v1 DDL statement (jobConfiguration.query.statementType "CREATE_TABLE"), whose jobStatistics
//   carry no processed bytes nor slot-ms: a free statement, not a cache hit (only a SELECT's
//   results are served from the cache: https://cloud.google.com/bigquery/docs/cached-results);
// - the same v1 entry as a SELECT without statistics: Google's own v1 view calls that a cache hit.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parseRegistry } from "../src/core/registry.ts";
import type { JobCost } from "../src/core/types.ts";
import {
  byJobId,
  coreJobCost,
  pricedFromCore,
  pricedFromSink,
  sinkTablesForSuite,
} from "./support/sink-parity.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const registry = parseRegistry(readFileSync(`${ROOT}sample/acme/registry.yaml`, "utf8"), "registry.yaml");
const TIME_ZONE = "America/Los_Angeles";
type Json = Record<string, any>;

const fixture = (path: string): Json => JSON.parse(readFileSync(`${ROOT}test/fixtures/${path}`, "utf8"));

function loadOnSharedPool(): Json {
  const entry = fixture("functions/v2-jobchange-done.json");
  entry.insertId = "load-default-pipeline";
  entry.protoPayload.authenticationInfo.principalEmail = "carol@acme.example";
  const job = entry.protoPayload.metadata.jobChange.job;
  job.jobName = "projects/acme-fin-bi/jobs/bqjob_load_7f21";
  entry.protoPayload.resourceName = job.jobName;
  job.jobConfig = {
    type: "IMPORT",
    loadConfig: {
      sourceUris: ["gs://acme-fin-drop/ledger/2026-10-14/*.avro"],
      destinationTable: "projects/acme-fin-lake/datasets/ledger/tables/entries",
      createDisposition: "CREATE_IF_NEEDED",
      writeDisposition: "WRITE_APPEND",
    },
  };
  job.jobStats = {
    createTime: "2026-10-14T17:02:11.204Z",
    startTime: "2026-10-14T17:02:11.390Z",
    endTime: "2026-10-14T17:02:19.877Z",
    totalSlotMs: "18234",
    reservation: "default-pipeline",
    loadStats: { totalOutputBytes: "73400320" },
  };
  return entry;
}

function v1Statement(statementType: string, insertId: string, jobId: string): Json {
  const entry = fixture("entries/v1-jobcompleted.google-cloudevents.json");
  entry.insertId = insertId;
  entry.timestamp = "2026-10-14T17:02:20.276607Z";
  entry.receiveTimestamp = "2026-10-14T17:02:20.653866570Z";
  entry.resource.labels.project_id = "acme-fin-bi";
  entry.protoPayload.authenticationInfo.principalEmail = "carol@acme.example";
  const job = entry.protoPayload.serviceData.jobCompletedEvent.job;
  job.jobName = { jobId, location: "US", projectId: "acme-fin-bi" };
  entry.protoPayload.resourceName = `projects/acme-fin-bi/jobs/${jobId}`;
  job.jobConfiguration.query.statementType = statementType;
  job.jobConfiguration.query.query =
    statementType === "SELECT" ? "SELECT 1" : "CREATE TABLE ledger.entries_copy (id INT64, amount NUMERIC)";
  const stats = job.jobStatistics;
  for (const key of ["totalBilledBytes", "totalProcessedBytes", "totalSlotMs", "referencedTables"])
    delete stats[key];
  stats.createTime = "2026-10-14T17:01:59.872Z";
  stats.startTime = "2026-10-14T17:01:59.956Z";
  stats.endTime = "2026-10-14T17:02:00.236Z";
  return entry;
}

const entries = {
  load: loadOnSharedPool(),
  ddl: v1Statement("CREATE_TABLE", "v1-ddl", "bqjob_ddl_1"),
  cachedSelect: v1Statement("SELECT", "v1-cached", "bqjob_cached_1"),
};

const costOf = (entry: Json): JobCost => coreJobCost(entry, registry);

describe("priced as BigQuery bills, in the core", () => {
  it("a load job on the shared pool (default-pipeline) is free, not unpriced", () => {
    const cost = costOf(entries.load);
    expect(cost.job.reservation).toBe("default-pipeline");
    expect(cost.pricing).toMatchObject({ pricingModel: "free_operation", computeCost: 0n });
  });

  it("a v1 DDL statement without statistics is not a cache hit", () => {
    const cost = costOf(entries.ddl);
    expect(cost.job.cacheHit).toBe(false);
    expect(cost.pricing.pricingModel).toBe("on_demand");
    expect(cost.pricing.computeCost).toBe(0n);
  });

  it("a v1 SELECT without statistics still is", () => {
    expect(costOf(entries.cachedSelect).pricing.pricingModel).toBe("cache_hit");
  });
});

describe("priced as BigQuery bills, in the sink pipeline (sql/sink)", () => {
  const written = sinkTablesForSuite(registry, TIME_ZONE, [["2026-10-16T00:00:00Z", Object.values(entries)]]);

  it("gives each job the core's pricing model, cache flag and cost", () => {
    const costs = Object.values(entries).map(costOf);
    expect(pricedFromSink(written().job_costs ?? [])).toEqual(pricedFromCore(costs));
    const cacheHits = (rows: { job_id: unknown; cache_hit: unknown }[]) => byJobId(rows);
    expect(
      cacheHits((written().job_costs ?? []).map((row) => ({ job_id: row.job_id, cache_hit: row.cache_hit }))),
    ).toEqual(cacheHits(costs.map((cost) => ({ job_id: cost.job.jobId, cache_hit: cost.job.cacheHit }))));
  });
});
