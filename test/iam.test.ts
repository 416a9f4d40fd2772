// The IAM audit: exports read as gcloud and bq write them (test/fixtures/iam/README.md names the
// sources), judged against a registry, joined with what the logs show.
import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import type { IamFinding } from "../src/core/iam/audit.ts";
import { IAM_FINDING_COLUMNS } from "../src/core/iam/rows.ts";
import { GrantUsage } from "../src/core/iam/usage.ts";
import { parseRegistry } from "../src/core/registry.ts";
import { parseIamInput, readIamExports } from "../src/io/iam-exports.ts";
import { auditExport } from "../src/io/iam-files.ts";
import { InputError } from "../src/io/log-files.ts";
import { ddlTables } from "./support/zetasql.ts";

const FIXTURES = new URL("./fixtures/iam/", import.meta.url).pathname;
const fixture = (name: string) => readFile(`${FIXTURES}${name}`, "utf8");

const registry = parseRegistry(
  `organization:
  domains: [acme.example]
departments:
  - id: marketing
    projects: [acme-mkt-bi, acme-mkt-lake]
    principals: [alice@acme.example, "*@mkt.acme.example"]
  - id: finance
    projects: [acme-fin-bi, acme-fin-lake]
    principals: [carol@acme.example, dave@acme.example]
partners:
  - id: partner-x
    domains: [partner-x.example]
    billing_projects: [px-analytics]
`,
  "registry.yaml",
);

async function exportsOf(names: string[], extra: { file: string; text: string; project?: string }[] = []) {
  const texts = await Promise.all(
    names.map(async (name) => ({ ...parseIamInput(name), text: await fixture(parseIamInput(name).file) })),
  );
  return readIamExports([...texts, ...extra]);
}

const ALL = [
  "search-all-iam-policies.json",
  "acme-fin-bi=get-iam-policy.acme-fin-bi.json",
  "bq-show-dataset.json",
  "projects-list.json",
  "roles-describe.json",
];

async function audit(usage?: GrantUsage) {
  const exported = await exportsOf(ALL);
  return {
    exported,
    audit: auditExport(exported, registry, usage),
  };
}

const find = (findings: IamFinding[], kind: string, member: string, project?: string) =>
  findings.filter(
    (f) => f.kind === kind && f.member === member && (project === undefined || f.project === project),
  );

