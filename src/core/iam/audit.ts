// Who may bill which project, and who may read what, judged against the registry before the
// bill arrives, and joined with what the logs show the holders did. Pure: grants, registry, role
// table and (optionally) usage in; findings, a holder x project matrix and problems out.
import { classifyPrincipal, googleAccount, type PrincipalClass } from "../attribute.ts";
import type { Nanos } from "../money.ts";
import { isWithinDomain, projectDepartment, type Registry } from "../registry.ts";
import type { Severity } from "../types.ts";
import type { Grant, IamProblem, IamSource, Member } from "./policy.ts";
import type { RoleRights, RoleTable } from "./roles.ts";
import type { GrantUsage, Use } from "./usage.ts";

/** Every kind of IAM finding, its severity and what it means: the one table of them. */
export const IAM_FINDING_KINDS = {
  external_job_rights: {
    severity: "critical",
    meaning: "an outside principal (partner or other) may create jobs billed to our project",
  },
  public_access: {
    severity: "critical",
    meaning: "allUsers, allAuthenticatedUsers or a whole foreign domain may read or create jobs",
  },
  project_level_read: {
    severity: "high",
    meaning: "an outside principal may read every dataset of a project: grant the datasets they need instead",
  },
  cross_department_job_rights: {
    severity: "high",
    meaning: "a department's principal may create jobs billed to another department's project",
  },
  unmapped_project_number: {
    severity: "medium",
    meaning: "a project number that maps to no known project id: its grants are audited under the number",
  },
  unused_job_rights: {
    severity: "low",
    meaning: "jobs.create that the logs show no job for in the period (least privilege)",
  },
  deleted_principal: { severity: "low", meaning: "a binding of a deleted principal: remove it" },
  group_members_unseen: {
    severity: "low",
    meaning: "a group's members are not in the export: its rights reach people the audit cannot name",
  },
} as const satisfies Record<string, { severity: Severity; meaning: string }>;

export type IamFindingKind = keyof typeof IAM_FINDING_KINDS;

/** Who holds a right, relative to the project it is on. */
export type Holder =
  | "own_department"
  | "shared_project"
  | "other_department"
  | "organization"
  | "partner"
  | "outsider"
  | "public"
  | "google_managed"
  | "unmapped";

export const HOLDERS: readonly Holder[] = [
  "own_department",
  "shared_project",
  "other_department",
  "organization",
  "google_managed",
  "unmapped",
  "partner",
  "outsider",
  "public",
];

/** realized: the logs show the holder's jobs there; latent: they show none; unknown: members unseen. */
export type UseStatus = "realized" | "latent" | "unknown" | "not_checked" | "";

export interface IamFinding {
  kind: IamFindingKind;
  severity: Severity;
  status: UseStatus;
  /** The project the right bears on (projects/NUMBER when unmapped). */
  project: string;
  /** Where the grant is: organizations/N, folders/N, the project, P:D, P:D.T. */
  resource: string;
  member: string;
  holder: Holder;
  /** The holder's department (registry id), external:<domain>, or "". */
  department: string;
  role: string;
  rights: string[];
  /** `title: expression` of a conditional binding; "" when unconditional. */
  condition: string;
  jobs: number;
  cost: Nanos;
  remediation: string;
  source: IamSource;
}

export interface MatrixRow {
  holder: Holder;
  /** Distinct members holding jobs.create, per project (same order as `projects`). */
  counts: number[];
}

export interface IamAudit {
  findings: IamFinding[];
  /** Who can bill which project: holder classes x projects. */
  matrix: { projects: string[]; rows: MatrixRow[] };
  problems: IamProblem[];
  counts: {
    grants: number;
    jobRights: number;
    readRights: number;
    /** Roles outside the built-in table and not defined in the export, assumed to carry neither right. */
    rolesOutsideTable: Record<string, number>;
    findingsByKind: Record<string, number>;
    findingsBySeverity: Record<string, number>;
  };
  /** Whether logs were joined (statuses and unused grants need them). */
  usageChecked: boolean;
}

export interface IamAuditInput {
  grants: readonly Grant[];
  registry: Registry;
  roles: RoleTable;
  projectNumbers: ReadonlyMap<string, string>;
  /** The logs' jobs; without them no grant is called unused and statuses are not_checked. */
  usage?: GrantUsage;
  /** Problems found while reading the exports, passed through. */
  problems?: readonly IamProblem[];
}

type Identity =
  | { kind: "department"; department: string; principalKind: string }
  | { kind: "organization" }
  | { kind: "partner"; department: string }
  | { kind: "outsider"; department: string }
  | { kind: "public" }
  | { kind: "google_managed" }
  | { kind: "unmapped"; number: string };

