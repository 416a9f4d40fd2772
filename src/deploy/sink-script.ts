// The scheduled query of the sink mode: sql/sink's steps in order as one BigQuery script, after
// two SET statements that make the bq-chargeback dataset the default (the SQL names its tables
// without a dataset). Project and dataset are checked identifiers, never data.
// `node src/deploy/sink-script.ts PROJECT DATASET` prints it (deploy/sink-mode.sh).
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { isDatasetId, isProjectId } from "../core/identifiers.ts";

const SINK = fileURLToPath(new URL("../../sql/sink/", import.meta.url));

/** The steps of the sink pipeline, in the order they run (their file names' numbers). */
export function sinkSteps(): { file: string; sql: string }[] {
  return readdirSync(SINK)
    .filter((file) => /^\d\d_.*\.sql$/.test(file))
    .sort()
    .map((file) => ({ file, sql: readFileSync(`${SINK}${file}`, "utf8") }));
}

export function sinkScript(project: string, dataset: string): string {
  if (!isProjectId(project)) throw new RangeError(`not a project id: "${project}"`);
  if (!isDatasetId(dataset)) throw new RangeError(`not a dataset id: "${dataset}"`);
  const statements = [
    `SET @@dataset_project_id = '${project}'`,
    `SET @@dataset_id = '${dataset}'`,
    ...sinkSteps().map((step) => step.sql.trim()),
  ];
  return `${statements.join(";\n\n")};\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [project = "", dataset = ""] = process.argv.slice(2);
  try {
    process.stdout.write(sinkScript(project, dataset));
  } catch (error) {
    process.stderr.write(`usage: sink-script.ts PROJECT DATASET: ${(error as Error).message}\n`);
    process.exit(2);
  }
}
