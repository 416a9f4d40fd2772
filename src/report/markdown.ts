// report.md: the chargeback in words and tables, for someone who opens the folder. Pure.
import { shown } from "../core/findings.ts";
import { formatUsd } from "../core/money.ts";
import type { ChargebackReport } from "../core/pipeline.ts";
import { CHARGEBACK_MATRIX, DEPARTMENT_COSTS, textCells } from "../core/rows.ts";
import { freeTierParagraphs } from "./free-tier-section.ts";
import { invoiceSection } from "./invoice-section.ts";
import { labelCoverageSection } from "./label-section.ts";
import { type Summary, unpricedStorageText } from "./summary.ts";
import { viewReadSection } from "./view-section.ts";

const MAX_FINDINGS = 25;

/**
 * A cell as literal text: every character Markdown (CommonMark, GFM tables) could read as a link,
 * an image, HTML, code, emphasis or a cell border is backslash-escaped, and line breaks become
 * spaces. Principals, projects and departments come from the logs. `_` is left alone: ids are
 * full of it (external_free_ride) and inside a word it never starts emphasis.
 */
function escapeMarkdownCell(cell: string): string {
  return cell.replace(/[\\`*[\]<>|!~&]/g, "\\$&").replace(/[\r\n\u2028\u2029]+/g, " ");
}

/** A Markdown table, cells escaped. */
export function table(header: string[], rows: string[][]): string {
  return [
    `| ${header.join(" | ")} |`,
    `|${header.map(() => "---").join("|")}|`,
    ...rows.map((row) => `| ${row.map(escapeMarkdownCell).join(" | ")} |`),
  ].join("\n");
}

const usd = (nanos: bigint) => formatUsd(nanos, 2);

/** `extra`: further sections (the IAM audit), appended as written. */
export function renderMarkdown(report: ChargebackReport, summary: Summary, extra = ""): string {
  const out: string[] = [];
  out.push(`# BigQuery chargeback ${report.from} to ${report.to}`);
  if (summary.warning) out.push(`> **Warning:** ${summary.warning}`);
  out.push(
    `Billing days in ${report.timeZone}, periods by ${report.granularity}. ${summary.jobs} jobs from ${summary.entries_read} log entries; ` +
      `${summary.rejected.total} entries rejected (see rejected.ndjson), ${summary.duplicate_job_entries} duplicate job entries counted once.`,
  );
  out.push(
    table(
      ["", "USD"],
      [
        ["compute", usd(report.totals.compute)],
        ["storage", usd(report.totals.storage)],
        ["free rides (paid for others)", usd(report.totals.freeRides)],
      ],
    ),
  );
  const unpricedStorage = unpricedStorageText(report.totals.unpricedStorageByLocation);
  if (unpricedStorage) out.push(`Storage: ${unpricedStorage}.`);
  out.push("## Cost per department");
  out.push(
    "*Paid*: compute billed to the department's projects. *Consumed*: compute its people and service accounts ran, wherever billed. " +
      "*Given*: what it paid for others' free rides. *Taken*: what others paid for its jobs.",
  );
  out.push(
    table(
      [
        "period",
        "department",
        "compute paid",
        "compute consumed",
        "storage",
        "free rides given",
        "free rides taken",
        "unpriced jobs",
      ],
      report.departmentCosts.map((row) => textCells(row, DEPARTMENT_COSTS, 2)),
    ),
  );
  out.push("## Chargeback matrix (payer x consumer)");
  out.push(
    table(
      ["period", "payer", "consumer", "jobs", "compute USD"],
      report.chargebackMatrix.map((row) => textCells(row, CHARGEBACK_MATRIX, 2)),
    ),
  );
  out.push(`## Findings (${report.totals.findings}, most expensive first)`);
  if (report.totals.findings === 0) out.push("No free rides or unexpected billing projects.");
  else {
    out.push(
      table(
        ["kind", "severity", "job", "billing project", "principal", "data projects", "USD", "remediation"],
        report.findings
          .slice(0, MAX_FINDINGS)
          .map((f) => [
            f.kind,
            f.severity,
            shown(f.jobId, "jobId"),
            shown(f.billingProject, "billingProject"),
            shown(f.principal, "principal"),
            f.dataProjects.join(", "),
            formatUsd(f.cost, 6),
            f.remediation,
          ]),
      ),
    );
    if (report.totals.findings > MAX_FINDINGS)
      out.push(`… and ${report.totals.findings - MAX_FINDINGS} more in findings.csv.`);
  }
  if (summary.label_coverage) {
    const section = labelCoverageSection(summary.label_coverage);
    out.push("## Job labels");
    out.push(section.intro);
    out.push(table(section.header, section.rows));
    if (section.unknownRows.length > 0) out.push(table(section.unknownHeader, section.unknownRows));
  }
  if (summary.views_across_projects) {
    const section = viewReadSection(summary.views_across_projects);
    out.push("## Data read through another project's view");
    out.push(section.intro);
    out.push(table(section.header, section.rows));
  }
  if (summary.free_tier) {
    const section = freeTierParagraphs(summary.free_tier);
    out.push("## Free tier");
    out.push(section.intro);
    if (section.months.length > 0) out.push(section.months.map((line) => `- ${line}`).join("\n"));
    out.push(...section.notes);
  }
  if (report.invoice) {
    const section = invoiceSection(report, report.invoice);
    out.push("## Reconciliation with the invoice");
    out.push(section.intro);
    for (const t of section.tables) out.push(`**${t.caption}**\n\n${table(t.header, t.rows)}`);
  }
  if (summary.rejected.total > 0) {
    out.push("## Rejected entries");
    out.push(
      table(
        ["reason", "entries"],
        Object.entries(summary.rejected.by_reason).map(([reason, count]) => [reason, String(count)]),
      ),
    );
  }
  if (extra) out.push(extra);
  return `${out.join("\n\n")}\n`;
}
