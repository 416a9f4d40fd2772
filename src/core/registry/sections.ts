// One reader per registry section. Each validates its entries against what earlier sections
// defined (an owner must be a department, a partner's domain must not be ours, a project is
// listed once) and fails with the file, line and field.
import type { Node } from "yaml";
import { isProjectId, PROJECT_ID_EXPECTED } from "../identifiers.ts";
import { canonicalReservation, EDITIONS, type Edition } from "../pricebook.ts";
import { type BillingProjectKind, OUTSIDE, UNASSIGNED } from "../types.ts";
import type { LabelIndexBuilder } from "./labels.ts";
import { DOMAIN, isWithinDomain, type PrincipalIndexBuilder } from "./principals.ts";
import { type Fields, pattern, type YamlReader } from "./yaml-reader.ts";

export interface Department {
  readonly id: string;
  /** Display name; the id when the registry gives none. */
  readonly name: string;
  readonly projects: readonly string[];
  /** As written: emails, patterns, principal:// subjects. */
  readonly principals: readonly string[];
  /** Job labels `key:value` whose jobs this department consumed, whoever ran them. */
  readonly labels: readonly string[];
}

/** A project any department may use: the owner pays, the consumer is charged back. */
export interface SharedProject {
  readonly project: string;
  readonly owner: string;
}

/** Who pays a reservation's idle slots: its users pro rata to their slot-ms, or the admin project's department. */
export type IdlePolicy = "pro_rata" | "admin_department";
export const IDLE_POLICIES: readonly IdlePolicy[] = ["pro_rata", "admin_department"];

export interface Reservation {
  /** As written in the registry. */
  readonly name: string;
  readonly edition: Edition;
  readonly idle: IdlePolicy;
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

const PROJECT = { test: isProjectId, expected: PROJECT_ID_EXPECTED };
const ID = pattern(
  /^[a-z][a-z0-9_-]{0,62}$/,
  "an id (lower-case letters, digits, - and _, starting with a letter)",
);
const DISPLAY_NAME = pattern(/^.{1,200}$/, "a display name");
const RESERVATION = pattern(
  /^(?:projects\/[^/\s]+\/locations\/[^/\s]+\/reservations\/[^/\s]+|[^:/\s]+:[^./\s]+\.[^/\s]+)$/,
  "a reservation name projects/P/locations/L/reservations/R (or P:L.R)",
);
/** Department ids the attribution itself uses. */
const RESERVED_IDS = [UNASSIGNED, OUTSIDE];

/** `organization.domains`: lower case, at least one. */
export function readOrganization(r: YamlReader, raw: unknown): string[] {
  const org = r.map(raw, "organization", ["domains"], ["domains"]);
  return r
    .nonEmptyList(org.get("domains"), "organization.domains", "domain")
    .map((node, i) => r.scalar(node, `organization.domains[${i}]`, DOMAIN).toLowerCase());
}

/** Project id -> owner, each project listed once across departments and shared projects. */
export class ProjectClaims {
  readonly index = new Map<string, ProjectOwner>();
  /** Where each project was first listed, for "already listed at" messages. */
  private readonly place = new Map<string, string>();
  private readonly r: YamlReader;

  constructor(r: YamlReader) {
    this.r = r;
  }

  read(node: unknown, field: string): string {
    return this.r.scalar(node, field, PROJECT);
  }

  claim(node: unknown, field: string, owner: ProjectOwner): string {
    const project = this.read(node, field);
    const earlier = this.place.get(project);
    if (earlier) this.r.fail(node, field, `project ${project} is already listed at ${earlier}`);
    this.index.set(project, owner);
    this.place.set(project, `${field} (line ${this.r.lineOf(node)})`);
    return project;
  }

