// The "Who can bill which project" section of report.md and report.html: the findings first,
// then the holder x project matrix of jobs.create. Pure; every string from the exports is escaped.
import type { IamFinding } from "../core/iam/audit.ts";
import { IAM_FINDING_KINDS } from "../core/iam/audit.ts";
import { formatUsd } from "../core/money.ts";
import type { IamRun } from "../io/iam-files.ts";
import { escapeHtml } from "./escape-html.ts";
import { table as markdownTable } from "./markdown.ts";

const MAX_FINDINGS = 50;

const HOLDER_LABELS: Record<string, string> = {
  own_department: "own department",
  shared_project: "other departments on a shared project",
  other_department: "another department",
  organization: "organisation, no department",
  google_managed: "Google-managed service agents",
  unmapped: "unmapped project numbers",
  partner: "partners",
  outsider: "outsiders",
  public: "public (allUsers, foreign domains)",
};

function statusText(finding: IamFinding): string {
  if (finding.status === "realized")
    return `realized: ${finding.jobs} jobs, ${formatUsd(finding.cost, 2)} USD`;
  if (finding.status === "latent") return "latent: no job in the logs";
  if (finding.status === "unknown") return "unknown: members unseen";
  if (finding.status === "not_checked") return "not checked (no logs)";
  return "";
}

function findingCells(finding: IamFinding): string[] {
  return [
    finding.severity,
    finding.kind,
    statusText(finding),
    finding.project,
    finding.member,
    finding.role + (finding.resource !== finding.project ? ` on ${finding.resource}` : ""),
    finding.condition ? `only when ${finding.condition}` : "",
    finding.remediation,
  ];
}

const FINDING_HEADER = [
  "severity",
  "finding",
  "use",
  "project",
  "member",
  "role",
  "condition",
  "remove or change",
];

function lede(input: IamRun): string {
  const { findings, problems, usageChecked } = input.audit;
  const critical = findings.filter((f) => f.severity === "critical").length;
  return (
    `${findings.length} findings (${critical} critical) from the IAM policies (audited at ${input.auditTime})` +
    `${usageChecked ? ", joined with the logs of the period (realized: the logs show the holder's jobs there; latent: they show none)" : "; no logs given, so use is not checked"}. ` +
    `${problems.length} bindings could not be judged (iam_rejected.ndjson).`
  );
}

function matrixRows(input: IamRun): string[][] {
  return input.audit.matrix.rows.map((row) => [
    HOLDER_LABELS[row.holder] ?? row.holder,
    ...row.counts.map(String),
  ]);
}

export function iamMarkdown(input: IamRun): string {
  const { findings, matrix, problems } = input.audit;
  const out: string[] = [lede(input)];
  out.push(`### IAM findings (${findings.length}, most severe first)`);
  if (findings.length === 0) out.push("No grant to remove or change.");
  else {
    out.push(markdownTable(FINDING_HEADER, findings.slice(0, MAX_FINDINGS).map(findingCells)));
    if (findings.length > MAX_FINDINGS)
      out.push(`… and ${findings.length - MAX_FINDINGS} more in iam_findings.csv.`);
  }
  out.push("### Who holds bigquery.jobs.create (members per project)");
  out.push(markdownTable(["holder", ...matrix.projects], matrixRows(input)));
  out.push(
    markdownTable(
      ["finding", "severity", "meaning"],
      Object.entries(IAM_FINDING_KINDS).map(([kind, { severity, meaning }]) => [kind, severity, meaning]),
    ),
  );
  if (problems.length > 0) {
    out.push("### Bindings that could not be judged");
    out.push(
      markdownTable(
        ["where", "reason", "detail"],
        problems.map((p) => [`${p.source.file}:${p.source.line} ${p.source.path}`, p.reason, p.detail]),
      ),
    );
  }
  return out.join("\n\n");
}

function htmlTable(caption: string, header: string[], rows: string[][], className = ""): string {
  return `<table${className ? ` class="${className}"` : ""}><caption>${escapeHtml(caption)}</caption><thead><tr>${header
    .map((h) => `<th>${escapeHtml(h)}</th>`)
    .join("")}</tr></thead><tbody>${rows
    .map(
      (row) =>
        `<tr>${row.map((cell, i) => `<td${i === 0 && cell === "critical" ? ' class="sev-critical"' : ""}>${escapeHtml(cell)}</td>`).join("")}</tr>`,
    )
    .join("")}</tbody></table>`;
}