describe("reading IAM exports", () => {
  it("reads every level of a search result, get-iam-policy, bq show access lists and role definitions", async () => {
    const { grants, projectNumbers, roles, authorizedResources } = await exportsOf(ALL);
    const levels = new Set(grants.map((g) => g.resource.level));
    expect([...levels].sort()).toEqual(["dataset", "folder", "organization", "project", "table"]);
    // A search result names its project by id in `resource` and by number in `project`.
    expect(projectNumbers.get("210000000001")).toBe("acme-mkt-bi");
    expect(roles.map((r) => r.name)).toEqual(["organizations/123456789012/roles/bqQueryRunner"]);
    // The bucket's policy is no BigQuery resource: not a grant here.
    expect(grants.some((g) => g.resource.name.includes("acme-public-assets"))).toBe(false);
    // Legacy dataset roles read as the IAM roles BigQuery maps them to; specialGroups of the
    // project's own roles are judged at project level; authorized views are resources, counted.
    const ledger = grants.filter((g) => g.resource.name === "acme-fin-lake:ledger");
    expect(ledger.map((g) => `${g.member.written} ${g.role}`)).toEqual([
      "user:carol@acme.example roles/bigquery.dataOwner",
      "allAuthenticatedUsers roles/bigquery.dataViewer",
      "domain:partner-x.example roles/bigquery.dataViewer",
      "group:finance-analysts@acme.example roles/bigquery.dataViewer",
      "principal://iam.googleapis.com/locations/global/workforcePools/acme-pool/subject/alice roles/bigquery.dataViewer",
    ]);
    expect(authorizedResources).toBe(2);
    // get-iam-policy names no project: the PROJECT_ID=FILE form does.
    expect(grants.filter((g) => g.resource.name === "acme-fin-bi").map((g) => g.member.email)).toEqual([
      "carol@acme.example",
      "bob@mkt.acme.example",
      "dave@acme.example",
    ]);
    const deleted = grants.find((g) => g.member.deleted);
    expect(deleted?.member).toMatchObject({ kind: "user", email: "gone@acme.example" });
    const conditional = grants.find((g) => g.condition);
    expect(conditional?.condition).toEqual({
      title: "pilot",
      expression: 'request.time < timestamp("2027-01-01T00:00:00Z")',
    });
  });

  it("keeps a member of an unknown type as a problem with its file, line and what was expected", async () => {
    const { problems } = await exportsOf(ALL);
    const unknown = problems.filter((p) => p.reason === "unknown_member");
    expect(unknown).toHaveLength(1);
    const text = await fixture("search-all-iam-policies.json");
    const line = text.split("\n").findIndex((l) => l.includes("mystery:someone@acme.example")) + 1;
    expect(unknown[0]?.source).toEqual({
      file: "search-all-iam-policies.json",
      line,
      path: "[6].policy.bindings[0].members[1]",
    });
    expect(unknown[0]?.detail).toMatch(
      /expected an IAM member: user:EMAIL.*found "mystery:someone@acme.example"/,
    );
  });

  it("stops on a truncated export, naming the file and the line where it ends", async () => {
    const text = await fixture("search-all-iam-policies.json");
    const cut = text.slice(
      0,
      text.indexOf('"resource": "//cloudresourcemanager.googleapis.com/projects/acme-mkt-bi"'),
    );
    const lines = cut.split("\n").length;
    expect(() => readIamExports([{ file: "org.json", text: cut }])).toThrow(InputError);
    expect(() => readIamExports([{ file: "org.json", text: cut }])).toThrow(
      new RegExp(`^org\\.json:${lines}: the JSON ends before it is complete \\(a truncated export\\?\\)`),
    );
  });

  it("refuses what it cannot place: a get-iam-policy without its project, roles without permissions, other JSON", async () => {
    const policy = await fixture("get-iam-policy.acme-fin-bi.json");
    expect(() => readIamExports([{ file: "p.json", text: policy }])).toThrow(
      /p\.json:1: \(top level\): .*pass it as PROJECT_ID=FILE/,
    );
    const basic = await fixture("roles-list-basic.json");
    expect(() => readIamExports([{ file: "roles.json", text: basic }])).toThrow(
      /roles\.json:2: \[0\]\.includedPermissions: missing; gcloud iam roles list omits permissions/,
    );
    expect(() => readIamExports([{ file: "x.json", text: '[{"hello": 1}]' }])).toThrow(
      /x\.json:1: \[0\]: expected one of: gcloud asset/,
    );
  });
});