  placeOf(project: string): string | undefined {
    return this.place.get(project);
  }
}

const displayName = (r: YamlReader, entry: Fields, field: string, id: string) =>
  entry.has("name") ? r.scalar(entry.get("name"), `${field}.name`, DISPLAY_NAME) : id;

export function readDepartments(
  r: YamlReader,
  raw: unknown,
  projects: ProjectClaims,
  principals: PrincipalIndexBuilder,
  labels: LabelIndexBuilder,
): Department[] {
  const ids = new Set<string>();
  return r.nonEmptyList(raw, "departments", "department").map((node, i) => {
    const field = `departments[${i}]`;
    const entry = r.map(node, field, ["id", "name", "projects", "principals", "labels"], ["id"]);
    const idNode = entry.get("id");
    const id = r.scalar(idNode, `${field}.id`, ID);
    if (RESERVED_IDS.includes(id)) r.fail(idNode, `${field}.id`, `"${id}" is reserved; choose another id`);
    if (ids.has(id)) r.fail(idNode, `${field}.id`, `duplicate department id "${id}"`);
    ids.add(id);
    return {
      id,
      name: displayName(r, entry, field, id),
      projects: r
        .list(entry.get("projects"), `${field}.projects`)
        .map((p, j) => projects.claim(p, `${field}.projects[${j}]`, { department: id, kind: "department" })),
      principals: principals.readDepartment(entry.get("principals"), `${field}.principals`, id),
      labels: labels.readDepartment(entry.get("labels"), `${field}.labels`, id),
    };
  });
}

export function readSharedProjects(
  r: YamlReader,
  raw: unknown,
  projects: ProjectClaims,
  departments: readonly Department[],
): SharedProject[] {
  return r.list(raw, "shared_projects").map((node, i) => {
    const field = `shared_projects[${i}]`;
    const entry = r.map(node, field, ["project", "owner"], ["project", "owner"]);
    const projectNode = entry.get("project") as Node;
    projects.read(projectNode, `${field}.project`);
    const owner = r.scalar(entry.get("owner"), `${field}.owner`, ID);
    if (!departments.some((department) => department.id === owner)) {
      r.fail(
        entry.get("owner"),
        `${field}.owner`,
        `expected a department id defined under departments, found "${owner}"`,
      );
    }
    const project = projects.claim(projectNode, `${field}.project`, { department: owner, kind: "shared" });
    return { project, owner };
  });
}

const PROJECT_NUMBER = pattern(
  /^[1-9]\d{5,19}$/,
  "a project number (digits, as gcloud projects describe shows)",
);

/**
 * `project_numbers`: project id -> number, for our projects only. Google's default accounts and
 * service agents are named by their project's number (NUMBER-compute@developer.gserviceaccount.com,
 * service-NUMBER@gcp-sa-*.iam.gserviceaccount.com): with it they belong to that project's department.
 */
export function readProjectNumbers(
  r: YamlReader,
  raw: unknown,
  projects: ProjectClaims,
): Map<string, string> {
  const byNumber = new Map<string, string>();
  if (raw === undefined) return byNumber;
  // The keys allowed are our projects: another is a typo or a project no department owns.
  for (const [project, node] of r.map(raw, "project_numbers", [...projects.index.keys()])) {
    const field = `project_numbers.${project}`;
    const number = r.scalar(node, field, PROJECT_NUMBER);
    const other = byNumber.get(number);
    if (other !== undefined) r.fail(node, field, `number ${number} is already the number of ${other}`);
    byNumber.set(number, project);
  }
  return byNumber;
}

export function readReservations(
  r: YamlReader,
  raw: unknown,
): { reservations: Reservation[]; reservationEditions: Map<string, Edition> } {
  const reservationEditions = new Map<string, Edition>();
  const reservations = r.list(raw, "reservations").map((node, i) => {
    const field = `reservations[${i}]`;
    const entry = r.map(node, field, ["name", "edition", "idle"], ["name", "edition"]);
    const name = r.scalar(entry.get("name"), `${field}.name`, RESERVATION);
    const edition = r.oneOf(entry.get("edition"), `${field}.edition`, EDITIONS);
    const idle = entry.has("idle") ? r.oneOf(entry.get("idle"), `${field}.idle`, IDLE_POLICIES) : "pro_rata";
    const canonical = canonicalReservation(name);
    if (reservationEditions.has(canonical))
      r.fail(entry.get("name"), `${field}.name`, `reservation ${name} is listed twice`);
    reservationEditions.set(canonical, edition);
    return { name, edition, idle };
  });
  return { reservations, reservationEditions };
}

export function readPartners(
  r: YamlReader,
  raw: unknown,
  domains: readonly string[],
  projects: ProjectClaims,
): { partners: Partner[]; partnerDomains: Map<string, string>; partnerProjects: Map<string, string> } {
  const partnerDomains = new Map<string, string>();
  const partnerProjects = new Map<string, string>();
  const ids = new Set<string>();
  const partners = r.list(raw, "partners").map((node, i) => {
    const field = `partners[${i}]`;
    const entry = r.map(node, field, ["id", "name", "domains", "billing_projects"], ["id", "domains"]);
    const id = r.scalar(entry.get("id"), `${field}.id`, ID);
    if (ids.has(id)) r.fail(entry.get("id"), `${field}.id`, `duplicate partner id "${id}"`);
    ids.add(id);
    const name = displayName(r, entry, field, id);
    const partnerDomainList = r.list(entry.get("domains"), `${field}.domains`).map((d, j) => {
      const dfield = `${field}.domains[${j}]`;
      const domain = r.scalar(d, dfield, DOMAIN).toLowerCase();
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
      const project = projects.read(p, pfield);
      if (projects.index.has(project))
        r.fail(p, pfield, `project ${project} is ours (listed at ${projects.placeOf(project)})`);
      const other = partnerProjects.get(project);
      if (other !== undefined && other !== id)
        r.fail(p, pfield, `project ${project} is already a billing project of partner ${other}`);
      partnerProjects.set(project, id);
      return project;
    });
    return { id, name, domains: partnerDomainList, billingProjects };
  });
  return { partners, partnerDomains, partnerProjects };
}
