// Who paid, who consumed, whose data: the registry applied to one job. Runs once per job on
// millions of jobs, so lookups go through the registry's precompiled maps and each principal's
// answer is remembered.
import {
  isFederatedSubject,
  isWithinDomain,
  type PatternTarget,
  projectDepartment,
  type Registry,
  stripMemberPrefix,
} from "./registry.ts";
import {
  type Attribution,
  externalDepartment,
  type JobEvent,
  type LabelUse,
  OUTSIDE,
  type PrincipalKind,
  UNASSIGNED,
} from "./types.ts";

export interface PrincipalClass {
  readonly department: string;
  readonly kind: PrincipalKind;
  /** For partner principals: the partner id. */
  readonly partner?: string;
  /** For a Google-managed account named by a project number the registry does not list. */
  readonly projectNumber?: string;
}

const UNKNOWN: PrincipalClass = Object.freeze({ department: UNASSIGNED, kind: "unknown" });
const SERVICE_ACCOUNT_DOMAIN = ".iam.gserviceaccount.com";

/**
 * The project that owns a user-managed service account, from its email's domain
 * (`NAME@PROJECT.iam.gserviceaccount.com`). Domain-scoped projects (`example.com:p`) are assumed
 * to write `NAME@p.example.com.iam.gserviceaccount.com` (UNVERIFIED).
 */
export function serviceAccountProject(emailDomain: string): string | undefined {
  if (!emailDomain.endsWith(SERVICE_ACCOUNT_DOMAIN)) return undefined;
  const host = emailDomain.slice(0, -SERVICE_ACCOUNT_DOMAIN.length);
  const dot = host.indexOf(".");
  return dot < 0 ? host : `${host.slice(dot + 1)}:${host.slice(0, dot)}`;
}

/** Whose a Google-managed account is: a project id, a project number, or Google's own systems. */
export type GoogleAccount = { project: string } | { projectNumber: string } | { system: true };

/** Legacy service-agent domains that predate `gcp-sa-*` (https://cloud.google.com/iam/docs/service-agents). */
const LEGACY_AGENT_DOMAINS =
  /^(?:compute-system|container-engine-robot|dataflow-service-producer-prod|serverless-robot-prod)\.iam\.gserviceaccount\.com$/;

/**
 * Google's own accounts that act for one project, by the forms Google documents:
 * default accounts (https://cloud.google.com/iam/docs/service-account-types#default):
 * `PROJECT_ID@appspot.gserviceaccount.com` (App Engine), `NUMBER-compute@developer.gserviceaccount.com`
 * (Compute Engine), `NUMBER@cloudbuild.gserviceaccount.com` (legacy Cloud Build); service agents
 * (https://cloud.google.com/iam/docs/service-agents): `service-NUMBER@gcp-sa-SERVICE.iam.gserviceaccount.com`
 * (BigQuery Data Transfer / scheduled queries: gcp-sa-bigquerydatatransfer; `service-pNUMBER` for
 * some), the legacy agent domains, and `NUMBER@cloudservices.gserviceaccount.com` (Google APIs
 * Service Agent); and `*@system.gserviceaccount.com`, Google's internal systems, named by no project.
 */
export function googleAccount(email: string): GoogleAccount | undefined {
  const at = email.lastIndexOf("@");
  const local = email.slice(0, at);
  const domain = email.slice(at + 1);
  if (!domain.endsWith("gserviceaccount.com")) return undefined;
  if (domain === "system.gserviceaccount.com") return { system: true };
  if (domain === "appspot.gserviceaccount.com") return local ? { project: local } : undefined;
  let number: RegExpExecArray | null = null;
  if (domain === "developer.gserviceaccount.com") number = /^(\d+)-compute$/.exec(local);
  else if (domain === "cloudservices.gserviceaccount.com" || domain === "cloudbuild.gserviceaccount.com")
    number = /^(\d+)$/.exec(local);
  else if (/^gcp-sa-[a-z0-9-]+\.iam\.gserviceaccount\.com$/.test(domain) || LEGACY_AGENT_DOMAINS.test(domain))
    number = /^service-p?(\d+)$/.exec(local);
  return number ? { projectNumber: number[1] as string } : undefined;
}

/** The class of a Google-managed account: its project's department when the registry knows the project. */
function classifyGoogleAccount(account: GoogleAccount, registry: Registry, domain: string): PrincipalClass {
  const project =
    "project" in account
      ? account.project
      : "projectNumber" in account
        ? registry.projectNumbers.get(account.projectNumber)
        : undefined;
  const owner = project === undefined ? undefined : registry.projectIndex.get(project);
  if (owner) return { department: owner.department, kind: "service_account" };
  const partner = project === undefined ? undefined : registry.partnerProjects.get(project);
  if (partner) return { department: externalDepartment(domain), kind: "partner", partner };
  // An App Engine account names its project: not one of ours, it is an outsider's.
  if ("project" in account) return { department: externalDepartment(domain), kind: "external" };
  return "projectNumber" in account
    ? { department: UNASSIGNED, kind: "google_agent", projectNumber: account.projectNumber }
    : { department: UNASSIGNED, kind: "google_agent" };
}

