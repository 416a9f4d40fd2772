// Who paid, who consumed, whose data: the registry applied to one job.
import { projectDepartment, type Registry, stripMemberPrefix } from "./registry.ts";
import {
  type Attribution,
  externalDepartment,
  type JobEvent,
  type PrincipalKind,
  UNASSIGNED,
} from "./types.ts";

export interface PrincipalClass {
  department: string;
  kind: PrincipalKind;
  partner?: string;
}

const SERVICE_ACCOUNT = /^[^@]+@([a-z][a-z0-9-]{4,28}[a-z0-9])\.iam\.gserviceaccount\.com$/;
const OUTSIDE = "outside";

/** Principals repeat across millions of jobs: remember each answer (bounded, per registry). */
const memo = new WeakMap<Registry, Map<string, PrincipalClass>>();
const MEMO_LIMIT = 100_000;

function domainMatches(domain: string, ours: string): boolean {
  return domain === ours || domain.endsWith(`.${ours}`);
}

function classify(principal: string, registry: Registry): PrincipalClass {
  const key = stripMemberPrefix(principal).toLowerCase();
  if (key === "") return { department: UNASSIGNED, kind: "unknown" };
  const exact = registry.exactPrincipals.get(key);
  if (exact) return { department: exact, kind: "registered" };
  const at = key.lastIndexOf("@");
  if (at < 0) return { department: UNASSIGNED, kind: "unknown" };
  for (const pattern of registry.principalPatterns) {
    // `*@mkt.acme.example` matches that domain only; `*.acme.example` matches its subdomains.
    if (
      pattern.suffix.startsWith("@")
        ? key.endsWith(pattern.suffix)
        : key.slice(at + 1).endsWith(pattern.suffix)
    ) {
      return { department: pattern.department, kind: "registered" };
    }
  }
  const serviceAccount = SERVICE_ACCOUNT.exec(key);
  if (serviceAccount) {
    const owner = registry.projectIndex.get(serviceAccount[1] as string);
    if (owner) return { department: owner.department, kind: "service_account" };
  }
  const domain = key.slice(at + 1);
  if (registry.domains.some((ours) => domainMatches(domain, ours)))
    return { department: UNASSIGNED, kind: "organization" };
  for (const [partnerDomain, partner] of registry.partnerDomains) {
    if (domainMatches(domain, partnerDomain))
      return { department: externalDepartment(domain), kind: "partner", partner };
  }
  return { department: externalDepartment(domain), kind: "external" };
}

export function classifyPrincipal(principal: string, registry: Registry): PrincipalClass {
  let cache = memo.get(registry);
  if (!cache) {
    cache = new Map();
    memo.set(registry, cache);
  }
  let answer = cache.get(principal);
  if (!answer) {
    answer = classify(principal, registry);
    if (cache.size >= MEMO_LIMIT) cache.clear();
    cache.set(principal, answer);
  }
  return answer;
}

/** The project of `projects/P/datasets/D/tables/T`. */
function projectOfTable(table: string): string {
  const end = table.indexOf("/", 9);
  return end > 9 ? table.slice(9, end) : "";
}

export function attribute(job: JobEvent, registry: Registry): Attribution {
  const payer = projectDepartment(registry, job.billingProject);
  const consumer = classifyPrincipal(job.principal, registry);
  const dataProjects = [...new Set(job.referencedTables.map(projectOfTable).filter((p) => p !== ""))].sort();
  const owners = new Set<string>();
  for (const project of dataProjects) {
    const owner = registry.projectIndex.get(project);
    owners.add(owner ? owner.department : OUTSIDE);
  }
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
