// Which roles carry the two BigQuery permissions that matter for chargeback:
// `bigquery.jobs.create` (the right to make a project pay) and `bigquery.tables.getData` (the right
// to read). A built-in table of Google's predefined roles, each row with its source, overridable
// and extended by role definitions the user exports (custom roles, or a predefined role described
// with `gcloud iam roles describe`), like the price book.

export const JOBS_CREATE = "bigquery.jobs.create";
export const TABLES_GET_DATA = "bigquery.tables.getData";

export interface RoleRights {
  /** Full role name: `roles/bigquery.jobUser`, `organizations/ORG/roles/R`, `projects/P/roles/R`. */
  readonly name: string;
  readonly jobsCreate: boolean;
  readonly getData: boolean;
  /** Where the row comes from: Google's reference page, or the exported definition's file. */
  readonly source: string;
  /** A deleted custom role still sits in policies but grants nothing. */
  readonly deleted?: boolean;
}

const BIGQUERY_ROLES = "https://cloud.google.com/iam/docs/roles-permissions/bigquery";
const BIGQUERY_BASIC = "https://cloud.google.com/bigquery/docs/access-control-basic-roles";
const BASIC_ROLES = "https://cloud.google.com/iam/docs/roles-overview#basic";

const row = (name: string, jobsCreate: boolean, getData: boolean, source: string): RoleRights => ({
  name,
  jobsCreate,
  getData,
  source,
});

/**
 * Predefined roles known to carry jobs.create or tables.getData (or, for the BigQuery roles that
 * carry neither, known not to), from Google's IAM roles reference as of 2026-11. Basic roles:
 * BigQuery documents that a project Viewer "can start a job in the project".
 */
export const BUILT_IN_ROLES: readonly RoleRights[] = [
  row("roles/owner", true, true, `${BASIC_ROLES}; ${BIGQUERY_BASIC}`),
  row("roles/editor", true, true, `${BASIC_ROLES}; ${BIGQUERY_BASIC}`),
  row("roles/viewer", true, true, `${BASIC_ROLES}; ${BIGQUERY_BASIC}`),
  row("roles/bigquery.admin", true, true, `${BIGQUERY_ROLES}#bigquery.admin`),
  row("roles/bigquery.user", true, false, `${BIGQUERY_ROLES}#bigquery.user`),
  row("roles/bigquery.jobUser", true, false, `${BIGQUERY_ROLES}#bigquery.jobUser`),
  row("roles/bigquery.studioUser", true, false, `${BIGQUERY_ROLES}#bigquery.studioUser`),
  row("roles/bigquery.studioAdmin", true, true, `${BIGQUERY_ROLES}#bigquery.studioAdmin`),
  row("roles/bigquery.dataViewer", false, true, `${BIGQUERY_ROLES}#bigquery.dataViewer`),
  row("roles/bigquery.dataEditor", false, true, `${BIGQUERY_ROLES}#bigquery.dataEditor`),
  row("roles/bigquery.dataOwner", false, true, `${BIGQUERY_ROLES}#bigquery.dataOwner`),
  row("roles/bigquery.metadataViewer", false, false, `${BIGQUERY_ROLES}#bigquery.metadataViewer`),
  row("roles/bigquery.readSessionUser", false, false, `${BIGQUERY_ROLES}#bigquery.readSessionUser`),
  row("roles/bigquery.connectionUser", false, false, `${BIGQUERY_ROLES}#bigquery.connectionUser`),
  row("roles/bigquery.connectionAdmin", false, false, `${BIGQUERY_ROLES}#bigquery.connectionAdmin`),
];

/** The legacy dataset roles of `bq show` access entries, as BigQuery maps them. */
export const LEGACY_DATASET_ROLES: Readonly<Record<string, string>> = {
  READER: "roles/bigquery.dataViewer",
  WRITER: "roles/bigquery.dataEditor",
  OWNER: "roles/bigquery.dataOwner",
};

/** A role definition as `gcloud iam roles describe --format=json` (or the REST API with view=FULL) gives it. */
export interface RoleDefinition {
  readonly name: string;
  readonly includedPermissions: readonly string[];
  readonly deleted: boolean;
  readonly source: string;
}

/** How a role name is understood. */
export type RoleLookup =
  | { kind: "known"; rights: RoleRights }
  /** A predefined role outside BigQuery that the table does not list: assumed to carry neither. */
  | { kind: "outside_table" }
  /** A custom role, or a BigQuery role, that nothing defines: its rights cannot be judged. */
  | { kind: "unknown" };

export class RoleTable {
  private readonly rows = new Map<string, RoleRights>();

  constructor(definitions: readonly RoleDefinition[] = [], builtIn: readonly RoleRights[] = BUILT_IN_ROLES) {
    for (const rights of builtIn) this.rows.set(rights.name, rights);
    // Exported definitions win over the built-in rows: they are what Google says today.
    for (const definition of definitions) {
      const permissions = new Set(definition.includedPermissions);
      this.rows.set(definition.name, {
        name: definition.name,
        jobsCreate: permissions.has(JOBS_CREATE),
        getData: permissions.has(TABLES_GET_DATA),
        source: definition.source,
        deleted: definition.deleted,
      });
    }
  }

  lookup(role: string): RoleLookup {
    const rights = this.rows.get(role);
    if (rights) return { kind: "known", rights };
    // Predefined roles of other services (roles/storage.admin ...) are in no BigQuery table.
    if (role.startsWith("roles/") && !role.startsWith("roles/bigquery.")) return { kind: "outside_table" };
    return { kind: "unknown" };
  }
}
