// report.html: one self-contained page for finance and department heads. Charts are inline SVG
// drawn at report time, every chart has a table beside it, nothing is fetched, and it prints.
// Every string from the logs is escaped: principals and project ids come from outside.
import { FINDING_KINDS, type FindingKind, shown } from "../core/findings.ts";
import { formatUsd, type Nanos } from "../core/money.ts";
import type { ChargebackReport } from "../core/pipeline.ts";
import { CHARGEBACK_MATRIX, DEPARTMENT_COSTS, textCells } from "../core/rows.ts";
import { PAGE_FINDINGS } from "../core/top-findings.ts";
import type { Finding } from "../core/types.ts";
import { PALETTE, renderSvg } from "./charts.ts";
import { escapeHtml } from "./escape-html.ts";
import { freeTierParagraphs, freeTierSummary } from "./free-tier-section.ts";
import { invoiceSection } from "./invoice-section.ts";
import { labelCoverageSection, labelCoverageSummary } from "./label-section.ts";
import { inputStatus, unpricedStorageText } from "./summary.ts";
import { viewReadSection, viewReadSummary } from "./view-section.ts";

const MAX_FINDINGS = PAGE_FINDINGS;

const usd = (nanos: Nanos) => formatUsd(nanos, 2);
const toNumber = (nanos: Nanos) => Number(formatUsd(nanos, 2));

function table(
  caption: string,
  header: string[],
  rows: string[][],
  numeric: number[] = [],
  className = "",
): string {
  const cell = (text: string, i: number, tag: "td" | "th") =>
    `<${tag}${numeric.includes(i) ? ' class="num"' : ""}>${escapeHtml(text)}</${tag}>`;
  return `<table${className ? ` class="${className}"` : ""}><caption>${escapeHtml(caption)}</caption><thead><tr>${header.map((h, i) => cell(h, i, "th")).join("")}</tr></thead><tbody>${rows
    .map((row) => `<tr>${row.map((c, i) => cell(c, i, "td")).join("")}</tr>`)
    .join("")}</tbody></table>`;
}

/** The job-label coverage and the data read through another project's view, when there are any. */
function labelAndViewSections(report: ChargebackReport): string {
  let html = "";
  if (report.labelCoverage) {
    const section = labelCoverageSection(labelCoverageSummary(report.labelCoverage));
    html += `<section id="labels"><h2>Job labels</h2>
<p>${escapeHtml(section.intro)}</p>
${table("Jobs and compute the labels explain", section.header, section.rows, [1, 2, 3, 4])}
${section.unknownRows.length > 0 ? table("Label values no department lists", section.unknownHeader, section.unknownRows, [1, 2]) : ""}
</section>
`;
  }
  if (report.viewReads) {
    const section = viewReadSection(viewReadSummary(report.viewReads));
    html += `<section id="views"><h2>Data read through another project's view</h2>
<p>${escapeHtml(section.intro)}</p>
${table("View project and the projects whose data its jobs read", section.header, section.rows, [4, 5])}
</section>
`;
  }
  return html;
}

function figure(id: string, label: string, svg: string): string {
  return `<figure role="img" aria-labelledby="${id}" data-chart="${id}"><figcaption id="${id}">${escapeHtml(label)}</figcaption>${svg}</figure>`;
}

function sumBy<T>(
  items: readonly T[],
  key: (item: T) => string,
  value: (item: T) => Nanos,
): Map<string, Nanos> {
  const sums = new Map<string, Nanos>();
  for (const item of items) sums.set(key(item), (sums.get(key(item)) ?? 0n) + value(item));
  return sums;
}

function findingRows(findings: Finding[]): string[][] {
  return findings.map((f) => [
    f.kind.replaceAll("_", " "),
    f.severity,
    usd(f.cost),
    shown(f.principal, "principal"),
    shown(f.billingProject, "billingProject"),
    f.dataProjects.join(", "),
    shown(f.jobId, "jobId"),
    f.remediation,
  ]);
}

/** What the page says of where the details are, by what the report was built from. */
const DETAILS = {
  log_entries: {
    read: (report: ChargebackReport) => `${report.counters.entries} log entries read, `,
    rejected: "rejected.ndjson",
    findings: "findings.csv",
    decimals: "the CSV files have 6 decimals",
  },
  report_tables: {
    read: () => "",
    rejected: "table rejected_entries",
    findings: "the findings table",
    decimals: "the BigQuery tables have 9",
  },
} as const;

