// Free-ride and unexpected-billing rules. Every finding names the job, the principal, the
// projects and the permission to change, because the fix for a free ride is always a grant.
import { REDACTED } from "./findings.ts";
import {
  type Attribution,
  type BillingProjectKind,
  type Finding,
  type FindingKind,
  type JobEvent,
  OUTSIDE,
  type Pricing,
  type PrincipalKind,
  type Severity,
  type TableReadEvent,
} from "./types.ts";

/** What detection needs to know of the registry. */
export interface RegistryView {
  projectKind(project: string): BillingProjectKind;
  projectDepartment(project: string): string;
  principalKind(principal: string): PrincipalKind;
  principalDepartment(principal: string): string;
  isPartnerBillingProject(project: string): boolean;
}

/** The IAM member string of a principal: serviceAccount:, user:, or the principal itself (principal://...). */
export function iamMember(principal: string): string {
  if (principal === "") return REDACTED.principal;
  if (principal.includes("://") || /^(user|serviceAccount|group|domain):/.test(principal)) return principal;
  return principal.endsWith(".gserviceaccount.com") ? `serviceAccount:${principal}` : `user:${principal}`;
}

function finding(
  kind: FindingKind,
  severity: Severity,
  job: JobEvent,
  attribution: Attribution,
  pricing: Pricing,
  usageDate: string,
  remediation: string,
): Finding {
  return {
    kind,
    severity,
    jobId: job.jobId,
    billingProject: job.billingProject,
    principal: job.principal,
    dataProjects: attribution.dataProjects,
    cost: pricing.computeCost,
    remediation,
    time: job.endTime,
    usageDate,
  };
}

/**
 * Findings of one priced job. Script parents carry none: their children are the jobs that ran
 * (and are checked one by one), so a parent would only repeat them.
 */
export function detectJobFindings(
  job: JobEvent,
  attribution: Attribution,
  pricing: Pricing,
  usageDate: string,
): Finding[] {
  if (pricing.pricingModel === "script_parent") return [];
  const findings: Finding[] = [];
  // the principal's IAM member only where a finding names it: most jobs have none
  const member = () => iamMember(job.principal);
  const project = job.billingProject;
  // A finding is a grant to change: the principal's, whatever department a label charges.
  const principalDepartment = attribution.principalDepartment ?? attribution.consumerDepartment;
  if (attribution.billingProjectKind === "unregistered") {
    findings.push(
      finding(
        "unregistered_project",
        pricing.computeCost > 0n ? "medium" : "low",
        job,
        attribution,
        pricing,
        usageDate,
        `add project ${project} to a department's projects (or to shared_projects) in the registry, or remove roles/bigquery.jobUser grants on ${project}`,
      ),
    );
  }
  const number = attribution.agentProjectNumber;
  if (number !== undefined) {
    findings.push(
      finding(
        "unregistered_project_number",
        "low",
        job,
        attribution,
        pricing,
        usageDate,
        `${member()} is a Google-managed account of project number ${number}, charged to ${project}'s department meanwhile: if ${number} is ${project}'s number (gcloud projects describe ${project} --format="value(projectNumber)"), add "${project}: ${number}" under project_numbers in the registry; otherwise register the project it belongs to`,
      ),
    );
  }
  if (attribution.principalKind === "external" || attribution.principalKind === "partner") {
    // Critical when every table it read is outside the organisation: their data, our bill.
    const ownDataOnly =
      attribution.dataOwnerDepartments.length > 0 &&
      attribution.dataOwnerDepartments.every((d) => d === OUTSIDE);
    const who = attribution.partner ? ` (partner ${attribution.partner})` : "";
    findings.push(
      finding(
        "external_free_ride",
        ownDataOnly ? "critical" : "high",
        job,
        attribution,
        pricing,
        usageDate,
        `remove roles/bigquery.jobUser for ${member()}${who} on project ${project}; to share data, grant roles/bigquery.dataViewer on the datasets only and let them query from their own billing project`,
      ),
    );
  } else if (
    attribution.billingProjectKind === "department" &&
    (attribution.principalKind === "registered" || attribution.principalKind === "service_account") &&
    principalDepartment !== attribution.payerDepartment
  ) {
    findings.push(
      finding(
        "cross_department_free_ride",
        "medium",
        job,
        attribution,
        pricing,
        usageDate,
        `remove roles/bigquery.jobUser for ${member()} on project ${project} (department ${attribution.payerDepartment}); ${principalDepartment} should run its jobs in its own project, or declare ${project} in shared_projects if it is meant to be shared`,
      ),
    );
  }
  return findings;
}

