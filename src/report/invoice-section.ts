// The reconciliation section of report.md and report.html: the estimate beside the invoice per
// department, what was not shared out by use and why, the reservations' used and idle slots,
// and where the logs missed jobs. The same rows for both renderings; each brings its own table.
import { formatMinorUnits, formatNanos } from "../core/billing/amount.ts";
import type { InvoiceReport } from "../core/billing/invoice-report.ts";
import { formatUsd } from "../core/money.ts";
import type { ChargebackReport } from "../core/pipeline.ts";

export interface Table {
  caption: string;
  header: string[];
  rows: string[][];
  /** Columns holding amounts (right-aligned in HTML). */
  numeric: number[];
}

const SLOT_MS_PER_HOUR = 3_600_000n;

function percent(part: bigint, whole: bigint): string {
  if (whole === 0n) return "-";
  return `${formatNanos((part * 100_000_000_000n) / whole, 1)}%`;
}

/** The section's text and tables, in order. */
export function invoiceSection(
  report: ChargebackReport,
  invoice: InvoiceReport,
): { intro: string; tables: Table[] } {
  const { reconciliation } = invoice;
  const currency = reconciliation.currency;
  const money = (minor: bigint) => formatMinorUnits(minor, currency);
  const exact = (nanos: bigint) => formatNanos(nanos, 2);
  const estimates = new Map(
    report.departmentCosts.map((row) => [
      `${row.period}\u0000${row.department}`,
      row.compute_consumed_usd + row.storage_usd,
    ]),
  );
  const tables: Table[] = [
    {
      caption: `Invoice per period (${currency})`,
      header: ["period", `net ${currency}`, `list ${currency}`, "estimated from logs USD"],
      rows: reconciliation.totals.map((total) => [
        total.period,
        money(total.netMinor),
        money(total.listMinor),
        formatUsd(
          reconciliation.rows
            .filter((row) => row.period === total.period)
            .reduce((sum, row) => sum + row.estimatedUsd, 0n),
          2,
        ),
      ]),
      numeric: [1, 2, 3],
    },
    {
      caption: `Estimate and invoice per department (${currency}; the departments sum to the invoice exactly)`,
      header: [
        "period",
        "department",
        "estimated USD (consumed + storage)",
        `invoiced net ${currency}`,
        `invoiced list ${currency}`,
      ],
      rows: reconciliation.departments.map((department) => [
        department.period,
        department.department,
        formatUsd(estimates.get(`${department.period}\u0000${department.department}`) ?? 0n, 2),
        money(department.netMinor),
        money(department.listMinor),
      ]),
      numeric: [2, 3, 4],
    },
    {
      caption: "What was not shared out by use in the logs, and why",
      header: [
        "period",
        "billing project",
        "SKU group",
        "net",
        "to jobs",
        "to project owner",
        "idle to admin",
        "unattributed",
        "rounding",
        "reasons",
      ],
      rows: reconciliation.rows
        .filter((row) => row.allocatedToJobs !== row.net || row.reasons.length > 0)
        .map((row) => [
          row.period,
          row.billingProject || "(none)",
          row.skuGroup,
          exact(row.net),
          exact(row.allocatedToJobs),
          exact(row.allocatedToProjectOwner),
          exact(row.idleToAdmin),
          exact(row.unattributed),
          formatNanos(row.rounding, 6),
          row.reasons.join(", "),
        ]),
      numeric: [3, 4, 5, 6, 7, 8],
    },
    {
      caption: "Reservations: capacity billed, slots used, idle",
      header: [
        "period",
        "reservation",
        "idle paid by",
        "slot-hours billed",
        "slot-hours used",
        "used",
        `idle ${currency}`,
      ],
      rows: reconciliation.reservations.map((use) => [
        use.period,
        use.reservation,
        use.idlePolicy === "pro_rata" ? "its users, pro rata" : "admin project's department",
        formatNanos((use.capacitySlotMs * 1_000_000_000n) / SLOT_MS_PER_HOUR, 1),
        formatNanos((use.usedSlotMs * 1_000_000_000n) / SLOT_MS_PER_HOUR, 1),
        percent(use.usedSlotMs, use.capacitySlotMs),
        exact(use.idle),
      ]),
      numeric: [3, 4, 5, 6],
    },
  ];
  const below = invoice.coverage.filter((row) => row.belowThreshold);
  if (invoice.coverage.length > 0) {
    tables.push({
      caption: `Coverage below ${formatNanos(BigInt(invoice.coverageThresholdBasisPoints) * 10_000_000n, 2)}: jobs and bytes the logs saw of what BigQuery counted (all days in coverage.csv)`,
      header: ["day", "project", "jobs counted", "jobs in logs", "jobs coverage", "bytes coverage"],
      rows: below.map((row) => [
        row.day,
        row.projectId,
        String(row.jobsCounted),
        String(row.jobsInLogs),
        row.jobsCoverage,
        row.bytesCoverage,
      ]),
      numeric: [2, 3, 4, 5],
    });
  }
  const intro =
    `The Cloud Billing export (${reconciliation.billingAccounts.join(", ") || "no rows"}, ${currency}) shared out to departments: ` +
    "on-demand analysis by each department's bytes billed in the logs that day and project, reservations by slot-ms in the " +
    "reservation that day (idle slots as the registry says), storage to the project's department. Each department's share is " +
    `rounded once to the ${currency} minor unit by largest remainder, so the shares add up to the invoice. ` +
    `Details: reconciliation.csv, focus.csv (FOCUS 1.2)${invoice.coverage.length > 0 ? ", coverage.csv" : ""}.`;
  return { intro, tables };
}

/** One line for the terminal after a run. */
export function invoiceSummaryText(invoice: InvoiceReport): string {
  const { reconciliation } = invoice;
  const totals = reconciliation.totals
    .map(
      (total) =>
        `${total.period} ${formatMinorUnits(total.netMinor, reconciliation.currency)} ${reconciliation.currency}`,
    )
    .join(", ");
  const below = invoice.coverage.filter((row) => row.belowThreshold).length;
  return (
    `invoice: ${totals || "no BigQuery rows in the period"} net, shared out to ${new Set(reconciliation.departments.map((d) => d.department)).size} departments` +
    (invoice.coverage.length > 0 ? `; ${below} project-days below coverage threshold` : "")
  );
}
