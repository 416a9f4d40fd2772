// The registry: the organisation's map of departments, projects, principals, shared projects,
// reservations, partners and price overrides. Validated strictly (unknown keys are typos) with
// errors that name the file, line and field, then compiled into maps for per-job lookups.
import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from "yaml";
import { parseUsd } from "./money.ts";
import {
  BUILT_IN_PRICE_BOOK,
  canonicalReservation,
  EDITIONS,
  type Edition,
  type EditionPrice,
  mergePriceBook,
  normaliseLocation,
  type OnDemandPrice,
  type PriceBook,
  type PricingContext,
  type StoragePrice,
} from "./pricebook.ts";
import { type BillingProjectKind, UNASSIGNED } from "./types.ts";

export class ConfigError extends Error {
  readonly file: string;
  readonly line: number;
  readonly field: string;
  constructor(file: string, line: number, field: string, expected: string) {
    super(`${file}:${line}: ${field}: ${expected}`);
    this.file = file;
    this.line = line;
    this.field = field;
  }
}

export interface Department {
  id: string;
  name: string;
  projects: string[];
  principals: string[];
}

export interface Partner {
  id: string;
  domains: string[];
  billingProjects: string[];
}

export interface Registry extends PricingContext {
  domains: string[];
  departments: Department[];
  sharedProjects: { project: string; owner: string }[];
  reservations: { name: string; edition: Edition }[];
  partners: Partner[];
  /** project -> department and kind */
  readonly projectIndex: ReadonlyMap<string, { department: string; kind: BillingProjectKind }>;
  /** lower-case email or subject -> department */
  readonly exactPrincipals: ReadonlyMap<string, string>;
  /** `*@suffix` and `*.suffix` patterns, longest first */
  readonly principalPatterns: readonly { suffix: string; department: string }[];
  /** lower-case partner domain -> partner id */
  readonly partnerDomains: ReadonlyMap<string, string>;
}

const PROJECT_ID = /^(?:[a-z][a-z0-9.-]*[a-z0-9]:)?[a-z][a-z0-9-]{4,28}[a-z0-9]$/;
const DEPARTMENT_ID = /^[a-z][a-z0-9_-]{0,62}$/;
const DOMAIN = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,62}$/;
const EMAIL = /^[^\s@*]+@([a-z0-9.-]+)$/;
const PATTERN = /^\*(@|\.)([a-z0-9.-]+)$/;
const DATE = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/;
const RESERVATION = /^(projects\/[^/]+\/locations\/[^/]+\/reservations\/[^/]+|[^:/]+:[^.]+\..+)$/;

/** Walks the YAML tree with the path of each node, for messages that say where. */
class Reader {
  readonly file: string;
  readonly text: string;
  private readonly lines: LineCounter;

  constructor(file: string, text: string, lines: LineCounter) {
    this.file = file;
    this.text = text;
    this.lines = lines;
  }

  lineOf(node: Node | null | undefined, fallback = 1): number {
    const offset = node?.range?.[0];
    return offset === undefined ? fallback : this.lines.linePos(offset).line;
  }

  fail(node: Node | null | undefined, field: string, expected: string, line?: number): never {
    throw new ConfigError(this.file, line ?? this.lineOf(node), field, expected);
  }

  found(node: unknown): string {
    if (node === null || node === undefined) return "nothing";
    if (isScalar(node)) return JSON.stringify(node.value);
    if (isSeq(node)) return "a list";
    if (isMap(node)) return "a mapping";
    return "something else";
  }

  /** A mapping with only the allowed keys; returns its entries by key. */
  map(
    node: unknown,
    field: string,
    allowed: readonly string[],
    required: readonly string[] = [],
  ): Map<string, Node> {
    if (!isMap(node)) this.fail(node as Node, field, `expected a mapping, found ${this.found(node)}`);
    const entries = new Map<string, Node>();
    for (const pair of node.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : "";
      if (!allowed.includes(key)) {
        this.fail(
          pair.key as Node,
          field ? `${field}.${key}` : key,
          `unknown key (expected one of: ${allowed.join(", ")})`,
        );
      }
      entries.set(key, pair.value as Node);
    }
    for (const key of required) {
      if (!entries.has(key)) this.fail(node, field ? `${field}.${key}` : key, "required, but missing");
    }
    return entries;
  }

