// The registry: the organisation's map of departments, projects, principals, shared projects,
// reservations, partners and price overrides. Validated strictly (an unknown key is a typo) with
// errors that name the file, line and field, then compiled into maps for per-job lookups.
// sample/registry.example.yaml documents every key.
import { type Document, isAlias, isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from "yaml";
import { parseUsd } from "./money.ts";
import { isIsoDate } from "./period.ts";
import {
  BUILT_IN_PRICE_BOOK,
  canonicalReservation,
  EDITIONS,
  type Edition,
  type EditionPrice,
  editionKey,
  mergePriceBook,
  normaliseLocation,
  type OnDemandPrice,
  onDemandKey,
  type PriceBook,
  type PricingContext,
  type StoragePrice,
  storageKey,
} from "./pricebook.ts";
import { type BillingProjectKind, UNASSIGNED } from "./types.ts";

/** A registry mistake, located: `registry.yaml:7: departments[1].projects[0]: expected ..., found "..."`. */
export class ConfigError extends Error {
  readonly file: string;
  readonly line: number;
  readonly field: string;
  constructor(file: string, line: number, field: string, problem: string) {
    super(`${file}:${line}: ${field}: ${problem}`);
    this.name = "ConfigError";
    this.file = file;
    this.line = line;
    this.field = field;
  }
}

export interface Department {
  readonly id: string;
  /** Display name; the id when the registry gives none. */
  readonly name: string;
  readonly projects: readonly string[];
  /** As written: emails, patterns, principal:// subjects. */
  readonly principals: readonly string[];
}

/** A project any department may use: the owner pays, the consumer is charged back. */
export interface SharedProject {
  readonly project: string;
  readonly owner: string;
}

export interface Reservation {
  /** As written in the registry. */
  readonly name: string;
  readonly edition: Edition;
}

/** An outside organisation we share data with. */
export interface Partner {
  readonly id: string;
  readonly name: string;
  readonly domains: readonly string[];
  /** Where their jobs that read our data are expected to run. */
  readonly billingProjects: readonly string[];
}

export interface ProjectOwner {
  readonly department: string;
  readonly kind: BillingProjectKind;
}

/** A principal glob other than the plain `*@domain` and `*.domain` forms, e.g. `etl-*@acme.example`. */
export interface PrincipalGlob {
  /** Canonical, lower case: `etl-*@acme.example`. */
  readonly pattern: string;
  readonly regex: RegExp;
  readonly department: string;
  /** How many literal characters it has: among matching patterns the most specific wins. */
  readonly specificity: number;
  /** Position in the file: the earlier wins between equally specific patterns. */
  readonly order: number;
}

export interface PatternTarget {
  readonly department: string;
  readonly specificity: number;
  readonly order: number;
}

/** The registry, validated and compiled. Everything is read-only. */
export interface Registry extends PricingContext {
  /** Organisation domains, lower case: principals of these domains and their subdomains are ours. */
  readonly domains: readonly string[];
  readonly departments: readonly Department[];
  readonly sharedProjects: readonly SharedProject[];
  readonly reservations: readonly Reservation[];
  readonly partners: readonly Partner[];
  /** The built-in price book with the registry's `prices:` merged over it. */
  readonly priceBook: PriceBook;
  /** Canonical reservation name -> edition. */
  readonly reservationEditions: ReadonlyMap<string, Edition>;
  /** Project id -> paying department and kind (department project or shared). */
  readonly projectIndex: ReadonlyMap<string, ProjectOwner>;
  /** Lower-case email, or principal:// subject as written -> department. */
  readonly exactPrincipals: ReadonlyMap<string, string>;
  /** `*@DOMAIN` patterns: lower-case domain -> department. */
  readonly domainPatterns: ReadonlyMap<string, PatternTarget>;
  /** `*.DOMAIN` (= `*@*.DOMAIN`) patterns: lower-case parent domain -> department. */
  readonly subdomainPatterns: ReadonlyMap<string, PatternTarget>;
  /** Other globs, in file order. */
  readonly principalGlobs: readonly PrincipalGlob[];
  /** Lower-case partner domain -> partner id. */
  readonly partnerDomains: ReadonlyMap<string, string>;
  /** Partner billing project -> partner id (their service accounts are theirs). */
  readonly partnerProjects: ReadonlyMap<string, string>;
}

// Project ids: 6-30 chars, a lower-case letter first, no trailing hyphen; optionally domain-scoped (`example.com:p`).
const PROJECT_ID = /^(?:[a-z][a-z0-9.-]*[a-z0-9]:)?[a-z][a-z0-9-]{4,28}[a-z0-9]$/;
const PROJECT_EXPECTED = "a project id (6-30 chars: lower-case letters, digits, hyphens)";
const ID = /^[a-z][a-z0-9_-]{0,62}$/;
const ID_EXPECTED = "an id (lower-case letters, digits, - and _, starting with a letter)";
const DOMAIN = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$/;
const DOMAIN_EXPECTED = "a DNS domain such as acme.example";
const EMAIL_LOCAL = /^[^\s@*]+$/;
const GLOB_LOCAL = /^[^\s@]+$/;
const RESERVATION =
  /^(?:projects\/[^/\s]+\/locations\/[^/\s]+\/reservations\/[^/\s]+|[^:/\s]+:[^./\s]+\.[^/\s]+)$/;
const RESERVATION_EXPECTED = "a reservation name projects/P/locations/L/reservations/R (or P:L.R)";
const LOCATION = /^[A-Za-z][A-Za-z0-9-]{1,40}$/;
const USD = /^\d+(?:\.\d{1,9})?$/;
const PRINCIPAL_EXPECTED =
  "an email, a pattern such as *@mkt.acme.example, *.acme.example or etl-*@acme.example, or a principal:// subject";
/** Department ids the attribution itself uses. */
const RESERVED_IDS = [UNASSIGNED, "outside"];

type Fields = Map<string, Node | null>;

/** Walks the YAML tree, reading each scalar from its source text, and fails with the location. */
class Reader {
  private readonly file: string;
  private readonly text: string;
  private readonly lines: LineCounter;
  private readonly doc: Document;

  constructor(file: string, text: string, lines: LineCounter, doc: Document) {
    this.file = file;
    this.text = text;
    this.lines = lines;
    this.doc = doc;
  }

  lineOf(node: Node | null | undefined): number {
    const offset = node?.range?.[0];
    return offset === undefined ? 1 : this.lines.linePos(offset).line;
  }

  fail(node: Node | null | undefined, field: string, problem: string): never {
    throw new ConfigError(this.file, this.lineOf(node), field || "(top level)", problem);
  }

  /** An alias's target; an alias to no anchor is almost always an unquoted `*@domain` pattern. */
  private resolve(node: unknown, field: string): unknown {
    if (!isAlias(node)) return node;
    const target = node.resolve(this.doc);
    if (target === undefined) {
      this.fail(
        node,
        field,
        `*${node.source} is read as a YAML alias to a missing anchor: quote values that start with *, such as "*@mkt.acme.example"`,
      );
    }
    return target;
  }

  private found(node: unknown): string {
    if (node === null || node === undefined) return "nothing";
    if (isScalar(node)) return node.value === null ? "nothing" : `"${this.source(node)}"`;
    if (isSeq(node)) return "a list";
    if (isMap(node)) return "a mapping";
    return "something else";
  }

  /** A scalar as written (so 6.25 stays the text "6.25", never a float). */
  private source(node: Node): string {
    if (isScalar(node) && typeof node.value === "string") return node.value;
    const range = node.range;
    return range ? this.text.slice(range[0], range[1]).trim() : String((node as { value?: unknown }).value);
  }

  /** A mapping with only the allowed keys (others are typos); fails on a missing required key. */
  map(raw: unknown, field: string, allowed: readonly string[], required: readonly string[] = []): Fields {
    const node = this.resolve(raw, field);
    if (!isMap(node)) this.fail(node as Node, field, `expected a mapping, found ${this.found(node)}`);
    const fields: Fields = new Map();
    for (const pair of node.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : "";
      const path = field ? `${field}.${key}` : key;
      if (!allowed.includes(key)) {
        const hint = closest(key, allowed);
        this.fail(
          pair.key as Node,
          path,
          `unknown key${hint ? ` (did you mean ${hint}?)` : ""}; expected one of: ${allowed.join(", ")}`,
        );
      }
      fields.set(key, this.resolve(pair.value, path) as Node | null);
    }
    for (const key of required) {
      if (!fields.has(key)) this.fail(node, field ? `${field}.${key}` : key, "required, but missing");
    }
    return fields;
  }

  /** A list; an absent or empty value is an empty list. */
  list(raw: unknown, field: string): Node[] {
    const node = this.resolve(raw, field);
    if (node === undefined || node === null || (isScalar(node) && node.value === null)) return [];
    if (!isSeq(node)) this.fail(node as Node, field, `expected a list, found ${this.found(node)}`);
    return node.items.map((item, i) => this.resolve(item, `${field}[${i}]`) as Node);
  }

  /** A scalar's source text, checked against a pattern. */
  scalar(raw: unknown, field: string, pattern: RegExp, expected: string): string {
    const node = this.resolve(raw, field);
    if (!isScalar(node) || node.value === null) {
      this.fail(node as Node, field, `expected ${expected}, found ${this.found(node)}`);
    }
    const value = this.source(node);
    if (!pattern.test(value)) this.fail(node, field, `expected ${expected}, found "${value}"`);
    return value;
  }

  usd(raw: unknown, field: string): bigint {
    return parseUsd(this.scalar(raw, field, USD, "a USD amount such as 6.25 (at most 9 decimals)"));
  }

  date(raw: unknown, field: string): string {
    const value = this.scalar(raw, field, /^.+$/, "a date YYYY-MM-DD");
    if (!isIsoDate(value)) this.fail(raw as Node, field, `expected a date YYYY-MM-DD, found "${value}"`);
    return value;
  }

  oneOf<T extends string>(raw: unknown, field: string, values: readonly T[]): T {
    const value = this.scalar(raw, field, /^.+$/, `one of ${values.join(", ")}`);
    if (!values.includes(value as T)) {
      this.fail(raw as Node, field, `expected one of ${values.join(", ")}, found "${value}"`);
    }
    return value as T;
  }
}

/** The allowed key within two edits of a typo, for the error message. */
function closest(key: string, allowed: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of allowed) {
    const distance = editDistance(key.toLowerCase(), candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] as number;
}

/** `user:`, `serviceAccount:` and `group:` prefixes, as IAM members and principalSubject write them. */
export function stripMemberPrefix(principal: string): string {
  const colon = principal.indexOf(":");
  if (colon > 0 && !principal.includes("://")) {
    const prefix = principal.slice(0, colon);
    if (prefix === "user" || prefix === "serviceAccount" || prefix === "group")
      return principal.slice(colon + 1);
  }
  return principal;
}

export function isFederatedSubject(principal: string): boolean {
  return principal.startsWith("principal://");
}

/** Whether `domain` is `parent` or one of its subdomains. */
export function isWithinDomain(domain: string, parent: string): boolean {
  return domain === parent || domain.endsWith(`.${parent}`);
}

type ParsedPrincipal =
  | { kind: "exact"; key: string }
  | { kind: "domain"; domain: string; canonical: string }
  | { kind: "subdomain"; parent: string; canonical: string }
  | { kind: "glob"; canonical: string; regex: RegExp };

/** Reads one registry principal: an email, a glob, or a federated subject; undefined when malformed. */
function parsePrincipal(written: string): ParsedPrincipal | undefined {
  const value = stripMemberPrefix(written.trim());
  // Federated subjects are compared as written: their subject part comes from the identity provider.
  if (isFederatedSubject(value))
    return value.length > "principal://".length ? { kind: "exact", key: value } : undefined;
  const lower = value.toLowerCase();
  if (!lower.includes("*")) {
    const at = lower.lastIndexOf("@");
    const local = lower.slice(0, at);
    const domain = lower.slice(at + 1);
    return at > 0 && EMAIL_LOCAL.test(local) && DOMAIN.test(domain)
      ? { kind: "exact", key: lower }
      : undefined;
  }
  // `*.acme.example` is shorthand for `*@*.acme.example`: anyone in a subdomain.
  const canonical = lower.startsWith("*.") ? `*@${lower}` : lower;
  const at = canonical.lastIndexOf("@");
  if (at <= 0) return undefined;
  const local = canonical.slice(0, at);
  const domainPart = canonical.slice(at + 1);
  const subdomainsOf = domainPart.startsWith("*.") ? domainPart.slice(2) : undefined;
  const domain = subdomainsOf ?? domainPart;
  if (!GLOB_LOCAL.test(local) || !DOMAIN.test(domain)) return undefined;
  if (local === "*") {
    return subdomainsOf === undefined
      ? { kind: "domain", domain, canonical }
      : { kind: "subdomain", parent: subdomainsOf, canonical };
  }
  const toRegex = (text: string) => text.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replaceAll("*", "[^@]*");
  return { kind: "glob", canonical, regex: new RegExp(`^${toRegex(canonical)}$`) };
}

/** Literal characters of a pattern: `*@mkt.acme.example` (18) beats `*@*.acme.example` (14). */
function specificity(canonical: string): number {
  return canonical.replaceAll("*", "").length;
}

/**
 * Parses and validates a registry file, and compiles it for attribution and pricing.
 * Throws ConfigError naming the file, line and field of the first problem.
 */
export function parseRegistry(yamlText: string, fileName: string): Registry {
  const lines = new LineCounter();
  const doc = parseDocument(yamlText, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const syntax = doc.errors[0];
  if (syntax) {
    const line = lines.linePos(syntax.pos[0]).line;
    throw new ConfigError(fileName, line, "(YAML)", `not valid YAML: ${syntax.message.split("\n")[0]}`);
  }
  const r: Reader = new Reader(fileName, yamlText, lines, doc);
  const top = r.map(
    doc.contents,
    "",
    ["organization", "departments", "shared_projects", "reservations", "partners", "prices"],
    ["organization", "departments"],
  );

  const org = r.map(top.get("organization"), "organization", ["domains"], ["domains"]);
  const domainNodes = r.list(org.get("domains"), "organization.domains");
  if (domainNodes.length === 0)
    r.fail(org.get("domains"), "organization.domains", "expected at least one domain");
  const domains = domainNodes.map((node, i) =>
    r.scalar(node, `organization.domains[${i}]`, DOMAIN, DOMAIN_EXPECTED).toLowerCase(),
  );

  const projectIndex = new Map<string, ProjectOwner>();
  /** Where each project was first listed, for "already listed at" messages. */
  const projectPlace = new Map<string, string>();
  const claimProject = (node: Node, field: string, project: string, owner: ProjectOwner) => {
    const earlier = projectPlace.get(project);
    if (earlier) r.fail(node, field, `project ${project} is already listed at ${earlier}`);
    projectIndex.set(project, owner);
    projectPlace.set(project, `${field} (line ${r.lineOf(node)})`);
  };

  const exactPrincipals = new Map<string, string>();
  const domainPatterns = new Map<string, PatternTarget>();
  const subdomainPatterns = new Map<string, PatternTarget>();
  const principalGlobs: PrincipalGlob[] = [];
  /** Canonical principal or pattern -> department, to refuse one in two departments. */
  const principalOwner = new Map<string, string>();
  let order = 0;

  const departments: Department[] = [];
  const departmentIds = new Set<string>();
  const departmentNodes = r.list(top.get("departments"), "departments");
  if (departmentNodes.length === 0)
    r.fail(top.get("departments"), "departments", "expected at least one department");
  departmentNodes.forEach((node, i) => {
    const field = `departments[${i}]`;
    const entry = r.map(node, field, ["id", "name", "projects", "principals"], ["id"]);
    const idNode = entry.get("id");
    const id = r.scalar(idNode, `${field}.id`, ID, ID_EXPECTED);
    if (RESERVED_IDS.includes(id)) r.fail(idNode, `${field}.id`, `"${id}" is reserved; choose another id`);
    if (departmentIds.has(id)) r.fail(idNode, `${field}.id`, `duplicate department id "${id}"`);
    departmentIds.add(id);
    const name = entry.has("name")
      ? r.scalar(entry.get("name"), `${field}.name`, /^.{1,200}$/, "a display name")
      : id;
    const projects = r.list(entry.get("projects"), `${field}.projects`).map((p, j) => {
      const project = r.scalar(p, `${field}.projects[${j}]`, PROJECT_ID, PROJECT_EXPECTED);
      claimProject(p, `${field}.projects[${j}]`, project, { department: id, kind: "department" });
      return project;
    });
    const principals = r.list(entry.get("principals"), `${field}.principals`).map((p, j) => {
      const pfield = `${field}.principals[${j}]`;
      const written = r.scalar(p, pfield, /^\S+$/, PRINCIPAL_EXPECTED);
      const parsed = parsePrincipal(written);
      if (!parsed) r.fail(p, pfield, `expected ${PRINCIPAL_EXPECTED}, found "${written}"`);
      const canonical = parsed.kind === "exact" ? parsed.key : parsed.canonical;
      const owner = principalOwner.get(canonical);
      if (owner !== undefined && owner !== id)
        r.fail(p, pfield, `${written} is already in department ${owner}`);
      principalOwner.set(canonical, id);
      const target = { department: id, specificity: specificity(canonical), order: order++ };
      if (parsed.kind === "exact") exactPrincipals.set(parsed.key, id);
      else if (parsed.kind === "domain") domainPatterns.set(parsed.domain, target);
      else if (parsed.kind === "subdomain") subdomainPatterns.set(parsed.parent, target);
      else principalGlobs.push({ pattern: canonical, regex: parsed.regex, ...target });
      return written;
    });
    departments.push({ id, name, projects, principals });
  });

  const sharedProjects = r.list(top.get("shared_projects"), "shared_projects").map((node, i) => {
    const field = `shared_projects[${i}]`;
    const entry = r.map(node, field, ["project", "owner"], ["project", "owner"]);
    const projectNode = entry.get("project") as Node;
    const project = r.scalar(projectNode, `${field}.project`, PROJECT_ID, PROJECT_EXPECTED);
    const owner = r.scalar(entry.get("owner"), `${field}.owner`, ID, ID_EXPECTED);
    if (!departmentIds.has(owner)) {
      r.fail(
        entry.get("owner"),
        `${field}.owner`,
        `expected a department id defined under departments, found "${owner}"`,
      );
    }
    claimProject(projectNode, `${field}.project`, project, { department: owner, kind: "shared" });
    return { project, owner };
  });

  const reservationEditions = new Map<string, Edition>();
  const reservations = r.list(top.get("reservations"), "reservations").map((node, i) => {
    const field = `reservations[${i}]`;
    const entry = r.map(node, field, ["name", "edition"], ["name", "edition"]);
    const name = r.scalar(entry.get("name"), `${field}.name`, RESERVATION, RESERVATION_EXPECTED);
    const edition = r.oneOf(entry.get("edition"), `${field}.edition`, EDITIONS);
    const canonical = canonicalReservation(name);
    if (reservationEditions.has(canonical))
      r.fail(entry.get("name"), `${field}.name`, `reservation ${name} is listed twice`);
    reservationEditions.set(canonical, edition);
    return { name, edition };
  });

  const partnerDomains = new Map<string, string>();
  const partnerProjects = new Map<string, string>();
  const partnerIds = new Set<string>();
  const partners = r.list(top.get("partners"), "partners").map((node, i) => {
    const field = `partners[${i}]`;
    const entry = r.map(node, field, ["id", "name", "domains", "billing_projects"], ["id", "domains"]);
    const id = r.scalar(entry.get("id"), `${field}.id`, ID, ID_EXPECTED);
    if (partnerIds.has(id)) r.fail(entry.get("id"), `${field}.id`, `duplicate partner id "${id}"`);
    partnerIds.add(id);
    const name = entry.has("name")
      ? r.scalar(entry.get("name"), `${field}.name`, /^.{1,200}$/, "a display name")
      : id;
    const partnerDomainList = r.list(entry.get("domains"), `${field}.domains`).map((d, j) => {
      const dfield = `${field}.domains[${j}]`;
      const domain = r.scalar(d, dfield, DOMAIN, DOMAIN_EXPECTED).toLowerCase();
      if (domains.some((ours) => isWithinDomain(domain, ours)))
        r.fail(d, dfield, `${domain} is one of the organization's domains`);
      const other = partnerDomains.get(domain);
      if (other !== undefined) r.fail(d, dfield, `${domain} is already a domain of partner ${other}`);
      partnerDomains.set(domain, id);
      return domain;
    });
    if (partnerDomainList.length === 0)
      r.fail(entry.get("domains"), `${field}.domains`, "expected at least one domain");
    const billingProjects = r.list(entry.get("billing_projects"), `${field}.billing_projects`).map((p, j) => {
      const pfield = `${field}.billing_projects[${j}]`;
      const project = r.scalar(p, pfield, PROJECT_ID, PROJECT_EXPECTED);
      if (projectIndex.has(project))
        r.fail(p, pfield, `project ${project} is ours (listed at ${projectPlace.get(project)})`);
      const other = partnerProjects.get(project);
      if (other !== undefined && other !== id)
        r.fail(p, pfield, `project ${project} is already a billing project of partner ${other}`);
      partnerProjects.set(project, id);
      return project;
    });
    return { id, name, domains: partnerDomainList, billingProjects };
  });

  const priceBook = top.has("prices")
    ? mergePriceBook(BUILT_IN_PRICE_BOOK, readPrices(r, top.get("prices")))
    : BUILT_IN_PRICE_BOOK;

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
    domainPatterns,
    subdomainPatterns,
    principalGlobs,
    partnerDomains,
    partnerProjects,
  };
}

/** `prices:` has the built-in price book's shape; amounts are read from their source text, exactly. */
function readPrices(r: Reader, node: Node | null | undefined): Partial<PriceBook> {
  const prices = r.map(node, "prices", ["on_demand", "editions", "storage"]);
  const location = (n: unknown, field: string) =>
    normaliseLocation(r.scalar(n, field, LOCATION, "a location such as US, EU or europe-west1"));
  const source = (entry: Fields, field: string) =>
    entry.has("source")
      ? r.scalar(entry.get("source"), `${field}.source`, /^.{1,500}$/, "text")
      : `registry ${field}`;
  /** Two entries for the same series and day would make the price ambiguous. */
  const unique = <T>(list: T[], nodes: Node[], key: (entry: T) => string, field: string): T[] => {
    const seen = new Set<string>();
    list.forEach((entry, i) => {
      const k = key(entry);
      if (seen.has(k))
        r.fail(nodes[i], `${field}[${i}]`, "duplicate entry: same location and from date as an earlier one");
      seen.add(k);
    });
    return list;
  };

  const onDemandNodes = r.list(prices.get("on_demand"), "prices.on_demand");
  const onDemand: OnDemandPrice[] = onDemandNodes.map((n, i) => {
    const field = `prices.on_demand[${i}]`;
    const e = r.map(
      n,
      field,
      ["location", "from", "usd_per_tib", "source"],
      ["location", "from", "usd_per_tib"],
    );
    return {
      location: location(e.get("location"), `${field}.location`),
      from: r.date(e.get("from"), `${field}.from`),
      usdPerTib: r.usd(e.get("usd_per_tib"), `${field}.usd_per_tib`),
      source: source(e, field),
    };
  });

  const editionNodes = r.list(prices.get("editions"), "prices.editions");
  const editions: EditionPrice[] = editionNodes.map((n, i) => {
    const field = `prices.editions[${i}]`;
    const e = r.map(
      n,
      field,
      ["edition", "location", "from", "usd_per_slot_hour", "source"],
      ["edition", "location", "from", "usd_per_slot_hour"],
    );
    return {
      edition: r.oneOf(e.get("edition"), `${field}.edition`, EDITIONS),
      location: location(e.get("location"), `${field}.location`),
      from: r.date(e.get("from"), `${field}.from`),
      usdPerSlotHour: r.usd(e.get("usd_per_slot_hour"), `${field}.usd_per_slot_hour`),
      source: source(e, field),
    };
  });

  const storageNodes = r.list(prices.get("storage"), "prices.storage");
  const classes = ["active_logical", "long_term_logical", "active_physical", "long_term_physical"] as const;
  const storage: StoragePrice[] = storageNodes.map((n, i) => {
    const field = `prices.storage[${i}]`;
    const e = r.map(n, field, ["location", "from", ...classes, "source"], ["location", "from", ...classes]);
    return {
      location: location(e.get("location"), `${field}.location`),
      from: r.date(e.get("from"), `${field}.from`),
      activeLogical: r.usd(e.get("active_logical"), `${field}.active_logical`),
      longTermLogical: r.usd(e.get("long_term_logical"), `${field}.long_term_logical`),
      activePhysical: r.usd(e.get("active_physical"), `${field}.active_physical`),
      longTermPhysical: r.usd(e.get("long_term_physical"), `${field}.long_term_physical`),
      source: source(e, field),
    };
  });

  return {
    onDemand: unique(onDemand, onDemandNodes, onDemandKey, "prices.on_demand"),
    editions: unique(editions, editionNodes, editionKey, "prices.editions"),
    storage: unique(storage, storageNodes, storageKey, "prices.storage"),
  };
}

const UNREGISTERED: ProjectOwner = { department: UNASSIGNED, kind: "unregistered" };

/** The department that pays for a project: its department, a shared project's owner, or "unassigned". */
export function projectDepartment(registry: Registry, project: string): ProjectOwner {
  return registry.projectIndex.get(project) ?? UNREGISTERED;
}

/** Whether the project is one of ours (a department's or a shared one). */
export function isOrganizationProject(registry: Registry, project: string): boolean {
  return registry.projectIndex.has(project);
}