export function iamHtmlSection(input: IamRun): string {
  const { findings, matrix, problems } = input.audit;
  return `<section id="iam"><h2>Who can bill which project</h2>
<p>${escapeHtml(lede(input))}</p>
${htmlTable(`IAM findings (${findings.length}, most severe first)`, FINDING_HEADER, findings.slice(0, MAX_FINDINGS).map(findingCells), "iam-findings")}
${findings.length > MAX_FINDINGS ? `<p class="more">… and ${findings.length - MAX_FINDINGS} more in iam_findings.csv.</p>` : ""}
${htmlTable("Who holds bigquery.jobs.create: members per holder class and project", ["holder", ...matrix.projects], matrixRows(input), "iam-matrix")}
${
  problems.length > 0
    ? htmlTable(
        "Bindings that could not be judged",
        ["where", "reason", "detail"],
        problems.map((p) => [`${p.source.file}:${p.source.line} ${p.source.path}`, p.reason, p.detail]),
      )
    : ""
}
</section>
`;
}

/** A page of its own, for `iam` without logs. */
export function iamHtmlPage(input: IamRun): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Who can bill which project</title>
<style>
  :root { color: #1b1f24; background: #fff; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; }
  body { max-width: 1100px; margin: 0 auto; padding: 24px; }
  table { border-collapse: collapse; width: 100%; margin: 8px 0 16px; font-size: .9rem; }
  caption { text-align: left; font-weight: 600; padding: 4px 0; }
  th, td { border-bottom: 1px solid #e3e7eb; padding: 4px 8px; text-align: left; vertical-align: top; overflow-wrap: anywhere; }
  th { background: #f5f7f9; } .sev-critical { color: #b00020; font-weight: 600; } .more { color: #555; font-style: italic; }
</style>
</head>
<body>
${iamHtmlSection(input)}</body>
</html>
`;
}

export interface IamSummary {
  inputs: string[];
  audit_time: string;
  grants: number;
  job_rights: number;
  read_rights: number;
  usage_checked: boolean;
  findings: { total: number; by_kind: Record<string, number>; by_severity: Record<string, number> };
  /** Cost of the jobs behind realized external and cross-department findings. */
  realized_usd: string;
  rejected: { total: number; by_reason: Record<string, number> };
  roles_outside_table: Record<string, number>;
  authorized_resources: number;
}

export function iamSummary(run: IamRun): IamSummary {
  const { audit } = run;
  const byReason: Record<string, number> = {};
  for (const problem of audit.problems) byReason[problem.reason] = (byReason[problem.reason] ?? 0) + 1;
  const realized = audit.findings.filter((f) => f.status === "realized").reduce((sum, f) => sum + f.cost, 0n);
  return {
    inputs: run.inputs,
    audit_time: run.auditTime,
    grants: audit.counts.grants,
    job_rights: audit.counts.jobRights,
    read_rights: audit.counts.readRights,
    usage_checked: audit.usageChecked,
    findings: {
      total: audit.findings.length,
      by_kind: audit.counts.findingsByKind,
      by_severity: audit.counts.findingsBySeverity,
    },
    realized_usd: formatUsd(realized),
    rejected: { total: audit.problems.length, by_reason: byReason },
    roles_outside_table: audit.counts.rolesOutsideTable,
    authorized_resources: run.authorizedResources,
  };
}

/** The lines a person reads at the end of a run. */
export function iamSummaryText(summary: IamSummary, outDir: string): string {
  const list = (counts: Record<string, number>) =>
    Object.entries(counts)
      .map(([key, count]) => `${key} ${count}`)
      .join(", ");
  return [
    `iam grants    ${summary.grants} (jobs.create ${summary.job_rights}, tables.getData ${summary.read_rights})`,
    `iam findings  ${summary.findings.total}${summary.findings.total ? ` (${list(summary.findings.by_severity)})` : ""}${summary.usage_checked ? `; realized ${summary.realized_usd} USD` : "; not joined with logs"}`,
    `iam rejected  ${summary.rejected.total}${summary.rejected.total ? ` (${list(summary.rejected.by_reason)})` : ""} -> ${outDir}/iam_rejected.ndjson`,
    `iam findings  -> ${outDir}/iam_findings.csv`,
  ].join("\n");
}