/**
 * The finding of one tableDataRead entry, if it is one: a job (reason JOB) read one of our data
 * projects and was billed where nobody expected. Pure: the ingest function judges each read alone.
 */
export function unexpectedReadFinding(
  read: TableReadEvent,
  view: RegistryView,
  usageDate: string,
): Finding | undefined {
  if (read.reason !== "JOB") return undefined;
  if (view.projectKind(read.dataProject) === "unregistered") return undefined;
  const reader = read.readerBillingProject;
  let severity: Severity;
  let remediation: string;
  const member = iamMember(read.principal);
  if (reader !== undefined) {
    if (view.projectKind(reader) !== "unregistered" || view.isPartnerBillingProject(reader)) return undefined;
    severity = "high";
    remediation = `remove roles/bigquery.dataViewer for ${member} on ${read.dataProject} (or the dataset), or add ${reader} to a partner's billing_projects in the registry if this sharing is intended`;
  } else {
    // Google redacts the billing project when it is outside the organisation: judge by the principal.
    if (view.principalKind(read.principal) === "partner") return undefined;
    severity = read.principal === "" ? "critical" : "high";
    remediation = `a principal outside the registry read ${read.dataProject} from a billing project outside the organisation: remove roles/bigquery.dataViewer for ${member} on ${read.dataProject} (or the dataset), or register the reader as a partner`;
  }
  return {
    kind: "unexpected_billing_project",
    severity,
    jobId: read.readerJobId ?? "",
    billingProject: reader ?? "",
    principal: read.principal,
    dataProjects: [read.dataProject],
    cost: 0n,
    remediation,
    time: read.timestamp,
    usageDate,
  };
}

/**
 * Collects the findings of table reads: reads of one job across several tables become one
 * finding; repeated entries none.
 */
export class UnexpectedReadDetector {
  private readonly byKey = new Map<string, Finding>();
  /** Entries whose cost is counted (Storage Read API reads). */
  private readonly costedEntries = new Set<string>();
  private readonly view: RegistryView;

  constructor(view: RegistryView) {
    this.view = view;
  }

  /** Returns true when the read is a finding (new or merged into an existing one). */
  add(read: TableReadEvent, usageDate: string): boolean {
    const finding = unexpectedReadFinding(read, this.view, usageDate);
    if (finding) this.merge(finding);
    return finding !== undefined;
  }

  /**
   * Takes a read's finding (judged elsewhere, e.g. in a worker thread). A read session's findings
   * add up the bytes of its entries: `entryKey` (the LogEntry's) counts a repeated entry once.
   */
  merge(finding: Finding, entryKey?: string): void {
    if (entryKey !== undefined && finding.cost > 0n) {
      if (this.costedEntries.has(entryKey)) return;
      this.costedEntries.add(entryKey);
    }
    // A redacted job has no id: reads by one principal at one instant are one job (several tables).
    const key = `${finding.kind}|${finding.jobId || `${finding.principal}|${finding.time}`}`;
    const existing = this.byKey.get(key);
    if (!existing) {
      this.byKey.set(key, { ...finding, dataProjects: [...finding.dataProjects] });
      return;
    }
    existing.cost += finding.cost;
    for (const project of finding.dataProjects) {
      if (!existing.dataProjects.includes(project)) {
        existing.dataProjects = [...existing.dataProjects, project].sort();
      }
    }
  }

  findings(): Finding[] {
    return [...this.byKey.values()];
  }
}
