// The sample organisation through the TypeScript engine, and its rows as the BigQuery tables
// would hold them: shared by the SQL-equals-TypeScript tests.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { JobSummary } from "../../src/core/aggregate.ts";
import { assessEntry, ChargebackPipeline, entryContext } from "../../src/core/pipeline.ts";
import { parseRegistry } from "../../src/core/registry.ts";
import { bigQueryJson, JOB_COSTS, jobCostRow } from "../../src/core/rows.ts";
import type { Finding, PeriodGranularity, TableStorage } from "../../src/core/types.ts";
import { parseStorageSnapshot } from "../../src/io/storage-snapshot.ts";
import type { SqlValue } from "./zetasql.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** The sample organisation through the TypeScript engine, and its job rows as BigQuery would hold them. */
export function sampleOrganisation(
  granularity: PeriodGranularity,
  from: string,
  to: string,
  registryMore = "",
) {
  const registry = parseRegistry(
    `${readFileSync(`${ROOT}sample/acme/registry.yaml`, "utf8")}${registryMore}`,
    "registry.yaml",
  );
  const context = entryContext(registry, { granularity });
  const pipeline = new ChargebackPipeline({ registry, granularity, from, to });
  const jobRows: Record<string, SqlValue>[] = [];
  // Every finding, as findings.csv holds them (the report keeps only the page's top ones).
  const findings: Finding[] = [];
  /** The jobs the pipeline counted (each once, the most complete copy). */
  const countedJobs: JobSummary[] = [];
  const lines = readFileSync(`${ROOT}sample/acme/logs/2026-10-v2-and-v1.ndjson`, "utf8").split("\n");
  for (const [i, line] of lines.entries()) {
    if (line.trim() === "") continue;
    const assessed = assessEntry(line, { file: "sample", line: i + 1 }, context);
    const outcome = pipeline.accept(assessed);
    if (outcome.kind === "job") {
      findings.push(...outcome.job.findings);
      countedJobs.push(outcome.job);
    }
    if (assessed.kind !== "job") continue;
    // Every job's row as the ingest function writes it; duplicates too (at-least-once delivery).
    jobRows.push({
      ...bigQueryJson(jobCostRow(assessed.cost), JOB_COSTS),
      ingested_at: `2026-11-01T00:00:${String(i % 60).padStart(2, "0")}Z`,
    } as unknown as Record<string, SqlValue>);
  }
  const snapshot = parseStorageSnapshot(
    readFileSync(`${ROOT}sample/acme/table_storage.csv`, "utf8"),
    "table_storage.csv",
  );
  for (const held of pipeline.releaseHeld()) {
    findings.push(...held.job.findings);
    countedJobs.push(held.job);
  }
  findings.push(...pipeline.readFindings());
  const report = pipeline.report(snapshot);
  return { registry, jobRows, snapshot, report, findings, countedJobs };
}

export function storageRows(snapshot: readonly TableStorage[]) {
  return snapshot.map((table) => ({
    snapshot_date: "2026-11-01",
    location: table.location,
    project_id: table.projectId,
    table_schema: table.dataset,
    table_name: table.table,
    storage_billing_model: table.billingModel,
    active_logical_bytes: table.activeLogicalBytes,
    long_term_logical_bytes: table.longTermLogicalBytes,
    active_physical_bytes: table.activePhysicalBytes,
    long_term_physical_bytes: table.longTermPhysicalBytes,
    time_travel_physical_bytes: table.timeTravelPhysicalBytes,
    fail_safe_physical_bytes: table.failSafePhysicalBytes,
    deleted: table.deleted,
  }));
}
