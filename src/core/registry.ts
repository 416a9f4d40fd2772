// The registry: the organisation's map of departments, projects, principals, shared projects,
// reservations, partners and price overrides. Validated strictly (an unknown key is a typo) with
// errors that name the file, line and field, then compiled into maps for per-job lookups.
// sample/registry.example.yaml documents every key. The readers live in ./registry/.
import { FREE_TIER_MODES, type FreeTierMode } from "./free-tier.ts";
import {
  BUILT_IN_PRICE_BOOK,
  type Edition,
  mergePriceBook,
  type PriceBook,
  type PricingContext,
} from "./pricebook.ts";
import { type LabelIndex, LabelIndexBuilder } from "./registry/labels.ts";
import { readPrices } from "./registry/prices.ts";
import { type PrincipalIndex, PrincipalIndexBuilder } from "./registry/principals.ts";
import {
  type Department,
  type Partner,
  ProjectClaims,
  type ProjectOwner,
  type Reservation,
  readDepartments,
  readOrganization,
  readPartners,
  readProjectNumbers,
  readReservations,
  readSharedProjects,
  type SharedProject,
} from "./registry/sections.ts";
import { YamlReader } from "./registry/yaml-reader.ts";
import { UNASSIGNED } from "./types.ts";

export {
  isFederatedSubject,
  isWithinDomain,
  type PatternTarget,
  type PrincipalGlob,
  stripMemberPrefix,
} from "./registry/principals.ts";
export type { Department, Partner, ProjectOwner, Reservation, SharedProject } from "./registry/sections.ts";
export { ConfigError } from "./registry/yaml-reader.ts";

/** The registry, validated and compiled. Everything is read-only. */
export interface Registry extends PricingContext, PrincipalIndex, LabelIndex {
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
  /** Lower-case partner domain -> partner id. */
  readonly partnerDomains: ReadonlyMap<string, string>;
  /** Partner billing project -> partner id (their service accounts are theirs). */
  readonly partnerProjects: ReadonlyMap<string, string>;
  /** Project number -> our project id (`project_numbers:`), for Google's default accounts and service agents. */
  readonly projectNumbers: ReadonlyMap<string, string>;
  /** `free_tier:` show the free tier as a line of its own (default), or also deduct it from the departments that consumed it. */
  readonly freeTier: FreeTierMode;
}

const SECTIONS = [
  "organization",
  "label_keys",
  "departments",
  "shared_projects",
  "project_numbers",
  "reservations",
  "partners",
  "prices",
  "free_tier",
];

/**
 * Parses and validates a registry file, and compiles it for attribution and pricing.
 * Throws ConfigError naming the file, line and field of the first problem.
 */
export function parseRegistry(yamlText: string, fileName: string): Registry {
  const r = new YamlReader(yamlText, fileName);
  const top = r.map(r.contents, "", SECTIONS, ["organization", "departments"]);
  const domains = readOrganization(r, top.get("organization"));
  const projects = new ProjectClaims(r);
  const principals = new PrincipalIndexBuilder(r);
  const labels = new LabelIndexBuilder(r);
  labels.readKeys(top.get("label_keys"));
  const departments = readDepartments(r, top.get("departments"), projects, principals, labels);
  const sharedProjects = readSharedProjects(r, top.get("shared_projects"), projects, departments);
  const { reservations, reservationEditions } = readReservations(r, top.get("reservations"));
  const { partners, partnerDomains, partnerProjects } = readPartners(
    r,
    top.get("partners"),
    domains,
    projects,
  );
  const projectNumbers = readProjectNumbers(r, top.get("project_numbers"), projects);
  const priceBook = top.has("prices")
    ? mergePriceBook(BUILT_IN_PRICE_BOOK, readPrices(r, top.get("prices")))
    : BUILT_IN_PRICE_BOOK;
  const freeTier = top.has("free_tier")
    ? r.oneOf(top.get("free_tier"), "free_tier", FREE_TIER_MODES)
    : "show";
  return {
    domains,
    departments,
    sharedProjects,
    reservations,
    partners,
    priceBook,
    reservationEditions,
    projectIndex: projects.index,
    exactPrincipals: principals.exactPrincipals,
    domainPatterns: principals.domainPatterns,
    subdomainPatterns: principals.subdomainPatterns,
    principalGlobs: principals.principalGlobs,
    labelKeys: labels.labelKeys,
    labelDepartments: labels.labelDepartments,
    partnerDomains,
    partnerProjects,
    projectNumbers,
    freeTier,
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
