import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseUsd } from "../src/core/money.ts";
import { onDemandPriceOn } from "../src/core/pricebook.ts";
import { isOrganizationProject, parseRegistry, projectDepartment } from "../src/core/registry.ts";
import { configError } from "./support/config-error.ts";

/** Lines joined, so each test can count the line its mistake is on. */
const yaml = (...lines: string[]) => `${lines.join("\n")}\n`;

const HEAD = [
  "organization:",
  "  domains: [acme.example]",
  "departments:",
  "  - id: finance",
  "    projects: [acme-fin-bi]",
];

describe("parseRegistry on the documented example", () => {
  const text = readFileSync(new URL("../sample/registry.example.yaml", import.meta.url), "utf8");
  const registry = parseRegistry(text, "registry.example.yaml");

  it("reads every section", () => {
    expect(registry.domains).toEqual(["acme.example"]);
    expect(registry.departments.map((d) => [d.id, d.name])).toEqual([
      ["marketing", "Marketing"],
      ["finance", "finance"], // no name: the id
      ["platform", "Platform engineering"],
    ]);
    expect(registry.departments[0]?.principals).toContain("*@mkt.acme.example");
    expect(registry.sharedProjects).toEqual([{ project: "acme-etl", owner: "platform" }]);
    expect(registry.reservations).toEqual([
      {
        name: "projects/acme-platform/locations/US/reservations/prod",
        edition: "enterprise",
        idle: "pro_rata",
      },
    ]);
    expect(registry.partners).toEqual([
      {
        id: "partner-x",
        name: "Partner X Ltd",
        domains: ["partner-x.example"],
        billingProjects: ["px-analytics"],
      },
    ]);
  });

  it("maps projects to their paying department", () => {
    expect(projectDepartment(registry, "acme-mkt-lake")).toEqual({
      department: "marketing",
      kind: "department",
    });
    expect(projectDepartment(registry, "acme-etl")).toEqual({ department: "platform", kind: "shared" });
    expect(projectDepartment(registry, "px-analytics")).toEqual({
      department: "unassigned",
      kind: "unregistered",
    });
    expect(isOrganizationProject(registry, "acme-etl")).toBe(true);
    expect(isOrganizationProject(registry, "acme-fin-bi")).toBe(true);
    // a partner's billing project is theirs, not ours
    expect(isOrganizationProject(registry, "px-analytics")).toBe(false);
  });
});

describe("prices in the registry are read exactly, from the text", () => {
  const priceOf = (written: string) => {
    const registry = parseRegistry(
      yaml(...HEAD, "prices:", `  on_demand: [{ location: us, from: 2030-01-01, usd_per_tib: ${written} }]`),
      "r.yaml",
    );
    return onDemandPriceOn(registry.priceBook, "US", "2030-01-01")?.price.usdPerTib;
  };

  it("keeps a YAML number 6.25 as exactly 6.25 USD", () => {
    expect(priceOf("6.25")).toBe(6_250_000_000n);
  });

  it("keeps numbers a binary float cannot hold", () => {
    // 0.1 has no exact binary form; 2^53 + 1 is the first integer a double rounds away.
    expect(priceOf("0.1")).toBe(100_000_000n);
    expect(priceOf("9007199254740993")).toBe(9_007_199_254_740_993n * 1_000_000_000n);
    expect(priceOf("5.123456789")).toBe(5_123_456_789n);
  });

  it("accepts quoted amounts the same way", () => {
    expect(priceOf('"6.25"')).toBe(parseUsd("6.25"));
  });

  it("replaces the built-in entry of the same location and date, and keeps the others", () => {
    const registry = parseRegistry(
      yaml(...HEAD, "prices:", "  on_demand: [{ location: US, from: 2023-07-05, usd_per_tib: 7 }]"),
      "r.yaml",
    );
    expect(onDemandPriceOn(registry.priceBook, "US", "2024-01-01")?.price).toMatchObject({
      usdPerTib: parseUsd("7"),
      source: "registry prices.on_demand[0]",
    });
    expect(onDemandPriceOn(registry.priceBook, "US", "2023-07-04")?.price.usdPerTib).toBe(parseUsd("5"));
  });
});

