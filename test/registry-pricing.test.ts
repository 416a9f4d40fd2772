import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { attribute, classifyPrincipal } from "../src/core/attribute.ts";
import { formatUsd, parseUsd } from "../src/core/money.ts";
import { priceJob, priceStorageMonth } from "../src/core/pricebook.ts";
import { ConfigError, parseRegistry, projectDepartment } from "../src/core/registry.ts";
import type { TableStorage } from "../src/core/types.ts";
import { jobEvent } from "./support/jobs.ts";

const SAMPLE = readFileSync(new URL("../sample/acme/registry.yaml", import.meta.url), "utf8");
const registry = parseRegistry(SAMPLE, "registry.yaml");

function configError(text: string): ConfigError {
  try {
    parseRegistry(text, "reg.yaml");
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error("expected a ConfigError");
}

const MINIMAL = `organization:
  domains: [acme.example]
departments:
  - id: finance
    projects: [acme-fin-bi]
`;

describe("registry validation names file, line and field", () => {
  it("catches a typo'd key", () => {
    const error = configError(`${MINIMAL}    principles: [a@acme.example]\n`);
    expect([error.file, error.line, error.field]).toEqual(["reg.yaml", 6, "departments[0].principles"]);
    expect(error.message).toContain("unknown key");
  });

  it("catches a bad project id, with what was found", () => {
    const error = configError(MINIMAL.replace("acme-fin-bi", "Acme Fin"));
    expect(error.message).toBe(
      'reg.yaml:5: departments[0].projects[0]: expected a project id (6-30 chars: lower-case letters, digits, hyphens), found "Acme Fin"',
    );
  });

  it("catches a project in two departments, and a shared project owned by nobody", () => {
    const twice = configError(`${MINIMAL}  - id: sales\n    projects: [acme-fin-bi]\n`);
    expect(twice.line).toBe(7);
    expect(twice.message).toContain("already listed at departments[0].projects[0] (line 5)");
    const owner = configError(`${MINIMAL}shared_projects:\n  - { project: acme-etl, owner: nobody }\n`);
    expect([owner.line, owner.field]).toEqual([7, "shared_projects[0].owner"]);
  });

  it("catches duplicate departments, unknown editions, bad dates and missing sections", () => {
    expect(configError(`${MINIMAL}  - id: finance\n`).message).toContain('duplicate department id "finance"');
    const edition = configError(
      `${MINIMAL}reservations:\n  - { name: projects/p-proj1/locations/US/reservations/r, edition: gold }\n`,
    );
    expect(edition.field).toBe("reservations[0].edition");
    const date = configError(
      `${MINIMAL}prices:\n  on_demand: [{ location: US, from: 2023-13-01, usd_per_tib: 6.25 }]\n`,
    );
    expect(date.field).toBe("prices.on_demand[0].from");
    expect(configError("departments: []\n").field).toBe("organization");
    expect(configError("organization: [\n").message).toContain("not valid YAML");
  });

  it("rejects a partner domain that is the organisation's own", () => {
    const error = configError(`${MINIMAL}partners:\n  - { id: px, domains: [eu.acme.example] }\n`);
    expect(error.message).toContain("one of the organization's domains");
  });
});

describe("attribution", () => {
  it("maps explicit principals, patterns, service accounts, the organisation, partners and outsiders", () => {
    expect(classifyPrincipal("alice@acme.example", registry)).toEqual({
      department: "marketing",
      kind: "registered",
    });
    expect(classifyPrincipal("Bob@MKT.acme.example", registry)).toEqual({
      department: "marketing",
      kind: "registered",
    });
    expect(classifyPrincipal("user:carol@acme.example", registry)).toEqual({
      department: "finance",
      kind: "registered",
    });
    expect(classifyPrincipal("loader@acme-fin-bi.iam.gserviceaccount.com", registry)).toEqual({
      department: "finance",
      kind: "service_account",
    });
    // a shared project's service account belongs to its owner
    expect(classifyPrincipal("etl-runner@acme-etl.iam.gserviceaccount.com", registry).department).toBe(
      "platform",
    );
    expect(classifyPrincipal("intern@acme.example", registry)).toEqual({
      department: "unassigned",
      kind: "organization",
    });
    expect(classifyPrincipal("x@eu.acme.example", registry).kind).toBe("organization");
    expect(classifyPrincipal("pat@partner-x.example", registry)).toEqual({
      department: "external:partner-x.example",
      kind: "partner",
      partner: "partner-x",
    });
    expect(classifyPrincipal("eve@gmail.com", registry)).toEqual({
      department: "external:gmail.com",
      kind: "external",
    });
    expect(classifyPrincipal("someone@notacme.example", registry).kind).toBe("external");
    expect(classifyPrincipal("", registry)).toEqual({ department: "unassigned", kind: "unknown" });
  });

  it("lets an exact principal beat a pattern, and the longest pattern win", () => {
    const reg = parseRegistry(
      `organization: { domains: [acme.example] }
departments:
  - { id: a, projects: [proj-aaaa], principals: ["*@acme.example"] }
  - { id: b, projects: [proj-bbbb], principals: ["*@x.acme.example"] }
  - { id: c, projects: [proj-cccc], principals: [boss@x.acme.example] }
`,
      "r.yaml",
    );
    expect(classifyPrincipal("joe@acme.example", reg).department).toBe("a");
    expect(classifyPrincipal("joe@x.acme.example", reg).department).toBe("b");
    expect(classifyPrincipal("boss@x.acme.example", reg).department).toBe("c");
  });

  it("attributes a job: payer, consumer, data projects and their owners", () => {
    const attribution = attribute(
      jobEvent({
        billingProject: "acme-etl",
        principal: "mkt-loader@acme-mkt-bi.iam.gserviceaccount.com",
        referencedTables: [
          "projects/acme-fin-lake/datasets/ledger/tables/invoices",
          "projects/px-data/datasets/sales/tables/orders",
          "projects/acme-fin-lake/datasets/ledger/tables/entries",
        ],
      }),
      registry,
    );
    expect(attribution).toEqual({
      payerDepartment: "platform",
      consumerDepartment: "marketing",
      billingProjectKind: "shared",
      principalKind: "service_account",
      dataProjects: ["acme-fin-lake", "px-data"],
      dataOwnerDepartments: ["finance", "outside"],
    });
    expect(projectDepartment(registry, "acme-sandbox-42")).toEqual({
      department: "unassigned",
      kind: "unregistered",
    });
  });
});

describe("the price book", () => {
  const TIB = 2n ** 40n;

  it("prices on-demand bytes as logged, at the price in force on the end day", () => {
    const before = priceJob(jobEvent({ billedBytes: TIB, endTime: "2023-07-04T23:00:00Z" }), registry);
    const after = priceJob(jobEvent({ billedBytes: TIB, endTime: "2023-07-05T00:00:00Z" }), registry);
    expect([before.computeCost, after.computeCost]).toEqual([parseUsd("5"), parseUsd("6.25")]);
    expect(after.basis).toContain("6.25 USD/TiB");
    // BigQuery already rounded to the MiB with the 10 MiB minimum: 10 MiB is charged as 10 MiB, not again
    const small = priceJob(
      jobEvent({ billedBytes: 10n * 2n ** 20n, endTime: "2026-10-01T00:00:00Z" }),
      registry,
    );
    expect(small.computeCost).toBe(59_605n); // 10 MiB x 6.25 USD / TiB = 0.0000596046... USD
    // the google-cloudevents capture: 1450180608 B at 5 USD/TiB in 2021
    const real = priceJob(
      jobEvent({ billedBytes: 1450180608n, endTime: "2021-11-25T21:56:00.236Z" }),
      registry,
    );
    expect(formatUsd(real.computeCost)).toBe("0.006595");
  });

  it("prices regions at their own rate and says when it falls back to US", () => {
    const tokyo = priceJob(
      jobEvent({ billedBytes: TIB, location: "asia-northeast1", endTime: "2026-10-01T00:00:00Z" }),
      registry,
    );
    expect(tokyo.computeCost).toBe(parseUsd("7.5"));
    const unknown = priceJob(
      jobEvent({ billedBytes: TIB, location: "mars-north1", endTime: "2026-10-01T00:00:00Z" }),
      registry,
    );
    expect(unknown.computeCost).toBe(parseUsd("6.25"));
    expect(unknown.basis).toContain("US price (no mars-north1 price)");
  });

  it("prices reservation jobs by slot-ms at the edition's rate, in either name form", () => {
    const hour = 3_600_000n;
    for (const reservation of [
      "projects/acme-platform/locations/US/reservations/prod",
      "acme-platform:US.prod",
    ]) {
      const priced = priceJob(
        jobEvent({ reservation, slotMs: 10n * hour, billedBytes: TIB, endTime: "2026-10-01T00:00:00Z" }),
        registry,
      );
      expect(priced).toMatchObject({ pricingModel: "reservation", computeCost: parseUsd("0.6") });
    }
    const unknown = priceJob(
      jobEvent({ reservation: "projects/x-proj1/locations/US/reservations/adhoc", slotMs: hour }),
      registry,
    );
    expect(unknown).toMatchObject({ pricingModel: "unpriced", computeCost: 0n });
    expect(unknown.basis).toContain("not in the registry");
  });

  it("charges nothing for script parents, cache hits, dry runs and free operations", () => {
    const costly = { billedBytes: TIB, slotMs: 1000n };
    expect(priceJob(jobEvent({ ...costly, statementType: "SCRIPT" }), registry).pricingModel).toBe(
      "script_parent",
    );
    expect(priceJob(jobEvent({ ...costly, cacheHit: true }), registry).pricingModel).toBe("cache_hit");
    expect(priceJob(jobEvent({ ...costly, dryRun: true }), registry).pricingModel).toBe("not_billed");
    expect(priceJob(jobEvent({ ...costly, jobType: "IMPORT" }), registry)).toMatchObject({
      pricingModel: "free_operation",
      computeCost: 0n,
    });
    // a failed job costs what it billed
    expect(
      priceJob(jobEvent({ billedBytes: 0n, error: { code: 5, message: "x" } }), registry).computeCost,
    ).toBe(0n);
  });

  it("marks a query whose billed bytes were hidden as unpriced, never as free", () => {
    const hidden = priceJob(
      jobEvent({ billedBytes: 0n, billedBytesPresent: false, processedBytes: 123456n }),
      registry,
    );
    expect(hidden.pricingModel).toBe("unpriced");
    expect(hidden.basis).toContain("hidden");
  });

  it("takes price overrides from the registry, exactly", () => {
    const reg = parseRegistry(
      `${MINIMAL}prices:\n  on_demand:\n    - { location: US, from: 2026-01-01, usd_per_tib: 5.123456789 }\n`,
      "r.yaml",
    );
    expect(priceJob(jobEvent({ billedBytes: TIB, endTime: "2026-10-01T00:00:00Z" }), reg).computeCost).toBe(
      5_123_456_789n,
    );
    expect(priceJob(jobEvent({ billedBytes: TIB, endTime: "2025-10-01T00:00:00Z" }), reg).computeCost).toBe(
      parseUsd("6.25"),
    );
  });

  it("prices a table's month of storage by its dataset's billing model", () => {
    const gib = 2n ** 30n;
    const table: TableStorage = {
      projectId: "acme-fin-lake",
      dataset: "ledger",
      table: "entries",
      location: "US",
      billingModel: "LOGICAL",
      activeLogicalBytes: 100n * gib,
      longTermLogicalBytes: 50n * gib,
      activePhysicalBytes: 30n * gib,
      longTermPhysicalBytes: 10n * gib,
      timeTravelPhysicalBytes: 5n * gib,
      failSafePhysicalBytes: 2n * gib,
      source: { file: "s", line: 2 },
    };
    // 100 x 0.02 + 50 x 0.01
    expect(priceStorageMonth(table, registry, "2026-10-01")).toBe(parseUsd("2.5"));
    // (30 + 2) x 0.04 + 10 x 0.02: time travel is inside active physical, fail-safe is added
    expect(priceStorageMonth({ ...table, billingModel: "PHYSICAL" }, registry, "2026-10-01")).toBe(
      parseUsd("1.48"),
    );
  });
});
