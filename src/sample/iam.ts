// Acme's IAM export, shaped as gcloud and bq write it: the organisation's search-all-iam-policies
// result, the projects list, the custom role's definition and two datasets' access lists. It
// holds the grants behind what the logs play out (the partner's wrongly granted Job User, the
// cross-department Job Users), some that nobody uses yet (latent), and correct ones that must
// raise nothing (the partner's dataset-level share, the shared ETL project).

export const ORGANIZATION = "123456789012";
const ANALYTICS_FOLDER = "folders/300000000001";
const LAKES_FOLDER = "folders/300000000002";

/** Project id -> number, as `gcloud projects list` shows them. */
export const PROJECT_NUMBERS: Record<string, string> = {
  "acme-mkt-bi": "210000000001",
  "acme-mkt-lake": "210000000002",
  "acme-fin-bi": "210000000003",
  "acme-fin-lake": "210000000004",
  "acme-ds-bi": "210000000005",
  "acme-ds-lake": "210000000006",
  "acme-platform": "210000000007",
  "acme-platform-lake": "210000000008",
  "acme-sales-bi": "210000000009",
  "acme-etl": "210000000010",
  "acme-sandbox-42": "210000000011",
};

/** A compute default service account of a project number that is in no projects list. */
export const UNMAPPED_NUMBER = "555000000099";
export const CUSTOM_ROLE = `organizations/${ORGANIZATION}/roles/bqQueryRunner`;

type Binding = {
  role: string;
  members: string[];
  condition?: { title: string; expression: string; description?: string };
};

const projectPolicies: Record<string, Binding[]> = {
  "acme-mkt-bi": [
    {
      role: "roles/bigquery.jobUser",
      members: ["user:alice@acme.example", "user:bob@mkt.acme.example", "user:pat@partner-x.example"],
    },
    {
      role: "roles/bigquery.jobUser",
      members: ["group:analysts@partner-x.example"],
      condition: {
        title: "pilot-until-2027",
        expression: 'request.time < timestamp("2027-01-01T00:00:00Z")',
        description: "partner pilot",
      },
    },
    {
      role: "roles/editor",
      members: [`serviceAccount:${PROJECT_NUMBERS["acme-mkt-bi"]}-compute@developer.gserviceaccount.com`],
    },
  ],
  "acme-mkt-lake": [{ role: "roles/bigquery.dataViewer", members: ["user:quinn@partner-x.example"] }],
  "acme-fin-bi": [
    { role: CUSTOM_ROLE, members: ["user:carol@acme.example"] },
    {
      role: "roles/bigquery.jobUser",
      members: ["user:dave@acme.example", "user:bob@mkt.acme.example", "user:gina@ds.acme.example"],
    },
  ],
  "acme-fin-lake": [{ role: "roles/bigquery.dataViewer", members: ["user:bob@mkt.acme.example"] }],
  "acme-ds-bi": [
    { role: "roles/bigquery.jobUser", members: ["group:data-science@ds.acme.example"] },
    { role: CUSTOM_ROLE, members: ["user:alice@acme.example"] },
  ],
  "acme-platform": [
    { role: "roles/bigquery.jobUser", members: ["user:ops@acme.example"] },
    { role: "roles/bigquery.admin", members: ["group:bq-admins@acme.example"] },
  ],
  "acme-sales-bi": [
    {
      role: "roles/bigquery.jobUser",
      members: [
        "user:erin@acme.example",
        "user:frank@acme.example",
        "deleted:user:former-analyst@acme.example?uid=107245839201746583920",
      ],
    },
    { role: "roles/bigquery.user", members: ["user:hank@ds.acme.example"] },
  ],
  "acme-etl": [
    {
      role: "roles/bigquery.jobUser",
      members: [
        "serviceAccount:etl-runner@acme-etl.iam.gserviceaccount.com",
        "serviceAccount:mkt-loader@acme-mkt-bi.iam.gserviceaccount.com",
        `serviceAccount:${UNMAPPED_NUMBER}-compute@developer.gserviceaccount.com`,
      ],
    },
  ],
  "acme-sandbox-42": [{ role: "roles/editor", members: ["user:intern@acme.example"] }],
};

const folderOf = (project: string) => (project.endsWith("-lake") ? LAKES_FOLDER : ANALYTICS_FOLDER);