function fromPrincipalClass(found: PrincipalClass): Identity {
  switch (found.kind) {
    case "registered":
    case "service_account":
      return { kind: "department", department: found.department, principalKind: found.kind };
    case "organization":
      return { kind: "organization" };
    case "partner":
      return { kind: "partner", department: found.department };
    case "external":
      return { kind: "outsider", department: found.department };
    case "google_agent":
      return { kind: "google_managed" };
    default:
      return { kind: "organization" };
  }
}

/** Who a member is, with the registry's own principal classification for emails. */
function identify(member: Member, registry: Registry, numbers: ReadonlyMap<string, string>): Identity {
  switch (member.kind) {
    case "allUsers":
    case "allAuthenticatedUsers":
      return { kind: "public" };
    case "projectRole":
      return { kind: "organization" };
    case "principalSet":
      return { kind: "organization" };
    case "principal": {
      const found = classifyPrincipal(member.written, registry);
      return found.kind === "registered" ? fromPrincipalClass(found) : { kind: "organization" };
    }
    case "domain": {
      const domain = member.email;
      if (registry.domains.some((ours) => isWithinDomain(domain, ours))) return { kind: "organization" };
      for (const [partnerDomain] of registry.partnerDomains)
        if (isWithinDomain(domain, partnerDomain))
          return { kind: "partner", department: `external:${domain}` };
      return { kind: "public" };
    }
    default: {
      // Google's own accounts name their project by number: the export's projects list maps it.
      const google = googleAccount(member.email);
      if (google && "projectNumber" in google) {
        const project = numbers.get(google.projectNumber);
        if (project === undefined) return { kind: "unmapped", number: google.projectNumber };
        const owner = projectDepartment(registry, project);
        // The default compute account runs the project's own code; service agents are Google's.
        if (!member.email.endsWith("-compute@developer.gserviceaccount.com"))
          return { kind: "google_managed" };
        return owner.kind === "unregistered"
          ? { kind: "organization" }
          : { kind: "department", department: owner.department, principalKind: "service_account" };
      }
      if (google && "system" in google) return { kind: "google_managed" };
      return fromPrincipalClass(classifyPrincipal(member.email, registry));
    }
  }
}

function holderOn(identity: Identity, project: string, registry: Registry): Holder {
  switch (identity.kind) {
    case "department": {
      const owner = projectDepartment(registry, project);
      if (owner.kind === "shared")
        return identity.department === owner.department ? "own_department" : "shared_project";
      if (owner.kind === "unregistered") return "organization";
      return owner.department === identity.department ? "own_department" : "other_department";
    }
    case "organization":
      return "organization";
    case "partner":
      return "partner";
    case "outsider":
      return "outsider";
    case "public":
      return "public";
    case "google_managed":
      return "google_managed";
    case "unmapped":
      return "unmapped";
  }
}

function departmentOf(identity: Identity): string {
  return "department" in identity ? identity.department : "";
}

/** The command that removes this binding, as gcloud or bq takes it. */
export function removeCommand(grant: Grant): string {
  const member = `--member='${grant.member.written}' --role=${grant.role}`;
  // A conditional binding is removed with its condition; --all removes every condition of it.
  const conditional = grant.condition ? " --all" : "";
  const { resource } = grant;
  switch (resource.level) {
    case "organization":
      return `gcloud organizations remove-iam-policy-binding ${resource.name.replace("organizations/", "")} ${member}${conditional}`;
    case "folder":
      return `gcloud resource-manager folders remove-iam-policy-binding ${resource.name.replace("folders/", "")} ${member}${conditional}`;
    case "project":
      return `gcloud projects remove-iam-policy-binding ${resource.unmappedNumber ?? resource.name} ${member}${conditional}`;
    case "table":
      return `bq remove-iam-policy-binding ${member} ${resource.name}`;
    case "dataset":
      return `bq show --format=prettyjson ${resource.name} > dataset.json; delete the access entry of ${grant.member.written} (${grant.role}) from dataset.json; bq update --source dataset.json ${resource.name}`;
  }
}

function conditionText(grant: Grant): string {
  if (!grant.condition) return "";
  const { title, expression } = grant.condition;
  return title && expression ? `${title}: ${expression}` : title || expression;
}

/** The projects a grant reaches: its own, a folder's known projects, every known project for the organization. */
function projectsOf(grant: Grant, allProjects: readonly string[]): string[] {
  const { resource } = grant;
  if (resource.level === "organization") return [...allProjects];
  if (resource.level === "folder") return [...(resource.projectsBelow ?? [])];
  return [resource.project];
}

