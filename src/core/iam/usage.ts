// What the audit logs show each principal did on each billing project: the jobs (and their cost)
// that turn a grant from latent into realized.
import type { Nanos } from "../money.ts";
import { isWithinDomain, stripMemberPrefix } from "../registry.ts";

export interface Use {
  jobs: number;
  cost: Nanos;
}

export class GrantUsage {
  /** Billing project -> lower-case principal -> use. */
  private readonly byProject = new Map<string, Map<string, Use>>();

  add(principal: string, billingProject: string, cost: Nanos): void {
    this.addJobs(principal, billingProject, 1, cost);
  }

  /** Several jobs at once: a row of sql/iam/grant_usage.sql. */
  addJobs(principal: string, billingProject: string, jobs: number, cost: Nanos): void {
    const key = principalKey(principal);
    if (key === "") return;
    let principals = this.byProject.get(billingProject);
    if (!principals) {
      principals = new Map();
      this.byProject.set(billingProject, principals);
    }
    const use = principals.get(key);
    if (use) {
      use.jobs += jobs;
      use.cost += cost;
    } else principals.set(key, { jobs, cost });
  }

  /** One principal's jobs on a project (emails compare case-insensitively). */
  ofPrincipal(principal: string, project: string): Use {
    return { ...(this.byProject.get(project)?.get(principalKey(principal)) ?? { jobs: 0, cost: 0n }) };
  }

  /** The jobs on a project of every principal of a domain (and its subdomains). */
  ofDomain(domain: string, project: string): Use {
    const total: Use = { jobs: 0, cost: 0n };
    for (const [principal, use] of this.byProject.get(project) ?? []) {
      const at = principal.lastIndexOf("@");
      if (at > 0 && isWithinDomain(principal.slice(at + 1), domain)) {
        total.jobs += use.jobs;
        total.cost += use.cost;
      }
    }
    return total;
  }
}

function principalKey(principal: string): string {
  const value = stripMemberPrefix(principal.trim());
  return value.startsWith("principal://") ? value : value.toLowerCase();
}