describe("registry errors name the file, the line and the field", () => {
  it("reports a bad project id with what it found", () => {
    const error = configError(yaml(...HEAD, "  - id: marketing", "    projects: [Acme Mkt]"));
    expect(error.message).toBe(
      'registry.yaml:7: departments[1].projects[0]: expected a project id (6-30 chars: lower-case letters, digits, hyphens; optionally domain-scoped, example.com:p), found "Acme Mkt"',
    );
    expect([error.file, error.line, error.field]).toEqual(["registry.yaml", 7, "departments[1].projects[0]"]);
  });

  const cases: { name: string; text: string; line: number; field: string; says: string }[] = [
    {
      name: "a typo'd key, with a suggestion",
      text: yaml(...HEAD, "    principles: [a@acme.example]"),
      line: 6,
      field: "departments[0].principles",
      says: "unknown key (did you mean principals?)",
    },
    {
      name: "an unknown top-level key",
      text: yaml(...HEAD, "reservation:", "  - { name: a-proj1:US.r, edition: standard }"),
      line: 6,
      field: "reservation",
      says: "did you mean reservations?",
    },
    {
      name: "a list written as a scalar",
      text: yaml("organization:", "  domains: acme.example", "departments: []"),
      line: 2,
      field: "organization.domains",
      says: 'expected a list, found "acme.example"',
    },
    {
      name: "a department that is not a mapping",
      text: yaml("organization:", "  domains: [acme.example]", "departments:", "  - finance"),
      line: 4,
      field: "departments[0]",
      says: 'expected a mapping, found "finance"',
    },
    {
      name: "a missing required key",
      text: yaml("departments:", "  - { id: finance }"),
      line: 1,
      field: "organization",
      says: "required, but missing",
    },
    {
      name: "no departments at all",
      text: yaml("organization:", "  domains: [acme.example]", "departments: []"),
      line: 3,
      field: "departments",
      says: "at least one department",
    },
    {
      name: "a duplicate department id",
      text: yaml(...HEAD, "  - id: finance"),
      line: 6,
      field: "departments[1].id",
      says: 'duplicate department id "finance"',
    },
    {
      name: "a reserved department id",
      text: yaml(...HEAD, "  - id: unassigned"),
      line: 6,
      field: "departments[1].id",
      says: '"unassigned" is reserved',
    },
    {
      name: "a project in two departments",
      text: yaml(...HEAD, "  - id: sales", "    projects: [acme-sales-bi, acme-fin-bi]"),
      line: 7,
      field: "departments[1].projects[1]",
      says: "project acme-fin-bi is already listed at departments[0].projects[0] (line 5)",
    },
    {
      name: "a project both a department's and shared",
      text: yaml(...HEAD, "shared_projects:", "  - { project: acme-fin-bi, owner: finance }"),
      line: 7,
      field: "shared_projects[0].project",
      says: "already listed at departments[0].projects[0] (line 5)",
    },
    {
      name: "a shared project whose owner is not a department",
      text: yaml(...HEAD, "shared_projects:", "  - { project: acme-etl, owner: platform }"),
      line: 7,
      field: "shared_projects[0].owner",
      says: 'expected a department id defined under departments, found "platform"',
    },
    {
      name: "an unknown edition",
      text: yaml(
        ...HEAD,
        "reservations:",
        "  - name: projects/acme-platform/locations/US/reservations/prod",
        "    edition: gold",
      ),
      line: 8,
      field: "reservations[0].edition",
      says: 'expected one of standard, enterprise, enterprise_plus, found "gold"',
    },
    {
      name: "one reservation listed twice under its two name forms",
      text: yaml(
        ...HEAD,
        "reservations:",
        "  - { name: projects/acme-platform/locations/US/reservations/prod, edition: standard }",
        "  - { name: acme-platform:us.prod, edition: enterprise }",
      ),
      line: 8,
      field: "reservations[1].name",
      says: "listed twice",
    },
    {
      name: "an unknown edition in prices",
      text: yaml(
        ...HEAD,
        "prices:",
        "  editions:",
        "    - { edition: Enterprise, location: US, from: 2024-01-01, usd_per_slot_hour: 0.05 }",
      ),
      line: 8,
      field: "prices.editions[0].edition",
      says: 'found "Enterprise"',
    },
    {
      name: "a month that does not exist",
      text: yaml(...HEAD, "prices:", "  on_demand: [{ location: US, from: 2023-13-01, usd_per_tib: 6.25 }]"),
      line: 7,
      field: "prices.on_demand[0].from",
      says: 'expected a date YYYY-MM-DD, found "2023-13-01"',
    },
    {
      name: "a day that does not exist",
      text: yaml(
        ...HEAD,
        "prices:",
        "  on_demand:",
        "    - location: US",
        "      from: 2023-02-29",
        "      usd_per_tib: 6.25",
      ),
      line: 9,
      field: "prices.on_demand[0].from",
      says: '"2023-02-29"',
    },
    {
      name: "a price with a thousand separator",
      text: yaml(
        ...HEAD,
        "prices:",
        '  on_demand: [{ location: US, from: 2024-01-01, usd_per_tib: "6,25" }]',
      ),
      line: 7,
      field: "prices.on_demand[0].usd_per_tib",
      says: 'expected a USD amount such as 6.25 (at most 9 decimals), found "6,25"',
    },
    {
      name: "a price finer than a nano-dollar",
      text: yaml(
        ...HEAD,
        "prices:",
        "  on_demand: [{ location: US, from: 2024-01-01, usd_per_tib: 0.0000000001 }]",
      ),
      line: 7,
      field: "prices.on_demand[0].usd_per_tib",
      says: 'found "0.0000000001"',
    },
    {
      name: "a negative price",
      text: yaml(
        ...HEAD,
        "prices:",
        "  storage:",
        "    - location: US",
        "      from: 2024-01-01",
        "      active_logical: -0.02",
        "      long_term_logical: 0.01",
        "      active_physical: 0.04",
        "      long_term_physical: 0.02",
      ),
      line: 10,
      field: "prices.storage[0].active_logical",
      says: 'found "-0.02"',
    },
    {
      name: "a storage price with a class missing",
      text: yaml(
        ...HEAD,
        "prices:",
        "  storage:",
        "    - { location: US, from: 2024-01-01, active_logical: 0.02 }",
      ),
      line: 8,
      field: "prices.storage[0].long_term_logical",
      says: "required, but missing",
    },
    {
      name: "two prices for the same location and day",
      text: yaml(
        ...HEAD,
        "prices:",
        "  on_demand:",
        "    - { location: US, from: 2024-01-01, usd_per_tib: 6 }",
        "    - { location: us, from: 2024-01-01, usd_per_tib: 7 }",
      ),
      line: 9,
      field: "prices.on_demand[1]",
      says: "duplicate entry",
    },
    {
      name: "an email without a domain",
      text: yaml(...HEAD, "    principals: [carol@acme.example, bob@]"),
      line: 6,
      field: "departments[0].principals[1]",
      says: 'found "bob@"',
    },
    {
      name: "a name that is no email",
      text: yaml(...HEAD, "    principals: [bob]"),
      line: 6,
      field: "departments[0].principals[0]",
      says: "expected an email, a pattern such as *@mkt.acme.example",
    },
    {
      name: "a pattern without a domain",
      text: yaml(...HEAD, '    principals: ["*@"]'),
      line: 6,
      field: "departments[0].principals[0]",
      says: 'found "*@"',
    },
    {
      name: "a wildcard inside a domain",
      text: yaml(...HEAD, '    principals: ["*@acme.*"]'),
      line: 6,
      field: "departments[0].principals[0]",
      says: 'found "*@acme.*"',
    },
    {
      name: "a principal in two departments (case aside)",
      text: yaml(
        ...HEAD,
        "    principals: [carol@acme.example]",
        "  - id: sales",
        "    principals: [Carol@ACME.example]",
      ),
      line: 8,
      field: "departments[1].principals[0]",
      says: "Carol@ACME.example is already in department finance",
    },
    {
      name: "a pattern in two departments",
      text: yaml(
        ...HEAD,
        '    principals: ["*@fin.acme.example"]',
        "  - id: sales",
        '    principals: ["*@fin.acme.example"]',
      ),
      line: 8,
      field: "departments[1].principals[0]",
      says: "already in department finance",
    },
    {
      name: "a partner domain inside the organisation",
      text: yaml(...HEAD, "partners:", "  - { id: px, domains: [eu.acme.example] }"),
      line: 7,
      field: "partners[0].domains[0]",
      says: "eu.acme.example is one of the organization's domains",
    },
    {
      name: "a partner billing project that is ours",
      text: yaml(
        ...HEAD,
        "partners:",
        "  - id: px",
        "    domains: [partner-x.example]",
        "    billing_projects: [acme-fin-bi]",
      ),
      line: 9,
      field: "partners[0].billing_projects[0]",
      says: "project acme-fin-bi is ours",
    },
    {
      name: "a duplicate partner id",
      text: yaml(
        ...HEAD,
        "partners:",
        "  - { id: px, domains: [px.example] }",
        "  - { id: px, domains: [py.example] }",
      ),
      line: 8,
      field: "partners[1].id",
      says: 'duplicate partner id "px"',
    },
    {
      name: "an unquoted pattern (YAML reads * as an alias)",
      text: yaml(...HEAD, "    principals: [*@fin.acme.example]"),
      line: 6,
      field: "departments[0].principals[0]",
      says: "*@fin.acme.example is read as a YAML alias to a missing anchor: quote values that start with *",
    },
    {
      name: "a YAML syntax error",
      text: yaml("organization:", "  domains: [acme.example", "departments: []"),
      line: 3,
      field: "(YAML)",
      says: "not valid YAML",
    },
    {
      name: "an empty file",
      text: "",
      line: 1,
      field: "(top level)",
      says: "expected a mapping, found nothing",
    },
  ];

  for (const c of cases) {
    it(`catches ${c.name}`, () => {
      const error = configError(c.text, "reg.yaml");
      expect(error.message).toContain(c.says);
      expect({ file: error.file, line: error.line, field: error.field }).toEqual({
        file: "reg.yaml",
        line: c.line,
        field: c.field,
      });
      expect(error.message.startsWith(`reg.yaml:${c.line}: ${c.field}: `)).toBe(true);
    });
  }

  it("resolves YAML anchors and aliases instead of rejecting them", () => {
    const registry = parseRegistry(
      yaml(
        ...HEAD,
        "reservations:",
        "  - { name: acme-platform:US.prod, edition: &edition enterprise }",
        "  - { name: acme-platform:US.batch, edition: *edition }",
      ),
      "r.yaml",
    );
    expect(registry.reservations.map((r) => r.edition)).toEqual(["enterprise", "enterprise"]);
  });
});
