// One row shape for iam_findings: the CSV file and the BigQuery table (sql/ddl/iam_findings.sql)
// take their columns from here, so the two cannot drift apart.
import { formatUsd, toNumericString } from "../money.ts";
import type { IamFinding } from "./audit.ts";

export interface IamFindingRecord {
  kind: string;
  severity: string;
  status: string;
  project: string;
  resource: string;
  member: string;
  holder: string;
  department: string;
  role: string;
  rights: string[];
  condition: string;
  jobs: number;
  /** NUMERIC text, 9 decimals: the compute cost of the holder's jobs on the project in the period. */
  cost_usd: string;
  remediation: string;
  /** `file:line: path` of the binding in the export, or the Cloud Asset Inventory resource. */
  source: string;
  /** RFC 3339: when the audit ran (the exports' time when known). */
  audit_time: string;
}

export const IAM_FINDING_COLUMNS = [
  "kind",
  "severity",
  "status",
  "project",
  "resource",
  "member",
  "holder",
  "department",
  "role",
  "rights",
  "condition",
  "jobs",
  "cost_usd",
  "remediation",
  "source",
  "audit_time",
] as const satisfies readonly (keyof IamFindingRecord)[];

export function iamFindingRecord(finding: IamFinding, auditTime: string): IamFindingRecord {
  const { source } = finding;
  return {
    kind: finding.kind,
    severity: finding.severity,
    status: finding.status,
    project: finding.project,
    resource: finding.resource,
    member: finding.member,
    holder: finding.holder,
    department: finding.department,
    role: finding.role,
    rights: finding.rights,
    condition: finding.condition,
    jobs: finding.jobs,
    cost_usd: toNumericString(finding.cost),
    remediation: finding.remediation,
    source:
      source.line > 0 ? `${source.file}:${source.line}: ${source.path}` : `${source.file}: ${source.path}`,
    audit_time: auditTime,
  };
}

/** A record as CSV cells: lists `;`-joined, USD with 6 decimals. */
export function iamFindingCells(finding: IamFinding, auditTime: string): (string | number)[] {
  const record = iamFindingRecord(finding, auditTime);
  return IAM_FINDING_COLUMNS.map((column) => {
    if (column === "cost_usd") return formatUsd(finding.cost);
    const value = record[column];
    return Array.isArray(value) ? value.join(";") : value;
  });
}
