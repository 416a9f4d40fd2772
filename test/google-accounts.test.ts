// Google's own accounts are not outsiders (issue 11 C.14). Each job is the v2 jobChange fixture
// (test/fixtures/functions/v2-jobchange-done.json) with authenticationInfo.principalEmail set to a
// form Google documents: default accounts (https://cloud.google.com/iam/docs/service-account-types),
// service agents (https://cloud.google.com/iam/docs/service-agents; the transfer service agent
// runs scheduled queries), and the shapes seen in Google's audit-log example for Bigtable
// (`123-compute@developer.gserviceaccount.com`, `service-123@compute-system.iam.gserviceaccount.com`,
// shared/reference/audit-log-formats.md).
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { createIngestContext, ingestEntry } from "../src/cloud/ingest.ts";
import { googleAccount } from "../src/core/attribute.ts";
import { assessEntry, entryContext } from "../src/core/pipeline.ts";
import { ConfigError, parseRegistry } from "../src/core/registry.ts";
import type { Finding } from "../src/core/types.ts";

const FIXTURE = new URL("./fixtures/functions/v2-jobchange-done.json", import.meta.url);
const REGISTRY = `${readFileSync(new URL("./fixtures/functions/registry.yaml", import.meta.url), "utf8")}
project_numbers:
  acme-fin-bi: 123456789012
`;
const registry = parseRegistry(REGISTRY, "registry.yaml");
const context = entryContext(registry);

/** The fixture's job, run by `principal` in `project`, reading a table of finance's. */
function entry(principal: string, project = "acme-fin-bi"): string {
  const log = JSON.parse(readFileSync(FIXTURE, "utf8"));
  log.protoPayload.authenticationInfo.principalEmail = principal;
  const job = log.protoPayload.metadata.jobChange.job;
  job.jobName = `projects/${project}/jobs/scheduled_query_6f1e`;
  job.jobStats.queryStats.referencedTables = ["projects/acme-fin-lake/datasets/ledger/tables/entries"];
  log.resource.labels.project_id = project;
  return JSON.stringify(log);
}

function assess(principal: string, project?: string) {
  const assessed = assessEntry(entry(principal, project), { file: "t", line: 1 }, context);
  if (assessed.kind !== "job") throw new Error(`expected a job, got ${assessed.kind}`);
  return assessed.cost;
}

describe("Google's default accounts and service agents of our projects", () => {
  for (const principal of [
    "service-123456789012@gcp-sa-bigquerydatatransfer.iam.gserviceaccount.com",
    "123456789012-compute@developer.gserviceaccount.com",
    "service-123456789012@compute-system.iam.gserviceaccount.com",
    "123456789012@cloudservices.gserviceaccount.com",
    "acme-fin-bi@appspot.gserviceaccount.com",
  ]) {
    it(`${principal} belongs to its project's department, no finding`, () => {
      const cost = assess(principal);
      expect(cost.attribution).toMatchObject({
        consumerDepartment: "finance",
        principalKind: "service_account",
      });
      expect(cost.findings).toEqual([]);
    });
  }

  it("a service agent of another of our projects is a cross-department free ride, as its project's own account would be", () => {
    const cost = assess(
      "service-123456789012@gcp-sa-bigquerydatatransfer.iam.gserviceaccount.com",
      "acme-mkt-bi",
    );
    expect(cost.attribution.consumerDepartment).toBe("finance");
    expect(cost.findings.map((f) => f.kind)).toEqual(["cross_department_free_ride"]);
  });

  it("Google's internal systems (@system.gserviceaccount.com) are charged to the billing project's department", () => {
    const cost = assess("bigquery-adminbot@system.gserviceaccount.com", "acme-mkt-bi");
    expect(cost.attribution).toMatchObject({
      consumerDepartment: "marketing",
      principalKind: "google_agent",
    });
    expect(cost.findings).toEqual([]);
  });
});