/** The department of the most specific registry pattern matching the email, if any. */
function matchPattern(registry: Registry, email: string, domain: string): string | undefined {
  let best: PatternTarget | undefined;
  const consider = (target: PatternTarget | undefined) => {
    if (
      target &&
      (!best ||
        target.specificity > best.specificity ||
        (target.specificity === best.specificity && target.order < best.order))
    ) {
      best = target;
    }
  };
  consider(registry.domainPatterns.get(domain));
  // `*.acme.example` matches every subdomain: try each parent of the email's domain.
  for (let dot = domain.indexOf("."); dot >= 0; dot = domain.indexOf(".", dot + 1)) {
    consider(registry.subdomainPatterns.get(domain.slice(dot + 1)));
  }
  for (const glob of registry.principalGlobs) if (glob.matches(email)) consider(glob);
  return best?.department;
}

/** The value stored for the domain or its nearest parent domain. */
function withinDomains<T>(map: ReadonlyMap<string, T>, domain: string): T | undefined {
  for (let rest = domain; ; ) {
    const found = map.get(rest);
    if (found !== undefined) return found;
    const dot = rest.indexOf(".");
    if (dot < 0) return undefined;
    rest = rest.slice(dot + 1);
  }
}

function classify(principal: string, registry: Registry): PrincipalClass {
  const value = stripMemberPrefix(principal.trim());
  if (value === "") return UNKNOWN;
  if (isFederatedSubject(value)) {
    const department = registry.exactPrincipals.get(value);
    return department ? { department, kind: "registered" } : UNKNOWN;
  }
  const email = value.toLowerCase();
  const at = email.lastIndexOf("@");
  if (at <= 0 || at === email.length - 1) return UNKNOWN;
  const exact = registry.exactPrincipals.get(email);
  if (exact) return { department: exact, kind: "registered" };
  const domain = email.slice(at + 1);
  const byPattern = matchPattern(registry, email, domain);
  if (byPattern) return { department: byPattern, kind: "registered" };
  const google = googleAccount(email);
  if (google) return classifyGoogleAccount(google, registry, domain);
  const saProject = serviceAccountProject(domain);
  if (saProject !== undefined) {
    const owner = registry.projectIndex.get(saProject);
    if (owner) return { department: owner.department, kind: "service_account" };
    const partner = registry.partnerProjects.get(saProject);
    if (partner) return { department: externalDepartment(domain), kind: "partner", partner };
  }
  if (registry.domains.some((ours) => isWithinDomain(domain, ours))) {
    return { department: UNASSIGNED, kind: "organization" };
  }
  const partner = withinDomains(registry.partnerDomains, domain);
  if (partner) return { department: externalDepartment(domain), kind: "partner", partner };
  return { department: externalDepartment(domain), kind: "external" };
}

/** Principals repeat across millions of jobs: remember each answer, per registry, bounded. */
const memo = new WeakMap<Registry, Map<string, PrincipalClass>>();
const MEMO_LIMIT = 100_000;

/**
 * The consumer department of a principal, first rule that applies:
 * 1. an explicit principal of a department (emails compare case-insensitively; a `principal://`
 *    federated subject compares as written), else the most specific matching pattern
 *    (`*@mkt.acme.example` beats `*.acme.example`; the earlier wins a tie) -> "registered";
 * 2. a service account `NAME@PROJECT.iam.gserviceaccount.com` of a registered project -> that
 *    project's department (a shared project's owner) -> "service_account"; of a partner's
 *    billing project -> that partner;
 *    Google's default accounts and service agents (googleAccount) of a registered project, by id or
 *    by the registry's project_numbers -> that project's department, "service_account"; of a
 *    project number the registry does not list, or Google's internal systems -> "google_agent"
 *    (attribute() charges the billing project's department);
 * 3. an email in an organisation domain or subdomain -> "unassigned", "organization";
 * 4. an email in a partner's domain or subdomain -> `external:<email domain>`, "partner";
 * 5. any other email -> `external:<email domain>`, "external";
 * 6. no email (redacted "", unregistered `principal://` subject) -> "unassigned", "unknown".
 * `user:`, `serviceAccount:` and `group:` prefixes (principalSubject style) are ignored.
 */
export function classifyPrincipal(principal: string, registry: Registry): PrincipalClass {
  let cache = memo.get(registry);
  if (!cache) {
    cache = new Map();
    memo.set(registry, cache);
  }
  let answer = cache.get(principal);
  if (!answer) {
    answer = Object.freeze(classify(principal, registry));
    if (cache.size >= MEMO_LIMIT) cache.clear();
    cache.set(principal, answer);
  }
  return answer;
}

/** The project of a referenced table `projects/P/datasets/D/tables/T`; "" when not in that form. */
export function projectOfTable(table: string): string {
  if (!table.startsWith("projects/")) return "";
  const end = table.indexOf("/", 9);
  return end > 9 ? table.slice(9, end) : "";
}