  list(node: unknown, field: string): Node[] {
    if (node === undefined || node === null) return [];
    if (!isSeq(node)) this.fail(node as Node, field, `expected a list, found ${this.found(node)}`);
    return node.items as Node[];
  }

  /** A scalar's text as written in the file (so 6.25 stays exactly 6.25, never a float). */
  scalar(node: unknown, field: string, pattern: RegExp, expected: string): string {
    if (!isScalar(node) || node.value === null || typeof node.value === "object") {
      this.fail(node as Node, field, `expected ${expected}, found ${this.found(node)}`);
    }
    const raw =
      typeof node.value === "string" ? node.value : this.text.slice(node.range?.[0], node.range?.[1]);
    const value = raw.trim();
    if (!pattern.test(value)) this.fail(node, field, `expected ${expected}, found "${value}"`);
    return value;
  }

  usd(node: unknown, field: string): bigint {
    const text = this.scalar(node, field, /^\d+(\.\d{1,9})?$/, "a USD amount (at most 9 decimals)");
    return parseUsd(text);
  }
}

export function parseRegistry(text: string, file: string): Registry {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  if (doc.errors.length > 0) {
    const error = doc.errors[0];
    const line = error?.linePos?.[0]?.line ?? 1;
    throw new ConfigError(
      file,
      line,
      "(YAML)",
      `not valid YAML: ${error?.message.split("\n")[0] ?? "syntax error"}`,
    );
  }
  const r = new Reader(file, text, lines);
  const top = r.map(
    doc.contents,
    "",
    ["organization", "departments", "shared_projects", "reservations", "partners", "prices"],
    ["organization", "departments"],
  );

  const org = r.map(top.get("organization"), "organization", ["domains"], ["domains"]);
  const domains = r
    .list(org.get("domains"), "organization.domains")
    .map((node, i) =>
      r.scalar(node, `organization.domains[${i}]`, DOMAIN, "a lower-case DNS domain").toLowerCase(),
    );
  if (domains.length === 0)
    r.fail(org.get("domains"), "organization.domains", "expected at least one domain");

  const projectIndex = new Map<string, { department: string; kind: BillingProjectKind }>();
  const projectLine = new Map<string, string>();
  const exactPrincipals = new Map<string, string>();
  const principalPatterns: { suffix: string; department: string }[] = [];
  const departments: Department[] = [];
  const ids = new Set<string>();

  r.list(top.get("departments"), "departments").forEach((node, i) => {
    const field = `departments[${i}]`;
    const entry = r.map(node, field, ["id", "name", "projects", "principals"], ["id"]);
    const id = r.scalar(
      entry.get("id"),
      `${field}.id`,
      DEPARTMENT_ID,
      "a department id (lower-case letters, digits, - and _)",
    );
    if (id === UNASSIGNED || id === "outside")
      r.fail(entry.get("id"), `${field}.id`, `"${id}" is reserved; choose another id`);
    if (ids.has(id)) r.fail(entry.get("id"), `${field}.id`, `duplicate department id "${id}"`);
    ids.add(id);
    const name = entry.has("name")
      ? r.scalar(entry.get("name"), `${field}.name`, /^.{1,100}$/, "a display name")
      : id;
    const projects = r.list(entry.get("projects"), `${field}.projects`).map((p, j) => {
      const pfield = `${field}.projects[${j}]`;
      const project = r.scalar(
        p,
        pfield,
        PROJECT_ID,
        "a project id (6-30 chars: lower-case letters, digits, hyphens)",
      );
      if (projectIndex.has(project))
        r.fail(p, pfield, `project ${project} is already listed at ${projectLine.get(project)}`);
      projectIndex.set(project, { department: id, kind: "department" });
      projectLine.set(project, `${pfield} (line ${r.lineOf(p)})`);
      return project;
    });
    const principals = r.list(entry.get("principals"), `${field}.principals`).map((p, j) => {
      const pfield = `${field}.principals[${j}]`;
      const value = r.scalar(
        p,
        pfield,
        /^\S+$/,
        "an email, a *@domain or *.domain pattern, or a principal:// subject",
      );
      const key = stripMemberPrefix(value).toLowerCase();
      const pattern = PATTERN.exec(key);
      if (pattern) {
        if (!DOMAIN.test(pattern[2] as string))
          r.fail(p, pfield, `expected a pattern like *@mkt.example.com, found "${value}"`);
        principalPatterns.push({ suffix: key.slice(1), department: id });
      } else if (EMAIL.test(key) || key.startsWith("principal://") || key.startsWith("principalset://")) {
        if (exactPrincipals.has(key) && exactPrincipals.get(key) !== id) {
          r.fail(p, pfield, `principal ${value} is already in department ${exactPrincipals.get(key)}`);
        }
        exactPrincipals.set(key, id);
      } else {
        r.fail(
          p,
          pfield,
          `expected an email, a *@domain or *.domain pattern, or a principal:// subject, found "${value}"`,
        );
      }
      return value;
    });
    departments.push({ id, name, projects, principals });
  });
  if (departments.length === 0)
    r.fail(top.get("departments"), "departments", "expected at least one department");

  const sharedProjects = r.list(top.get("shared_projects"), "shared_projects").map((node, i) => {
    const field = `shared_projects[${i}]`;
    const entry = r.map(node, field, ["project", "owner"], ["project", "owner"]);
    const project = r.scalar(entry.get("project"), `${field}.project`, PROJECT_ID, "a project id");
    const owner = r.scalar(entry.get("owner"), `${field}.owner`, DEPARTMENT_ID, "a department id");
    if (!ids.has(owner))
      r.fail(
        entry.get("owner"),
        `${field}.owner`,
        `expected a department id defined in departments, found "${owner}"`,
      );
    if (projectIndex.has(project)) {
      r.fail(
        entry.get("project"),
        `${field}.project`,
        `project ${project} is already listed at ${projectLine.get(project)}`,
      );
    }
    projectIndex.set(project, { department: owner, kind: "shared" });
    projectLine.set(project, `${field}.project (line ${r.lineOf(entry.get("project"))})`);
    return { project, owner };
  });

  const reservationEditions = new Map<string, Edition>();
  const reservations = r.list(top.get("reservations"), "reservations").map((node, i) => {
    const field = `reservations[${i}]`;
    const entry = r.map(node, field, ["name", "edition"], ["name", "edition"]);
    const name = r.scalar(
      entry.get("name"),
      `${field}.name`,
      RESERVATION,
      "projects/P/locations/L/reservations/R",
    );
    const edition = r.scalar(
      entry.get("edition"),
      `${field}.edition`,
      /^[a-z_]+$/,
      EDITIONS.join(", "),
    ) as Edition;
    if (!EDITIONS.includes(edition))
      r.fail(
        entry.get("edition"),
        `${field}.edition`,
        `expected one of ${EDITIONS.join(", ")}, found "${edition}"`,
      );
    reservationEditions.set(canonicalReservation(name), edition);
    return { name, edition };
  });

  const partnerDomains = new Map<string, string>();
  const partners = r.list(top.get("partners"), "partners").map((node, i) => {
    const field = `partners[${i}]`;
    const entry = r.map(node, field, ["id", "domains", "billing_projects"], ["id", "domains"]);
    const id = r.scalar(entry.get("id"), `${field}.id`, DEPARTMENT_ID, "a partner id");
    const partnerDomainList = r.list(entry.get("domains"), `${field}.domains`).map((d, j) => {
      const domain = r.scalar(d, `${field}.domains[${j}]`, DOMAIN, "a lower-case DNS domain").toLowerCase();
      if (domains.some((ours) => domain === ours || domain.endsWith(`.${ours}`))) {
        r.fail(d, `${field}.domains[${j}]`, `${domain} is one of the organization's domains`);
      }
      partnerDomains.set(domain, id);
      return domain;
    });
    const billingProjects = r
      .list(entry.get("billing_projects"), `${field}.billing_projects`)
      .map((p, j) => r.scalar(p, `${field}.billing_projects[${j}]`, PROJECT_ID, "a project id"));
    return { id, domains: partnerDomainList, billingProjects };
  });

  const priceBook = top.has("prices")
    ? mergePriceBook(BUILT_IN_PRICE_BOOK, readPrices(r, top.get("prices")))
    : BUILT_IN_PRICE_BOOK;
  principalPatterns.sort((a, b) => b.suffix.length - a.suffix.length);

  return {
    domains,
    departments,
    sharedProjects,
    reservations,
    partners,
    priceBook,
    reservationEditions,
    projectIndex,
    exactPrincipals,
    principalPatterns,
    partnerDomains,
  };
}