describe("a Google-managed account of a project number the registry does not list", () => {
  it("is charged to the billing project's department, and the finding says which number to register", () => {
    const cost = assess(
      "service-987654321098@gcp-sa-bigquerydatatransfer.iam.gserviceaccount.com",
      "acme-mkt-bi",
    );
    expect(cost.attribution).toMatchObject({
      consumerDepartment: "marketing",
      principalKind: "google_agent",
      agentProjectNumber: "987654321098",
    });
    expect(cost.findings).toHaveLength(1);
    expect(cost.findings[0]).toMatchObject({ kind: "unregistered_project_number", severity: "low" });
    expect(cost.findings[0]?.remediation).toContain('"acme-mkt-bi: 987654321098" under project_numbers');
  });

  it("is external when the billing project's own number is registered and is another", () => {
    const cost = assess("987654321098-compute@developer.gserviceaccount.com", "acme-fin-bi");
    expect(cost.attribution).toMatchObject({
      consumerDepartment: "external:developer.gserviceaccount.com",
      principalKind: "external",
    });
    expect(cost.findings.map((f) => f.kind)).toEqual(["external_free_ride"]);
  });

  it("an App Engine account of a project none of ours is external", () => {
    const cost = assess("someone-else@appspot.gserviceaccount.com");
    expect(cost.attribution.principalKind).toBe("external");
  });
});

describe("what is and is not a Google-managed account", () => {
  it("reads the project or its number from each documented form", () => {
    expect(googleAccount("service-p42424242@gcp-sa-accessapproval.iam.gserviceaccount.com")).toEqual({
      projectNumber: "42424242",
    });
    expect(googleAccount("acme-fin-bi@appspot.gserviceaccount.com")).toEqual({ project: "acme-fin-bi" });
    expect(googleAccount("x@system.gserviceaccount.com")).toEqual({ system: true });
  });

  it("a user-managed account named like an agent, in a project of its own, is not one", () => {
    expect(googleAccount("service-123456@someone-project.iam.gserviceaccount.com")).toBeUndefined();
    expect(googleAccount("compute@developer.gserviceaccount.com")).toBeUndefined();
    expect(googleAccount("pat@partner-x.example")).toBeUndefined();
  });
});

describe("project_numbers in the registry", () => {
  const withNumbers = (section: string) =>
    `${readFileSync(new URL("./fixtures/functions/registry.yaml", import.meta.url), "utf8")}\n${section}`;

  it("names the line of a project that is none of ours", () => {
    expect(() =>
      parseRegistry(withNumbers("project_numbers:\n  acme-fin-bj: 123456789012\n"), "r.yaml"),
    ).toThrow(/r\.yaml:\d+: project_numbers\.acme-fin-bj: unknown key \(did you mean acme-fin-bi\?\)/);
  });

  it("refuses a number that is not one, or one given twice", () => {
    expect(() => parseRegistry(withNumbers("project_numbers:\n  acme-fin-bi: 12ab\n"), "r.yaml")).toThrow(
      ConfigError,
    );
    expect(() =>
      parseRegistry(
        withNumbers("project_numbers:\n  acme-fin-bi: 123456789012\n  acme-etl: 123456789012\n"),
        "r.yaml",
      ),
    ).toThrow(/already the number of acme-fin-bi/);
  });
});

describe("the ingest function on a scheduled query's job", () => {
  it("writes no finding and raises no alert for the project's own transfer service agent", async () => {
    const inserted: { table: string; rows: unknown[] }[] = [];
    const alerts: Finding[] = [];
    const ingest = createIngestContext({
      registry,
      timeZone: "America/Los_Angeles",
      sink: { insert: async (table, rows) => void inserted.push({ table, rows }) },
      alerts: { alert: async (finding) => void alerts.push(finding) },
    });
    const text = entry("service-123456789012@gcp-sa-bigquerydatatransfer.iam.gserviceaccount.com");
    const result = await ingestEntry(text, { file: "pubsub:1", line: 1 }, ingest);
    expect(result).toMatchObject({ kind: "job", findings: 0 });
    expect(inserted.map((insert) => insert.table)).toEqual(["job_costs"]);
    expect(inserted[0]?.rows[0]).toMatchObject({
      json: { consumer_department: "finance", principal_kind: "service_account", findings: [] },
    });
    expect(alerts).toEqual([]);
  });
});