/** The projects of the tables not yet in `projects`. */
function addProjects(projects: string[], tables: readonly string[]): void {
  for (const table of tables) {
    const project = projectOfTable(table);
    if (project !== "" && !projects.includes(project)) projects.push(project);
  }
}

/**
 * Sorts texts in place by UTF-16 code units, as sort() does: by insertion for the few a job
 * names, where sort()'s own set-up costs more than the comparisons.
 */
function sortShort(texts: string[]): string[] {
  if (texts.length > 8) return texts.sort();
  for (let i = 1; i < texts.length; i++) {
    const text = texts[i] as string;
    let j = i - 1;
    for (; j >= 0 && (texts[j] as string) > text; j--) texts[j + 1] = texts[j] as string;
    texts[j + 1] = text;
  }
  return texts;
}

/** Projects whose number the registry lists, per registry. */
const numbered = new WeakMap<Registry, ReadonlySet<string>>();

function hasRegisteredNumber(registry: Registry, project: string): boolean {
  let projects = numbered.get(registry);
  if (!projects) {
    projects = new Set(registry.projectNumbers.values());
    numbered.set(registry, projects);
  }
  return projects.has(project);
}

/**
 * A Google-managed account the registry cannot place runs jobs for the project it is billed to
 * (a scheduled query runs as the transfer service agent of its own project): it is charged to the
 * billing project's department, unless the registry lists that project's number and it is another
 * (then the account belongs to a project that is none of ours: external).
 */
function placeGoogleAgent(consumer: PrincipalClass, job: JobEvent, payer: string, registry: Registry) {
  if (consumer.projectNumber !== undefined && hasRegisteredNumber(registry, job.billingProject)) {
    const domain = job.principal.slice(job.principal.lastIndexOf("@") + 1).toLowerCase();
    return { department: externalDepartment(domain), kind: "external" as const };
  }
  return { department: payer, kind: "google_agent" as const };
}

/**
 * The label of the registry's label_keys that a job carries, in their order of precedence: the
 * first whose value a department lists, else the first carried (an unknown value).
 */
export function jobLabel(
  labels: Readonly<Record<string, string>>,
  registry: Registry,
): { label: string; department?: string } | undefined {
  let carried: string | undefined;
  for (const key of registry.labelKeys) {
    const value = labels[key];
    if (value === undefined) continue;
    const label = `${key}:${value}`;
    const department = registry.labelDepartments.get(label);
    if (department !== undefined) return { label, department };
    carried ??= label;
  }
  return carried === undefined ? undefined : { label: carried };
}

/** Principals whose labels decide nothing: outside the organisation. */
const OUTSIDERS: ReadonlySet<PrincipalKind> = new Set(["external", "partner"]);

/**
 * Payer (billing project's department), consumer, and data owners (referenced tables' projects).
 * The consumer is the department a job label names (label_keys, in order), whoever ran it: shared
 * service accounts and schedulers run jobs for many teams, and the label says for whom. Otherwise,
 * and always for a principal outside the organisation (a label is written by whoever submits the
 * job, so it cannot move an outsider's job onto a department), the principal's department.
 */
export function attribute(job: JobEvent, registry: Registry): Attribution {
  const payer = projectDepartment(registry, job.billingProject);
  const classified = classifyPrincipal(job.principal, registry);
  const principal =
    classified.kind === "google_agent"
      ? { ...classified, ...placeGoogleAgent(classified, job, payer.department, registry) }
      : classified;
  const labelled = registry.labelKeys.length > 0 ? jobLabel(job.labels, registry) : undefined;
  const use: LabelUse | undefined =
    labelled === undefined
      ? undefined
      : OUTSIDERS.has(principal.kind)
        ? "outsider"
        : labelled.department === undefined
          ? "unknown_value"
          : "consumer";
  const consumer =
    use === "consumer" ? { ...principal, department: labelled?.department as string } : principal;
  // A view's data is its project's (whoever owns the tables behind it): its owner chose to share it.
  // A job names a few tables: lists with includes() cost less than Sets here.
  const dataProjects: string[] = [];
  addProjects(dataProjects, job.referencedTables);
  addProjects(dataProjects, job.referencedViews);
  sortShort(dataProjects);
  const owners: string[] = [];
  for (const project of dataProjects) {
    const owner = registry.projectIndex.get(project)?.department ?? OUTSIDE;
    if (!owners.includes(owner)) owners.push(owner);
  }
  const attribution: Attribution = {
    payerDepartment: payer.department,
    consumerDepartment: consumer.department,
    billingProjectKind: payer.kind,
    principalKind: consumer.kind,
    dataProjects,
    dataOwnerDepartments: sortShort(owners),
  };
  if (consumer.partner) attribution.partner = consumer.partner;
  if (consumer.kind === "google_agent" && consumer.projectNumber !== undefined)
    attribution.agentProjectNumber = consumer.projectNumber;
  if (labelled && use) attribution.label = { label: labelled.label, use };
  if (use === "consumer") attribution.principalDepartment = principal.department;
  return attribution;
}