/**
 * `extra`: further sections (the IAM audit), placed before the footer. `inputWarning`: the run's
 * own word on its input when it knows more than the report (files refused: summary.ts).
 */
export function renderHtml(report: ChargebackReport, extra = "", inputWarning?: string | null): string {
  const details = DETAILS[report.origin];
  // what a run over log entries says of its input (the report tables were checked when written)
  const warning =
    inputWarning !== undefined
      ? inputWarning
      : report.origin === "log_entries"
        ? inputStatus(report).warning
        : null;
  const rejectedTotal = Object.values(report.counters.rejected).reduce((a, b) => a + b, 0);
  const departments = [...new Set(report.departmentCosts.map((row) => row.department))].sort();
  const paid = sumBy(
    report.departmentCosts,
    (r) => r.department,
    (r) => r.compute_paid_usd,
  );
  const consumed = sumBy(
    report.departmentCosts,
    (r) => r.department,
    (r) => r.compute_consumed_usd,
  );
  const storage = sumBy(
    report.departmentCosts,
    (r) => r.department,
    (r) => r.storage_usd,
  );
  const departmentChart = renderSvg(
    {
      legend: { top: 0, itemGap: 40 },
      grid: { left: 70, right: 20, top: 40, bottom: 90 },
      tooltip: {},
      xAxis: { type: "category", data: departments, axisLabel: { rotate: 30, interval: 0 } },
      yAxis: { type: "value", name: "USD" },
      series: [
        { name: "compute paid", type: "bar", data: departments.map((d) => toNumber(paid.get(d) ?? 0n)) },
        {
          name: "compute consumed",
          type: "bar",
          data: departments.map((d) => toNumber(consumed.get(d) ?? 0n)),
        },
        { name: "storage", type: "bar", data: departments.map((d) => toNumber(storage.get(d) ?? 0n)) },
      ],
    },
    900,
    380,
  );

  const payers = [...new Set(report.chargebackMatrix.map((r) => r.payer_department))].sort();
  const consumers = [...new Set(report.chargebackMatrix.map((r) => r.consumer_department))].sort();
  const cells = sumBy(
    report.chargebackMatrix,
    (r) => `${r.payer_department}\u0000${r.consumer_department}`,
    (r) => r.compute_cost_usd,
  );
  const heat = [...cells.entries()].map(([key, cost]) => {
    const [payer = "", consumer = ""] = key.split("\u0000");
    return [consumers.indexOf(consumer), payers.indexOf(payer), toNumber(cost)];
  });
  const matrixChart = renderSvg(
    {
      grid: { left: 130, right: 30, top: 20, bottom: 130 },
      xAxis: {
        type: "category",
        data: consumers,
        name: "consumer",
        nameLocation: "end",
        axisLabel: { rotate: 30, interval: 0 },
      },
      yAxis: { type: "category", data: payers, name: "payer" },
      visualMap: {
        min: 0,
        max: Math.max(1, ...heat.map((h) => h[2] as number)),
        orient: "horizontal",
        left: "center",
        bottom: 0,
        calculable: false,
        inRange: { color: ["#eef5fb", "#0072B2"] },
      },
      series: [
        {
          type: "heatmap",
          data: heat,
          label: { show: true, formatter: (p: { value: number[] }) => (p.value[2] ?? 0).toFixed(2) },
        },
      ],
    },
    900,
    420,
  );

  const days = [...new Set(report.trend.map((r) => r.day))].sort();
  const trendBy = sumBy(
    report.trend,
    (r) => `${r.department}\u0000${r.day}`,
    (r) => r.computePaid,
  );
  const trendDepartments = [...new Set(report.trend.map((r) => r.department))].sort();
  const trendChart = renderSvg(
    {
      legend: { top: 0, type: "scroll" },
      grid: { left: 70, right: 20, top: 40, bottom: 60 },
      xAxis: { type: "category", data: days },
      yAxis: { type: "value", name: "USD per day" },
      series: trendDepartments.map((department) => ({
        name: department,
        type: "line",
        showSymbol: false,
        color: PALETTE[departments.indexOf(department) % PALETTE.length],
        data: days.map((day) => toNumber(trendBy.get(`${department}\u0000${day}`) ?? 0n)),
      })),
    },
    900,
    340,
  );

  const freeRides = report.findings.filter((f) => FINDING_KINDS[f.kind].section === "free_rides");
  const unexpected = report.findings.filter((f) => FINDING_KINDS[f.kind].section === "unexpected");
  // The report keeps only the most expensive findings of each section: the section's count is by kind.
  const sectionTotal = (section: string) =>
    Object.entries(report.totals.findingsByKind)
      .filter(([kind]) => FINDING_KINDS[kind as FindingKind]?.section === section)
      .reduce((sum, [, count]) => sum + count, 0);
  const more = (section: string) =>
    sectionTotal(section) > MAX_FINDINGS
      ? `<p class="more">${sectionTotal(section) - MAX_FINDINGS} more in ${details.findings}.</p>`
      : "";
  const findingHeader = [
    "kind",
    "severity",
    "USD",
    "principal",
    "billing project",
    "data projects",
    "job",
    "what to change",
  ];

  const totals: [string, string, string][] = [
    ["compute", usd(report.totals.compute), "total-compute"],
    ["storage", usd(report.totals.storage), "total-storage"],
    ["free rides", usd(report.totals.freeRides), "total-free-rides"],
    ["jobs", String(report.counters.jobs), "total-jobs"],
    ["findings", String(report.totals.findings), "total-findings"],
    ["rejected entries", String(rejectedTotal), "total-rejected"],
  ];

  const unpricedStorage = unpricedStorageText(report.totals.unpricedStorageByLocation);

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>BigQuery chargeback ${escapeHtml(report.from)} to ${escapeHtml(report.to)}</title>
<style>
  :root { color: #1b1f24; background: #fff; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; }
  body { max-width: 1100px; margin: 0 auto; padding: 24px; }
  h1 { font-size: 1.6rem; margin: 0 0 4px; } h2 { font-size: 1.2rem; margin: 32px 0 8px; border-bottom: 2px solid #0072B2; padding-bottom: 4px; }
  .lede { color: #444; margin: 0 0 16px; }
  .totals { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: 12px; margin: 16px 0; }
  .total { border: 1px solid #d0d7de; border-radius: 6px; padding: 10px 12px; }
  .total .label { color: #555; font-size: .85rem; } .total .value { font-size: 1.35rem; font-weight: 600; font-variant-numeric: tabular-nums; }
  table { border-collapse: collapse; width: 100%; margin: 8px 0 16px; font-size: .9rem; }
  caption { text-align: left; font-weight: 600; padding: 4px 0; }
  th, td { border-bottom: 1px solid #e3e7eb; padding: 4px 8px; text-align: left; vertical-align: top; overflow-wrap: break-word; }
  .findings td:nth-child(7) { font-size: .78rem; color: #444; overflow-wrap: anywhere; min-width: 150px; max-width: 200px; } .findings td:nth-child(2), .findings td:nth-child(5) { white-space: nowrap; } .findings td:last-child { min-width: 260px; }
  th { background: #f5f7f9; } td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
  figure { margin: 8px 0; } figcaption { font-weight: 600; margin-bottom: 4px; } svg { max-width: 100%; height: auto; }
  details summary { cursor: pointer; color: #0072B2; margin: 4px 0; }
  .more { color: #555; font-style: italic; } .sev-critical { color: #b00020; font-weight: 600; }
  @media print { body { padding: 0; font-size: 11px; } h2 { break-after: avoid; } figure, table { break-inside: avoid; } details { display: block; } details > summary { display: none; } }
</style>
</head>
<body>
<header>
<h1>BigQuery chargeback, ${escapeHtml(report.from)} to ${escapeHtml(report.to)}</h1>
${warning ? `<p class="warning" role="alert"><strong>Warning:</strong> ${escapeHtml(warning)}</p>` : ""}
<p class="lede">Billing days in ${escapeHtml(report.timeZone)}, periods by ${escapeHtml(report.granularity)}. ${details.read(report)}${report.counters.jobs} jobs, each counted once; ${rejectedTotal} entries rejected (${details.rejected}). Amounts in USD, rounded to the cent from exact sums; ${details.decimals}.</p>
<div class="totals">${totals.map(([label, value, id]) => `<div class="total"><div class="label">${label}</div><div class="value" id="${id}">${value}</div></div>`).join("")}</div>
${
  unpricedStorage
    ? `<p class="lede" id="unpriced-storage">Storage: ${escapeHtml(unpricedStorage)}.</p>
`
    : ""
}</header>

<section><h2>Cost per department</h2>
<p><b>Paid</b>: compute billed to the department's projects. <b>Consumed</b>: compute its people and service accounts ran, wherever it was billed. <b>Storage</b>: its projects' tables.</p>
${figure("chart-departments", "Compute paid, compute consumed and storage per department (USD)", departmentChart)}
${table(
  "Per period and department",
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
  [2, 3, 4, 5, 6, 7],
)}
</section>

<section><h2>Chargeback matrix: who paid for whom</h2>
${figure("chart-matrix", "Compute by paying department (rows) and consuming department (columns), USD", matrixChart)}
${table(
  "Payer x consumer",
  ["period", "payer", "consumer", "jobs", "compute"],
  report.chargebackMatrix.map((row) => textCells(row, CHARGEBACK_MATRIX, 2)),
  [3, 4],
)}
</section>

<section><h2>Free rides (${freeRides.length}), most expensive first</h2>
<p>Jobs billed to one department's project by another department's principal, or by a principal outside the organisation. The fix is always a grant.</p>
${table("Free rides", findingHeader, findingRows(freeRides.slice(0, MAX_FINDINGS)), [2], "findings")}${more("free_rides")}
</section>

<section><h2>Unexpected billing projects (${unexpected.length})</h2>
<p>Our data read by jobs billed to projects nobody expected (a redacted billing project is outside the organisation), and jobs in projects the registry does not know.</p>
${table("Unexpected billing projects and unregistered projects", findingHeader, findingRows(unexpected.slice(0, MAX_FINDINGS)), [2], "findings")}${more("unexpected")}
</section>

<section><h2>Trend: compute paid per day</h2>
${figure("chart-trend", "Compute paid per billing day and department (USD)", trendChart)}
<details><summary>The numbers behind the trend</summary>
${table(
  "Compute paid per day and department",
  ["day", "department", "compute paid"],
  report.trend.map((r) => [r.day, r.department, usd(r.computePaid)]),
  [2],
)}
</details>
</section>

<section><h2>Top jobs and principals</h2>
${table(
  "Most expensive jobs",
  ["job", "principal", "payer", "consumer", "statement", "GiB billed", "USD", "findings"],
  report.topJobs.map((j) => [
    j.jobId,
    shown(j.principal, "principal"),
    j.payerDepartment,
    j.consumerDepartment,
    j.statementType,
    (Number(j.billedBytes) / 2 ** 30).toFixed(1),
    usd(j.computeCost),
    j.findings.join(", "),
  ]),
  [5, 6],
)}
${table(
  "Principals by compute consumed",
  ["principal", "department", "jobs", "USD"],
  report.topPrincipals.map((p) => [
    shown(p.principal, "principal"),
    p.consumerDepartment,
    String(p.jobs),
    usd(p.computeCost),
  ]),
  [2, 3],
)}
</section>
${labelAndViewSections(report)}${
  report.freeTier
    ? (
        () => {
          const section = freeTierParagraphs(freeTierSummary(report.freeTier));
          return `<section id="free-tier"><h2>Free tier</h2>
<p>${escapeHtml(section.intro)}</p>
${section.months.length > 0 ? `<ul>${section.months.map((line) => `<li>${escapeHtml(line)}</li>`).join("")}</ul>` : ""}
${section.notes.map((note) => `<p class="lede">${escapeHtml(note)}</p>`).join("")}
</section>`;
        }
      )()
    : ""
}
${
  report.invoice
    ? (
        () => {
          const section = invoiceSection(report, report.invoice);
          return `<section id="reconciliation"><h2>Reconciliation with the invoice</h2>
<p>${escapeHtml(section.intro)}</p>
${section.tables.map((t) => table(t.caption, t.header, t.rows, t.numeric)).join("\n")}
</section>`;
        }
      )()
    : ""
}
${extra}<footer><p class="lede">bq-chargeback. Rejected entries: <span id="rejected-count">${rejectedTotal}</span>${Object.entries(
    report.counters.rejected,
  )
    .map(([reason, count]) => ` · ${escapeHtml(reason)} ${count}`)
    .join("")}.</p></footer>
</body>
</html>
`;
}
