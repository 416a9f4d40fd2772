// Google Cloud names as Google allows them, checked in one place: the registry, the CLI, the
// functions' configuration and the SQL the report builds all use these rules. A name that
// reaches SQL text goes through a function here that validates and quotes it.

/**
 * Project ids: 6-30 characters, a lower-case letter first, lower-case letters, digits and hyphens,
 * no trailing hyphen; optionally domain-scoped, `example.com:p` (older Google Workspace projects).
 */
const PROJECT_ID = /^(?:[a-z][a-z0-9.-]*[a-z0-9]:)?[a-z][a-z0-9-]{4,28}[a-z0-9]$/;
export const PROJECT_ID_EXPECTED =
  "a project id (6-30 chars: lower-case letters, digits, hyphens; optionally domain-scoped, example.com:p)";

/** BigQuery dataset names: letters, digits and underscores. */
const DATASET_ID = /^[A-Za-z_][A-Za-z0-9_]{0,1023}$/;

/** BigQuery locations: multi-regions (US, EU) and regions (europe-west1), any case. */
const LOCATION = /^[A-Za-z]+(?:-[A-Za-z]+[0-9]*)?$/;
export const LOCATION_EXPECTED = "a location such as US, EU or europe-west1";

export class UnsafeIdentifierError extends Error {
  override readonly name = "UnsafeIdentifierError";
}

export function isProjectId(text: string): boolean {
  return PROJECT_ID.test(text);
}

export function isDatasetId(text: string): boolean {
  return DATASET_ID.test(text);
}

export function isLocation(text: string): boolean {
  return LOCATION.test(text);
}

/**
 * A project as one quoted identifier of a GoogleSQL path. The project part of a path is quoted
 * on its own, colon included (`example.com:p`), so BigQuery reads it as one name; the rule
 * above admits no backtick or backslash, so nothing needs escaping.
 */
export function quotedProject(project: string): string {
  if (!isProjectId(project))
    throw new UnsafeIdentifierError(`project id ${JSON.stringify(project)}: expected ${PROJECT_ID_EXPECTED}`);
  return `\`${project}\``;
}

/** `project`.`region-LOCATION`.INFORMATION_SCHEMA, each part validated and quoted. */
export function informationSchema(project: string, location: string): string {
  if (!isLocation(location))
    throw new UnsafeIdentifierError(`location ${JSON.stringify(location)}: expected ${LOCATION_EXPECTED}`);
  return `${quotedProject(project)}.\`region-${location.toLowerCase()}\`.INFORMATION_SCHEMA`;
}

/** A table as `project`.`dataset`.`table` (the Cloud Billing export table), validated and quoted. */
export function quotedTable(path: string): string {
  const match = /^(.+)\.([^.]+)\.([^.]+)$/.exec(path);
  const [, project = "", dataset = "", table = ""] = match ?? [];
  if (!match || !isDatasetId(dataset) || !isDatasetId(table))
    throw new UnsafeIdentifierError(
      `table ${JSON.stringify(path)}: expected PROJECT.DATASET.TABLE (letters, digits and underscores after the project)`,
    );
  return `${quotedProject(project)}.\`${dataset}\`.\`${table}\``;
}