describe("the audit", () => {
  it("finds an outsider's job rights and tells realized from latent with the logs' cost", async () => {
    const usage = new GrantUsage();
    usage.add("pat@partner-x.example", "acme-mkt-bi", 1_500_000_000n);
    usage.add("PAT@partner-x.example", "acme-mkt-bi", 250_000_000n);
    usage.add("pat@partner-x.example", "px-analytics", 9_000_000_000n);
    const { audit: result } = await audit(usage);
    const pat = find(result.findings, "external_job_rights", "user:pat@partner-x.example");
    expect(pat).toHaveLength(1);
    expect(pat[0]).toMatchObject({
      severity: "critical",
      status: "realized",
      project: "acme-mkt-bi",
      jobs: 2,
      cost: 1_750_000_000n,
    });
    expect(pat[0]?.remediation).toBe(
      "gcloud projects remove-iam-policy-binding acme-mkt-bi --member='user:pat@partner-x.example' --role=roles/bigquery.jobUser",
    );
    // The conditional grant is shown with its condition, latent, removed with --all.
    const sam = find(result.findings, "external_job_rights", "user:sam@partner-x.example");
    expect(sam[0]).toMatchObject({
      status: "latent",
      condition: 'pilot: request.time < timestamp("2027-01-01T00:00:00Z")',
    });
    expect(sam[0]?.remediation).toMatch(/ --all$/);
    // roles/viewer at the organization reaches every project and carries jobs.create.
    const contractor = find(result.findings, "external_job_rights", "user:contractor@vendor.example");
    expect(contractor.map((f) => f.project)).toEqual(
      expect.arrayContaining(["acme-mkt-bi", "acme-fin-bi", "acme-mkt-lake"]),
    );
    expect(contractor[0]?.remediation).toMatch(
      /^gcloud organizations remove-iam-policy-binding 123456789012 /,
    );
  });

  it("says not_checked without logs, and reports no unused grant it cannot know", async () => {
    const { audit: result } = await audit();
    expect(find(result.findings, "external_job_rights", "user:pat@partner-x.example")[0]?.status).toBe(
      "not_checked",
    );
    expect(result.findings.some((f) => f.kind === "unused_job_rights")).toBe(false);
    expect(result.usageChecked).toBe(false);
  });

  it("flags public and foreign-domain access, and project-level reads by partners, not dataset-level ones", async () => {
    const { audit: result } = await audit(new GrantUsage());
    expect(find(result.findings, "public_access", "allUsers")[0]).toMatchObject({
      resource: "acme-mkt-lake:campaigns",
      severity: "critical",
    });
    expect(find(result.findings, "public_access", "allAuthenticatedUsers")[0]?.remediation).toMatch(
      /^bq show --format=prettyjson acme-fin-lake:ledger > dataset\.json; delete the access entry/,
    );
    // A partner's whole domain on one dataset is the share done right; at a folder, a project-level read.
    expect(result.findings.filter((f) => f.member === "domain:partner-x.example")).toEqual([]);
    const folderRead = find(result.findings, "project_level_read", "group:bi-readers@partner-x.example");
    // The folder holds acme-mkt-bi and a project the export names by an unmapped number only.
    expect(folderRead.map((f) => f.project).sort()).toEqual(["acme-mkt-bi", "projects/210000000003"]);
    // Dataset- and table-level Data Viewer for partners: no finding.
    expect(result.findings.filter((f) => f.member === "user:quinn@partner-x.example")).toEqual([]);
    expect(find(result.findings, "project_level_read", "user:pat@partner-x.example")).toEqual([]);
  });

  it("joins cross-department job rights with the rides in the logs, and flags unused job rights", async () => {
    const usage = new GrantUsage();
    usage.add("bob@mkt.acme.example", "acme-fin-bi", 3_000_000_000n);
    usage.add("carol@acme.example", "acme-fin-bi", 1n);
    usage.add("carol@acme.example", "acme-mkt-bi", 1n);
    const { audit: result } = await audit(usage);
    const bob = find(result.findings, "cross_department_job_rights", "user:bob@mkt.acme.example");
    // From get-iam-policy; the search result's projects/210000000003 maps to no id, so no department.
    expect(bob.map((f) => [f.project, f.status, f.cost])).toEqual([
      ["acme-fin-bi", "realized", 3_000_000_000n],
    ]);
    // carol's custom role on marketing's project carries jobs.create: cross-department, realized.
    expect(find(result.findings, "cross_department_job_rights", "user:carol@acme.example")[0]).toMatchObject({
      project: "acme-mkt-bi",
      status: "realized",
      role: "organizations/123456789012/roles/bqQueryRunner",
    });
    // Own-department Job User nobody used in the period: least privilege.
    expect(find(result.findings, "unused_job_rights", "user:alice@acme.example", "acme-mkt-bi")).toHaveLength(
      1,
    );
    expect(find(result.findings, "unused_job_rights", "user:carol@acme.example", "acme-fin-bi")).toEqual([]);
  });

  it("maps project numbers, reports the ones that map to nothing, and knows Google's own identities", async () => {
    const { audit: result, exported } = await audit(new GrantUsage());
    // projects/210000000003 is in no projects list: its grants stay, under the number.
    expect(exported.grants.filter((g) => g.resource.name === "projects/210000000003")).toHaveLength(1);
    const unmapped = result.findings.filter((f) => f.kind === "unmapped_project_number");
    expect(unmapped.map((f) => f.project)).toEqual(["projects/210000000003"]);
    expect(unmapped[0]?.remediation).toMatch(/^gcloud projects describe 210000000003 /);
    // The default compute SA of 210000000001 is acme-mkt-bi's (marketing), the service agent Google's.
    const compute = result.findings.filter((f) => f.member.includes("210000000001-compute"));
    expect(compute.map((f) => [f.kind, f.holder, f.department])).toEqual([
      ["unused_job_rights", "own_department", "marketing"],
    ]);
    expect(result.findings.filter((f) => f.member.includes("gcp-sa-bigquerydatatransfer"))).toEqual([]);
  });

  it("maps numbers the registry names too, when the export's projects list lacks them", async () => {
    const withNumbers = parseRegistry(
      `organization:\n  domains: [acme.example]\ndepartments:\n  - id: marketing\n    projects: [acme-mkt-bi]\n    principals: ["*@mkt.acme.example"]\n  - id: finance\n    projects: [acme-fin-bi]\nproject_numbers:\n  acme-fin-bi: 210000000003\n`,
      "registry.yaml",
    );
    const exported = await exportsOf(["search-all-iam-policies.json"]);
    const audit = auditExport(exported, withNumbers, new GrantUsage());
    // The search result named finance's project only by number: the registry's number places it.
    expect(audit.findings.filter((f) => f.kind === "unmapped_project_number")).toEqual([]);
    expect(find(audit.findings, "cross_department_job_rights", "user:bob@mkt.acme.example")[0]).toMatchObject(
      {
        project: "acme-fin-bi",
        resource: "acme-fin-bi",
        remediation: expect.stringMatching(/^gcloud projects remove-iam-policy-binding acme-fin-bi /),
      },
    );
  });

  it("reports deleted principals, unseen group members, and roles it cannot judge", async () => {
    const { audit: result } = await audit(new GrantUsage());
    expect(
      find(
        result.findings,
        "deleted_principal",
        "deleted:user:gone@acme.example?uid=123456789012345678901",
      )[0]?.remediation,
    ).toBe(
      "gcloud projects remove-iam-policy-binding acme-mkt-bi --member='deleted:user:gone@acme.example?uid=123456789012345678901' --role=roles/bigquery.jobUser",
    );
    expect(result.findings.filter((f) => f.kind === "group_members_unseen").map((f) => f.member)).toEqual([
      "group:finance-analysts@acme.example",
      "group:bi-readers@partner-x.example",
    ]);
    const role = result.problems.find((p) => p.reason === "unknown_role");
    expect(role?.detail).toMatch(
      /roles\/bigquery\.securityAdmin is neither in the built-in table nor defined/,
    );
    expect(role?.source.file).toBe("get-iam-policy.acme-fin-bi.json");
    // A predefined role of another service is outside the table, counted, not an error.
    expect(result.counts.rolesOutsideTable).toEqual({ "roles/browser": 1 });
  });

  it("fails on a custom role nobody defined, and judges it once defined", async () => {
    const exported = await exportsOf(["search-all-iam-policies.json", "projects-list.json"]);
    const without = auditExport(exported, registry);
    expect(without.problems.filter((p) => p.reason === "unknown_role").map((p) => p.detail)).toEqual([
      expect.stringMatching(
        /gcloud iam roles describe bqQueryRunner --organization=123456789012 --format=json/,
      ),
    ]);
  });
});

describe("iam_findings rows", () => {
  it("have the columns of sql/ddl/iam_findings.sql, in order", () => {
    const table = ddlTables(new URL("../sql/ddl", import.meta.url).pathname).find(
      (t) => t.name === "iam_findings",
    );
    expect(table?.columns.map((c) => c.name)).toEqual([...IAM_FINDING_COLUMNS]);
  });
});
