import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { attribute, classifyPrincipal } from "../src/core/attribute.ts";
import { parseEntry } from "../src/core/parse.ts";
import { parseRegistry } from "../src/core/registry.ts";
import type { JobEvent } from "../src/core/types.ts";
import { jobEvent } from "./support/jobs.ts";

const registry = parseRegistry(
  `organization:
  domains: [acme.example, acme-corp.example]
departments:
  - id: marketing
    projects: [acme-mkt-bi]
    principals:
      - alice@acme.example
      - "*@mkt.acme.example"
      - principal://iam.googleapis.com/locations/global/workforcePools/acme/subject/Alice.Smith
  - id: finance
    projects: [acme-fin-bi, acme-fin-lake]
    principals:
      - boss@mkt.acme.example
      - "*.acme.example"
      - "fin-*@acme.example"
      - borrowed@acme-mkt-bi.iam.gserviceaccount.com
  - id: platform
    projects: [acme-platform]
    principals: ["ops-*@acme.example"]
  - id: data-science
    projects: [acme-ds-bi]
    principals: ["*.ds.acme.example", "*-bot@acme.example"]
shared_projects:
  - { project: acme-etl, owner: platform }
partners:
  - id: partner-x
    domains: [partner-x.example]
    billing_projects: [px-analytics]
`,
  "registry.yaml",
);

const classify = (principal: string) => classifyPrincipal(principal, registry);

describe("classifyPrincipal: registered principals and patterns", () => {
  it("maps an explicit email, whatever its case or IAM prefix", () => {
    for (const principal of ["alice@acme.example", "ALICE@Acme.Example", "user:alice@acme.example"]) {
      expect(classify(principal)).toEqual({ department: "marketing", kind: "registered" });
    }
  });

  it("maps everyone of a *@domain pattern's domain, not its subdomains", () => {
    expect(classify("joe@mkt.acme.example")).toEqual({ department: "marketing", kind: "registered" });
    // *.acme.example (finance) covers eu.mkt.acme.example; *@mkt.acme.example does not
    expect(classify("joe@eu.mkt.acme.example").department).toBe("finance");
  });

  it("maps subdomains for *.domain, but not the domain itself", () => {
    expect(classify("joe@eu.acme.example")).toEqual({ department: "finance", kind: "registered" });
    expect(classify("joe@acme.example")).toEqual({ department: "unassigned", kind: "organization" });
  });

  it("lets an exact principal beat any pattern", () => {
    // boss@mkt.acme.example matches *@mkt.acme.example (marketing) but is listed under finance
    expect(classify("boss@mkt.acme.example").department).toBe("finance");
  });

  it("lets the most specific pattern win", () => {
    // *@mkt.acme.example (17 literal characters) beats *.acme.example (= *@*.acme.example, 14)
    expect(classify("ann@mkt.acme.example").department).toBe("marketing");
    // *.ds.acme.example is nearer than *.acme.example
    expect(classify("ann@lab.ds.acme.example").department).toBe("data-science");
  });

  it("matches globs in the local part, the earlier pattern winning a tie", () => {
    expect(classify("fin-reports@acme.example").department).toBe("finance");
    expect(classify("ci-bot@acme.example").department).toBe("data-science");
    // ops-*@acme.example and *-bot@acme.example have 17 literal characters each: platform comes first
    expect(classify("ops-bot@acme.example").department).toBe("platform");
  });
});

describe("classifyPrincipal: service accounts", () => {
  it("maps a registered project's service account to its department", () => {
    expect(classify("loader@acme-fin-bi.iam.gserviceaccount.com")).toEqual({
      department: "finance",
      kind: "service_account",
    });
    expect(classify("serviceAccount:loader@acme-fin-lake.iam.gserviceaccount.com").department).toBe(
      "finance",
    );
  });

  it("maps a shared project's service account to the owner", () => {
    expect(classify("runner@acme-etl.iam.gserviceaccount.com")).toEqual({
      department: "platform",
      kind: "service_account",
    });
  });

  it("lets an explicit listing override the project's department", () => {
    expect(classify("borrowed@acme-mkt-bi.iam.gserviceaccount.com")).toEqual({
      department: "finance",
      kind: "registered",
    });
  });

  it("counts a partner billing project's service account as the partner's", () => {
    expect(classify("etl@px-analytics.iam.gserviceaccount.com")).toEqual({
      department: "external:px-analytics.iam.gserviceaccount.com",
      kind: "partner",
      partner: "partner-x",
    });
  });

  it("treats a service account of an unknown project as external, named by its domain", () => {
    expect(classify("x@other-proj.iam.gserviceaccount.com")).toEqual({
      department: "external:other-proj.iam.gserviceaccount.com",
      kind: "external",
    });
  });
});

