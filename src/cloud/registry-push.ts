// `bq-chargeback registry push`: the validated registry and its price book into the sink mode's
// tables (sql/sink/ddl), as one new version. The version is a hash of the rows (and the billing
// time zone), so pushing the same registry twice adds nothing; registry_versions is written
// last, and the sink pipeline prices with the newest version listed there, so a push that stops
// half-way is never used.
import type { BigQuery } from "@google-cloud/bigquery";
import type { Registry } from "../core/registry.ts";
import {
  contentVersion,
  REGISTRY_TABLES,
  type RegistryTables,
  registryRows,
  type TableRow,
  versionedRegistryTables,
} from "../core/registry-tables.ts";
import { BigQueryRowSink } from "./bigquery.ts";

/** The content version of the registry's rows and the time zone of its billing days. */
export function registryVersion(registry: Registry, timeZone: string): string {
  return contentVersion({ timeZone, rows: registryRows(registry) });
}

export interface PushOptions {
  registry: Registry;
  /** The file or gs:// object the registry came from. */
  source: string;
  timeZone: string;
  now: Date;
}

export interface PushResult {
  version: string;
  /** False when this version was pushed before: nothing written. */
  pushed: boolean;
  rows: Record<string, number>;
}

/** The tables' rows for this push, registry_versions last. */
export function pushPlan(options: PushOptions): { version: string; tables: RegistryTables } {
  const version = registryVersion(options.registry, options.timeZone);
  const tables = versionedRegistryTables(options.registry, {
    version,
    pushedAt: options.now.toISOString(),
    source: options.source,
    timeZone: options.timeZone,
  });
  return { version, tables };
}

/** JSON as BigQuery's insertAll takes it: INT64 as a string of digits. */
function json(row: TableRow): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(row).map(([key, value]) => [key, typeof value === "bigint" ? value.toString() : value]),
  );
}

export async function pushRegistry(
  bigquery: BigQuery,
  dataset: string,
  options: PushOptions,
): Promise<PushResult> {
  const { version, tables } = pushPlan(options);
  const rows = Object.fromEntries(REGISTRY_TABLES.map((table) => [table, tables[table].length]));
  const [existing] = await bigquery.query({
    query: "SELECT COUNT(*) AS pushed FROM registry_versions WHERE registry_version = @version",
    params: { version },
    types: { version: "STRING" },
    defaultDataset: { projectId: bigquery.projectId, datasetId: dataset },
  });
  if (Number((existing[0] as { pushed?: unknown } | undefined)?.pushed ?? 0) > 0) {
    return { version, pushed: false, rows };
  }
  // registry_versions last: until it lists the version, no run uses the rows written before it.
  const sink = new BigQueryRowSink(bigquery, dataset);
  const order = [
    ...REGISTRY_TABLES.filter((table) => table !== "registry_versions"),
    "registry_versions",
  ] as const;
  for (const table of order) {
    const list = tables[table];
    if (list.length === 0) continue;
    // insert ids from the version: a retried push writes each row once (best-effort de-duplication).
    await sink.insert(
      table,
      list.map((row, i) => ({ insertId: `${version}:${table}:${i}`, json: json(row) })),
    );
  }
  return { version, pushed: true, rows };
}