/** A grant whose resource the export named by a number only, placed by a number the registry maps. */
function placed(grant: Grant, numbers: ReadonlyMap<string, string>): Grant {
  const { resource } = grant;
  const byNumber = (project: string) => {
    const number = project.startsWith("projects/") ? project.slice("projects/".length) : undefined;
    return number === undefined ? project : (numbers.get(number) ?? project);
  };
  if (resource.projectsBelow?.some((p) => p.startsWith("projects/")))
    return {
      ...grant,
      resource: { ...resource, projectsBelow: resource.projectsBelow.map(byNumber).sort() },
    };
  if (resource.unmappedNumber === undefined) return grant;
  const project = numbers.get(resource.unmappedNumber);
  if (project === undefined) return grant;
  const { unmappedNumber: _, ...rest } = resource;
  return {
    ...grant,
    resource: {
      ...rest,
      project,
      name: resource.name.replace(`projects/${resource.unmappedNumber}`, project),
    },
  };
}

function bump(counts: Record<string, number>, key: string): void {
  counts[key] = (counts[key] ?? 0) + 1;
}

const SEVERITY_ORDER: Record<Severity, number> = { critical: 0, high: 1, medium: 2, low: 3 };

export function auditIam(input: IamAuditInput): IamAudit {
  const { registry, roles, usage } = input;
  // Numbers the registry names, and those the exports map (projects list, search results).
  const projectNumbers = new Map([...registry.projectNumbers, ...input.projectNumbers]);
  const problems: IamProblem[] = [...(input.problems ?? [])];
  const findings: IamFinding[] = [];
  const rolesOutsideTable: Record<string, number> = {};
  const billers = new Map<string, Map<Holder, Set<string>>>();
  let jobRights = 0;
  let readRights = 0;

  const known = new Set<string>(registry.projectIndex.keys());
  for (const grant of input.grants) {
    const { project } = placed(grant, projectNumbers).resource;
    if (project) known.add(project);
  }
  for (const id of projectNumbers.values()) known.add(id);
  const allProjects = [...known].sort();

  const useOf = (grant: Grant, project: string): { status: UseStatus; use: Use } => {
    const none = { jobs: 0, cost: 0n };
    if (!usage) return { status: "not_checked", use: none };
    const { member } = grant;
    let use: Use | undefined;
    if (member.kind === "user" || member.kind === "serviceAccount")
      use = usage.ofPrincipal(member.email, project);
    else if (member.kind === "principal") use = usage.ofPrincipal(member.written, project);
    else if (member.kind === "domain") use = usage.ofDomain(member.email, project);
    if (use === undefined) return { status: "unknown", use: none };
    return { status: use.jobs > 0 ? "realized" : "latent", use };
  };

  for (const read of input.grants) {
    const grant = placed(read, projectNumbers);
    const lookup = roles.lookup(grant.role);
    let rights: RoleRights;
    if (lookup.kind === "known") rights = lookup.rights;
    else if (lookup.kind === "outside_table") {
      bump(rolesOutsideTable, grant.role);
      continue;
    } else {
      problems.push({
        reason: "unknown_role",
        detail: `role ${grant.role} is neither in the built-in table nor defined in the exports; expected its definition (gcloud iam roles describe ${grant.role
          .replace(/^(organizations|projects)\/([^/]+)\/roles\/(.+)$/, "$3 --$1=$2")
          .replace("--organizations=", "--organization=")
          .replace("--projects=", "--project=")} --format=json) among --policies`,
        source: grant.source,
      });
      continue;
    }
    if (rights.deleted || (!rights.jobsCreate && !rights.getData)) continue;
    // jobs.create is a project permission: granted on a dataset or table it lets no one run a job.
    const jobsCreate =
      rights.jobsCreate && grant.resource.level !== "dataset" && grant.resource.level !== "table";
    const getData = rights.getData;
    if (!jobsCreate && !getData) continue;
    if (jobsCreate) jobRights++;
    if (getData) readRights++;
    const rightNames = [
      ...(jobsCreate ? ["bigquery.jobs.create"] : []),
      ...(getData ? ["bigquery.tables.getData"] : []),
    ];
    const identity = identify(grant.member, registry, projectNumbers);
    const remove = removeCommand(grant);
    const base = (kind: IamFindingKind, project: string, holder: Holder): IamFinding => ({
      kind,
      severity: IAM_FINDING_KINDS[kind].severity,
      status: "",
      project,
      resource: grant.resource.name,
      member: grant.member.written,
      holder,
      department: departmentOf(identity),
      role: grant.role,
      rights: rightNames,
      condition: conditionText(grant),
      jobs: 0,
      cost: 0n,
      remediation: remove,
      source: grant.source,
    });

    if (grant.member.deleted) {
      findings.push(
        base(
          "deleted_principal",
          grant.resource.project || grant.resource.name,
          holderOn(identity, grant.resource.project, registry),
        ),
      );
      continue;
    }
    if (grant.member.kind === "group")
      findings.push({
        ...base(
          "group_members_unseen",
          grant.resource.project || grant.resource.name,
          holderOn(identity, grant.resource.project, registry),
        ),
        remediation: `gcloud identity groups memberships list --group-email=${grant.member.email}; ${remove}`,
      });
    if (grant.resource.unmappedNumber)
      findings.push({
        ...base("unmapped_project_number", grant.resource.project, "unmapped"),
        remediation: `gcloud projects describe ${grant.resource.unmappedNumber} (add it to the projects list or the registry); if not ours: ${remove}`,
      });
    if (identity.kind === "unmapped")
      findings.push({
        ...base("unmapped_project_number", grant.resource.project || grant.resource.name, "unmapped"),
        remediation: `gcloud projects describe ${identity.number} (the project of ${grant.member.email}); if not ours: ${remove}`,
      });

    const projectLevel = grant.resource.level !== "dataset" && grant.resource.level !== "table";
    for (const project of projectsOf(grant, allProjects)) {
      const holder = holderOn(identity, project, registry);
      if (jobsCreate) {
        let perProject = billers.get(project);
        if (!perProject) {
          perProject = new Map();
          billers.set(project, perProject);
        }
        const members = perProject.get(holder) ?? new Set<string>();
        members.add(grant.member.written);
        perProject.set(holder, members);
      }
      // Use is judged by jobs: it says something only of the right to create them.
      const withUse = (finding: IamFinding): IamFinding => {
        if (!jobsCreate) return finding;
        const { status, use } = useOf(grant, project);
        return { ...finding, status, jobs: use.jobs, cost: use.cost };
      };
      if (holder === "public") {
        findings.push(withUse(base("public_access", project, holder)));
        continue;
      }
      if (jobsCreate && (holder === "partner" || holder === "outsider")) {
        findings.push(withUse(base("external_job_rights", project, holder)));
      }
      if (getData && projectLevel && (holder === "partner" || holder === "outsider")) {
        findings.push({
          ...base("project_level_read", project, holder),
          remediation: `grant roles/bigquery.dataViewer on only the datasets they need (bq show --format=prettyjson ${project}:DATASET > dataset.json; add {"role": "READER", ${grant.member.kind === "domain" ? `"domain": "${grant.member.email}"` : grant.member.kind === "group" ? `"groupByEmail": "${grant.member.email}"` : `"userByEmail": "${grant.member.email}"`}}; bq update --source dataset.json ${project}:DATASET), then ${remove}`,
        });
      }
      if (jobsCreate && holder === "other_department") {
        findings.push({
          ...withUse(base("cross_department_job_rights", project, holder)),
          remediation: `${remove} (${departmentOf(identity)} runs its jobs on its own projects)`,
        });
      }
      if (
        jobsCreate &&
        usage &&
        (holder === "own_department" || holder === "shared_project" || holder === "organization") &&
        (grant.member.kind === "user" || grant.member.kind === "serviceAccount")
      ) {
        const { use } = useOf(grant, project);
        if (use.jobs === 0)
          findings.push({ ...base("unused_job_rights", project, holder), status: "latent" });
      }
    }
  }

  findings.sort(
    (a, b) =>
      SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] ||
      (a.cost === b.cost ? 0 : a.cost > b.cost ? -1 : 1) ||
      a.kind.localeCompare(b.kind) ||
      a.project.localeCompare(b.project) ||
      a.member.localeCompare(b.member),
  );
  const findingsByKind: Record<string, number> = {};
  const findingsBySeverity: Record<string, number> = {};
  for (const finding of findings) {
    bump(findingsByKind, finding.kind);
    bump(findingsBySeverity, finding.severity);
  }
  const matrixProjects = [...billers.keys()].sort();
  const rows = HOLDERS.map((holder) => ({
    holder,
    counts: matrixProjects.map((project) => billers.get(project)?.get(holder)?.size ?? 0),
  })).filter((row) => row.counts.some((count) => count > 0));
  return {
    findings,
    matrix: { projects: matrixProjects, rows },
    problems,
    counts: {
      grants: input.grants.length,
      jobRights,
      readRights,
      rolesOutsideTable,
      findingsByKind,
      findingsBySeverity,
    },
    usageChecked: usage !== undefined,
  };
}
