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
  OUTSIDE,
  type PrincipalKind,
  UNASSIGNED,
} from "./types.ts";

export interface PrincipalClass {
  readonly department: string;
  readonly kind: PrincipalKind;
  /** For partner principals: the partner id. */
  readonly partner?: string;
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
  for (const glob of registry.principalGlobs) if (glob.regex.test(email)) consider(glob);
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

/** Payer (billing project's department), consumer (principal's), and data owners (referenced tables' projects). */
export function attribute(job: JobEvent, registry: Registry): Attribution {
  const payer = projectDepartment(registry, job.billingProject);
  const consumer = classifyPrincipal(job.principal, registry);
  const projects = new Set<string>();
  for (const table of job.referencedTables) {
    const project = projectOfTable(table);
    if (project !== "") projects.add(project);
  }
  const dataProjects = [...projects].sort();
  const owners = new Set<string>();
  for (const project of dataProjects) owners.add(registry.projectIndex.get(project)?.department ?? OUTSIDE);
  const attribution: Attribution = {
    payerDepartment: payer.department,
    consumerDepartment: consumer.department,
    billingProjectKind: payer.kind,
    principalKind: consumer.kind,
    dataProjects,
    dataOwnerDepartments: [...owners].sort(),
  };
  if (consumer.partner) attribution.partner = consumer.partner;
  return attribution;
}
