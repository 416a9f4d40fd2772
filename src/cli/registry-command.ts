// `bq-chargeback registry push`: validates the registry as `report` does, then loads it and its
// price book into the BigQuery tables the sink pipeline reads (sql/sink/ddl), as a new version.
import { parseArgs } from "node:util";
import { createBigQuery } from "../cloud/bigquery.ts";
import { CloudConfigError, loadRegistry, readCloudConfig } from "../cloud/config.ts";
import { pushPlan, pushRegistry } from "../cloud/registry-push.ts";
import { REGISTRY_TABLES } from "../core/registry-tables.ts";
import { UsageError } from "./usage-error.ts";

export const HELP_REGISTRY = `Usage: bq-chargeback registry push --registry FILE|gs://BUCKET/OBJECT [--dry-run]

Validates the registry exactly as 'report' does (errors name the file, line and field), then
writes it and its price book (built-in prices with the registry's prices: merged) into the
tables of sql/sink/ddl: registry_departments, registry_projects, registry_principals,
registry_partners, registry_reservations, registry_labels, price_book, and last
registry_versions. The version is a hash of the content and the billing time zone: pushing the same registry again writes nothing.
The sink pipeline prices with the newest version and records it in sink_runs.

Configured as the functions are: GOOGLE_CLOUD_PROJECT, BQ_CHARGEBACK_DATASET (default
bq_chargeback), BQ_CHARGEBACK_TIMEZONE (default America/Los_Angeles), BIGQUERY_API_ENDPOINT.
Needs roles/bigquery.dataEditor on the dataset and roles/bigquery.jobUser on the project.

Options:
  --registry FILE   the registry (YAML), a file or gs://BUCKET/OBJECT
  --dry-run         validate and print the version and row counts; write nothing`;

export async function registryCommand(args: string[], now: () => Date = () => new Date()): Promise<number> {
  const [action, ...rest] = args;
  if (action === "--help" || action === "-h" || action === undefined) {
    console.log(HELP_REGISTRY);
    return action === undefined ? 2 : 0;
  }
  if (action !== "push")
    throw new UsageError(`registry ${action}: expected push (see bq-chargeback help registry)`);
  const { values } = parseArgs({
    args: rest,
    options: {
      registry: { type: "string" },
      "dry-run": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(HELP_REGISTRY);
    return 0;
  }
  if (!values.registry) throw new UsageError("registry push needs --registry FILE");
  let config: ReturnType<typeof readCloudConfig>;
  try {
    config = readCloudConfig({ ...process.env, BQ_CHARGEBACK_REGISTRY: values.registry });
  } catch (error) {
    if (error instanceof CloudConfigError) throw new UsageError(error.message);
    throw error;
  }
  const registry = await loadRegistry(config.registry);
  const options = { registry, source: values.registry, timeZone: config.timeZone, now: now() };
  const counts = (rows: Record<string, number>) =>
    REGISTRY_TABLES.map((table) => `${table} ${rows[table] ?? 0}`).join(", ");
  if (values["dry-run"]) {
    const { version, tables } = pushPlan(options);
    const rows = Object.fromEntries(REGISTRY_TABLES.map((table) => [table, tables[table].length]));
    console.log(
      `registry ${values.registry} is valid: version ${version} (${counts(rows)}); dry run, nothing written`,
    );
    return 0;
  }
  const bigquery = createBigQuery({ projectId: config.projectId, apiEndpoint: config.bigqueryEndpoint });
  const result = await pushRegistry(bigquery, config.dataset, options);
  console.log(
    result.pushed
      ? `pushed registry version ${result.version} to ${config.projectId}.${config.dataset} (${counts(result.rows)})`
      : `registry version ${result.version} is already in ${config.projectId}.${config.dataset}: nothing written`,
  );
  return 0;
}