describe("classifyPrincipal: organisation, partners, outsiders, unknowns", () => {
  it("leaves organisation principals without a department unassigned", () => {
    expect(classify("intern@acme.example")).toEqual({ department: "unassigned", kind: "organization" });
    expect(classify("x@eu.acme-corp.example")).toEqual({ department: "unassigned", kind: "organization" });
  });

  it("does not mistake look-alike domains for ours", () => {
    expect(classify("x@notacme.example")).toEqual({
      department: "external:notacme.example",
      kind: "external",
    });
    expect(classify("x@acme.example.evil.test").kind).toBe("external");
  });

  it("names a partner's principals by their domain, with the partner id", () => {
    expect(classify("pat@partner-x.example")).toEqual({
      department: "external:partner-x.example",
      kind: "partner",
      partner: "partner-x",
    });
    expect(classify("pat@eu.partner-x.example")).toMatchObject({
      department: "external:eu.partner-x.example",
      partner: "partner-x",
    });
  });

  it("names any other principal external:<domain>, in lower case", () => {
    expect(classify("Eve@GMail.com")).toEqual({ department: "external:gmail.com", kind: "external" });
  });

  it("leaves redacted and unregistered subjects unassigned and unknown", () => {
    const unknown = { department: "unassigned", kind: "unknown" };
    expect(classify("")).toEqual(unknown);
    expect(classify("not-an-email")).toEqual(unknown);
    expect(
      classify(
        "principal://iam.googleapis.com/projects/123/locations/global/workloadIdentityPools/p/subject/x",
      ),
    ).toEqual(unknown);
  });

  it("maps a registered federated subject, compared as written", () => {
    const subject = "principal://iam.googleapis.com/locations/global/workforcePools/acme/subject/Alice.Smith";
    expect(classify(subject)).toEqual({ department: "marketing", kind: "registered" });
    // the subject part comes from the identity provider, where case can matter
    expect(classify(subject.replace("Alice.Smith", "alice.smith")).kind).toBe("unknown");
  });

  it("remembers answers per registry", () => {
    expect(classify("ann@mkt.acme.example")).toBe(classify("ann@mkt.acme.example"));
    const other = parseRegistry(
      `organization: { domains: [acme.example] }\ndepartments:\n  - { id: sales, principals: ["*@mkt.acme.example"] }\n`,
      "other.yaml",
    );
    expect(classifyPrincipal("ann@mkt.acme.example", other).department).toBe("sales");
    expect(classify("ann@mkt.acme.example").department).toBe("marketing");
  });
});

describe("attribute", () => {
  const fixture = (path: string): JobEvent => {
    const text = readFileSync(new URL(`./fixtures/${path}`, import.meta.url), "utf8");
    const parsed = parseEntry(JSON.parse(text), text, { file: path, line: 1 });
    if (parsed.kind !== "job") throw new Error(`${path} did not parse as a job: ${JSON.stringify(parsed)}`);
    return parsed;
  };

  it("attributes Google's v1 capture: a service account of the billing project reading public data", () => {
    const job = fixture("entries/v1-jobcompleted.google-cloudevents.json");
    const research = parseRegistry(
      "organization: { domains: [acme.example] }\ndepartments:\n  - { id: research, projects: [test-project] }\n",
      "r.yaml",
    );
    expect(attribute(job, research)).toEqual({
      payerDepartment: "research",
      consumerDepartment: "research",
      billingProjectKind: "department",
      principalKind: "service_account",
      dataProjects: ["bigquery-samples"],
      dataOwnerDepartments: ["outside"],
    });
  });

  it("attributes a v2 jobChange of a partner principal billed to our project", () => {
    const job = fixture("functions/v2-jobchange-done.json");
    expect(attribute(job, registry)).toEqual({
      payerDepartment: "finance",
      consumerDepartment: "external:partner-x.example",
      billingProjectKind: "department",
      principalKind: "partner",
      partner: "partner-x",
      dataProjects: ["px-data"],
      dataOwnerDepartments: ["outside"],
    });
  });

  it("lists data projects and their owners sorted and once each", () => {
    const attribution = attribute(
      jobEvent({
        billingProject: "acme-etl",
        principal: "ann@mkt.acme.example",
        referencedTables: [
          "projects/acme-fin-lake/datasets/ledger/tables/invoices",
          "projects/px-data/datasets/sales/tables/orders",
          "projects/acme-fin-lake/datasets/ledger/tables/entries",
          "projects/acme-etl/datasets/staging/tables/orders",
          "projects/acme-fin-bi/datasets/marts/tables/revenue",
        ],
      }),
      registry,
    );
    expect(attribution).toEqual({
      payerDepartment: "platform",
      consumerDepartment: "marketing",
      billingProjectKind: "shared",
      principalKind: "registered",
      dataProjects: ["acme-etl", "acme-fin-bi", "acme-fin-lake", "px-data"],
      dataOwnerDepartments: ["finance", "outside", "platform"],
    });
  });

  it("charges an unregistered billing project to nobody, and a redacted principal to unassigned", () => {
    const attribution = attribute(jobEvent({ billingProject: "acme-sandbox-42", principal: "" }), registry);
    expect(attribution).toMatchObject({
      payerDepartment: "unassigned",
      billingProjectKind: "unregistered",
      consumerDepartment: "unassigned",
      principalKind: "unknown",
      dataProjects: [],
      dataOwnerDepartments: [],
    });
    expect(attribution).not.toHaveProperty("partner");
  });
});