/** `gcloud asset search-all-iam-policies --scope=organizations/ORG --format=json`. */
export function searchAllIamPolicies(): unknown[] {
  const organization = `organizations/${ORGANIZATION}`;
  const results: unknown[] = [
    {
      assetType: "cloudresourcemanager.googleapis.com/Organization",
      organization,
      policy: {
        bindings: [
          { role: "roles/browser", members: ["domain:acme.example"] },
          { role: "roles/resourcemanager.organizationAdmin", members: ["user:ops@acme.example"] },
        ],
      },
      resource: `//cloudresourcemanager.googleapis.com/${organization}`,
    },
  ];
  for (const [project, bindings] of Object.entries(projectPolicies)) {
    results.push({
      assetType: "cloudresourcemanager.googleapis.com/Project",
      folders: [folderOf(project)],
      organization,
      policy: { bindings },
      project: `projects/${PROJECT_NUMBERS[project]}`,
      resource: `//cloudresourcemanager.googleapis.com/projects/${project}`,
    });
  }
  results.push({
    assetType: "bigquery.googleapis.com/Dataset",
    folders: [LAKES_FOLDER],
    organization,
    policy: {
      bindings: [
        { role: "roles/bigquery.dataOwner", members: ["projectOwner:acme-platform-lake"] },
        {
          role: "roles/bigquery.dataViewer",
          members: ["allAuthenticatedUsers", "projectViewer:acme-platform-lake"],
        },
      ],
    },
    project: `projects/${PROJECT_NUMBERS["acme-platform-lake"]}`,
    resource: "//bigquery.googleapis.com/projects/acme-platform-lake/datasets/ops",
  });
  return results;
}

/** `gcloud projects list --format=json` (int64 project numbers as strings). */
export function projectsList(): unknown[] {
  return Object.entries(PROJECT_NUMBERS).map(([projectId, projectNumber]) => ({
    createTime: "2024-03-01T09:00:00.000Z",
    lifecycleState: "ACTIVE",
    name: projectId,
    parent: { id: folderOf(projectId).replace("folders/", ""), type: "folder" },
    projectId,
    projectNumber,
  }));
}

/** `gcloud iam roles describe bqQueryRunner --organization=ORG --format=json`, as a list of one. */
export function customRoles(): unknown[] {
  return [
    {
      description: "Run queries, nothing else",
      etag: "BwYt2l2xC8A=",
      includedPermissions: ["bigquery.jobs.create", "bigquery.readsessions.create"],
      name: CUSTOM_ROLE,
      stage: "GA",
      title: "BigQuery query runner",
    },
  ];
}

const datasetBase = (project: string, dataset: string) => ({
  creationTime: "1711962000000",
  datasetReference: { datasetId: dataset, projectId: project },
  etag: "h2Xk2Gx1mB0zXmMYz0vY3w==",
  id: `${project}:${dataset}`,
  kind: "bigquery#dataset",
  lastModifiedTime: "1727740800000",
  location: "US",
  selfLink: `https://bigquery.googleapis.com/bigquery/v2/projects/${project}/datasets/${dataset}`,
  type: "DEFAULT",
});

/** `bq show --format=prettyjson acme-mkt-lake:campaigns`: the partner's correct, dataset-level share. */
export function campaignsDataset(): unknown {
  return {
    access: [
      { role: "WRITER", specialGroup: "projectWriters" },
      { role: "OWNER", specialGroup: "projectOwners" },
      { role: "READER", specialGroup: "projectReaders" },
      { role: "READER", userByEmail: "pat@partner-x.example" },
      { role: "READER", userByEmail: "alice@acme.example" },
      { view: { datasetId: "reporting", projectId: "acme-mkt-bi", tableId: "campaign_summary" } },
    ],
    ...datasetBase("acme-mkt-lake", "campaigns"),
  };
}

/** `bq show --format=prettyjson acme-fin-lake:ledger`: shared with a whole foreign domain by mistake. */
export function ledgerDataset(): unknown {
  return {
    access: [
      { role: "WRITER", specialGroup: "projectWriters" },
      { role: "OWNER", specialGroup: "projectOwners" },
      { role: "OWNER", userByEmail: "carol@acme.example" },
      { role: "READER", specialGroup: "projectReaders" },
      { domain: "other.example", role: "READER" },
    ],
    ...datasetBase("acme-fin-lake", "ledger"),
  };
}

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

/** The files of sample/acme/iam/, by name. */
export function iamExportFiles(): Record<string, string> {
  return {
    "organization-policies.json": json(searchAllIamPolicies()),
    "projects.json": json(projectsList()),
    "custom-roles.json": json(customRoles()),
    "acme-mkt-lake.campaigns.json": json(campaignsDataset()),
    "acme-fin-lake.ledger.json": json(ledgerDataset()),
  };
}
