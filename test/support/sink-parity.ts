// The core and the sink pipeline (sql/sink on ZetaSQL) over the same log entries: what a parity
// test needs to run both and compare their job_costs rows.

import { afterAll, beforeAll } from "vitest";
import { toNumericString } from "../../src/core/money.ts";
import { assessEntry, entryContext } from "../../src/core/pipeline.ts";
import type { Registry } from "../../src/core/registry.ts";
import { versionedRegistryTables } from "../../src/core/registry-tables.ts";
import type { JobCost } from "../../src/core/types.ts";
import { SinkPipeline } from "./sink-pipeline.ts";
import { SINK_TABLE, sinkRow } from "./sink-rows.ts";
import { type SqlValue, ZetaSql } from "./zetasql.ts";

type Row = Record<string, SqlValue>;

/** One LogEntry priced by the core as the CLI prices it; throws unless it is a job. */
export function coreJobCost(entry: unknown, registry: Registry): JobCost {
  const assessed = assessEntry(JSON.stringify(entry), { file: "t", line: 1 }, entryContext(registry));
  if (assessed.kind !== "job") throw new Error(`expected a job, got ${JSON.stringify(assessed)}`);
  return assessed.cost;
}

/**
 * The tables sink pipeline runs write (job_costs, findings, rejected_entries, ...), one run per
 * [run time, entries] pair, each on a fresh sink table holding those entries, with the registry
 * pushed as version "v1"; the runs' rows are concatenated per table.
 */
export async function sinkTables(
  zetasql: ZetaSql,
  registry: Registry,
  timeZone: string,
  runs: readonly (readonly [string, readonly unknown[]])[],
): Promise<Record<string, Row[]>> {
  const tables = versionedRegistryTables(registry, {
    version: "v1",
    pushedAt: "2023-01-01T00:00:00Z",
    source: "registry.yaml",
    timeZone,
  }) as unknown as Record<string, Row[]>;
  const written: Record<string, Row[]> = {};
  for (const [runTime, entries] of runs) {
    const pipeline = new SinkPipeline(zetasql, { ...tables }, SINK_TABLE);
    await pipeline.run(
      runTime,
      entries.map((entry) => sinkRow(entry as Record<string, unknown>)),
    );
    for (const [name, rows] of Object.entries(pipeline.tables))
      if (!(name in tables)) written[name] = [...(written[name] ?? []), ...rows];
  }
  return written;
}

/**
 * Inside a describe block: runs the sink pipeline once before its tests (ZetaSQL started and
 * stopped around them) and gives the tables it wrote.
 */
export function sinkTablesForSuite(
  registry: Registry,
  timeZone: string,
  runs: readonly (readonly [string, readonly unknown[]])[],
): () => Record<string, Row[]> {
  let zetasql: ZetaSql | undefined;
  let written: Record<string, Row[]> = {};
  beforeAll(async () => {
    zetasql = await ZetaSql.start();
    written = await sinkTables(zetasql, registry, timeZone, runs);
  }, 120_000);
  afterAll(() => zetasql?.stop());
  return () => written;
}

/** Rows in job_id order, to compare two engines' rows whatever order each wrote them in. */
export function byJobId<T extends { job_id: unknown }>(rows: readonly T[]): T[] {
  return [...rows].sort((a, b) => String(a.job_id).localeCompare(String(b.job_id)));
}

/** What both engines must agree on per job: its pricing model and exact cost (USD NUMERIC text). */
export interface PricedJob {
  job_id: unknown;
  pricing_model: unknown;
  compute_cost_usd: string;
}

export const pricedFromSink = (rows: readonly Row[]): PricedJob[] =>
  byJobId(
    rows.map((row) => ({
      job_id: row.job_id,
      pricing_model: row.pricing_model,
      compute_cost_usd: String(row.compute_cost_usd),
    })),
  );

export const pricedFromCore = (costs: readonly JobCost[]): PricedJob[] =>
  byJobId(
    costs.map((cost) => ({
      job_id: cost.job.jobId,
      pricing_model: cost.pricing.pricingModel,
      compute_cost_usd: toNumericString(cost.pricing.computeCost),
    })),
  );