function readPrices(r: Reader, node: Node | undefined): Partial<PriceBook> {
  const prices = r.map(node, "prices", ["on_demand", "editions", "storage"]);
  const date = (n: Node | undefined, field: string) => {
    const value = r.scalar(n, field, DATE, "a date YYYY-MM-DD");
    return value;
  };
  const location = (n: Node | undefined, field: string) =>
    normaliseLocation(
      r.scalar(n, field, /^[A-Za-z][A-Za-z0-9-]{1,40}$/, "a location such as US, EU or europe-west1"),
    );
  const source = (entry: Map<string, Node>, field: string) =>
    entry.has("source")
      ? r.scalar(entry.get("source"), `${field}.source`, /^.{1,500}$/, "text")
      : `registry ${field}`;
  const onDemand: OnDemandPrice[] = r.list(prices.get("on_demand"), "prices.on_demand").map((n, i) => {
    const field = `prices.on_demand[${i}]`;
    const e = r.map(
      n,
      field,
      ["location", "from", "usd_per_tib", "source"],
      ["location", "from", "usd_per_tib"],
    );
    return {
      location: location(e.get("location"), `${field}.location`),
      from: date(e.get("from"), `${field}.from`),
      usdPerTib: r.usd(e.get("usd_per_tib"), `${field}.usd_per_tib`),
      source: source(e, field),
    };
  });
  const editions: EditionPrice[] = r.list(prices.get("editions"), "prices.editions").map((n, i) => {
    const field = `prices.editions[${i}]`;
    const e = r.map(
      n,
      field,
      ["edition", "location", "from", "usd_per_slot_hour", "source"],
      ["edition", "location", "from", "usd_per_slot_hour"],
    );
    const edition = r.scalar(
      e.get("edition"),
      `${field}.edition`,
      /^[a-z_]+$/,
      EDITIONS.join(", "),
    ) as Edition;
    if (!EDITIONS.includes(edition))
      r.fail(
        e.get("edition"),
        `${field}.edition`,
        `expected one of ${EDITIONS.join(", ")}, found "${edition}"`,
      );
    return {
      edition,
      location: location(e.get("location"), `${field}.location`),
      from: date(e.get("from"), `${field}.from`),
      usdPerSlotHour: r.usd(e.get("usd_per_slot_hour"), `${field}.usd_per_slot_hour`),
      source: source(e, field),
    };
  });
  const storage: StoragePrice[] = r.list(prices.get("storage"), "prices.storage").map((n, i) => {
    const field = `prices.storage[${i}]`;
    const keys = ["active_logical", "long_term_logical", "active_physical", "long_term_physical"] as const;
    const e = r.map(n, field, ["location", "from", ...keys, "source"], ["location", "from", ...keys]);
    return {
      location: location(e.get("location"), `${field}.location`),
      from: date(e.get("from"), `${field}.from`),
      activeLogical: r.usd(e.get("active_logical"), `${field}.active_logical`),
      longTermLogical: r.usd(e.get("long_term_logical"), `${field}.long_term_logical`),
      activePhysical: r.usd(e.get("active_physical"), `${field}.active_physical`),
      longTermPhysical: r.usd(e.get("long_term_physical"), `${field}.long_term_physical`),
      source: source(e, field),
    };
  });
  return { onDemand, editions, storage };
}

/** `user:`, `serviceAccount:` and `group:` prefixes as IAM and principalSubject write them. */
export function stripMemberPrefix(principal: string): string {
  const colon = principal.indexOf(":");
  if (colon > 0 && !principal.includes("://")) {
    const prefix = principal.slice(0, colon);
    if (prefix === "user" || prefix === "serviceAccount" || prefix === "group")
      return principal.slice(colon + 1);
  }
  return principal;
}

export function projectDepartment(
  registry: Registry,
  project: string,
): { department: string; kind: BillingProjectKind } {
  return registry.projectIndex.get(project) ?? { department: UNASSIGNED, kind: "unregistered" };
}

export function isOrganizationProject(registry: Registry, project: string): boolean {
  return registry.projectIndex.has(project);
}
