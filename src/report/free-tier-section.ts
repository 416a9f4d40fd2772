// The free tier as the outputs show it: summary.json's `free_tier`, the CLI's closing line, the
// report's section (Markdown and HTML) and free_tier.csv. One text per fact, shared by all. Pure.
import { FREE_QUERY_BYTES, FREE_STORAGE_GIB, type FreeTierReport } from "../core/free-tier.ts";
import { formatUsd } from "../core/money.ts";

export interface FreeTierSummary {
  mode: "show" | "deduct";
  free_query_bytes_per_month: string;
  free_storage_gib_per_month: number;
  free_usd: string;
  months: {
    month: string;
    whole_month: boolean;
    free_bytes: string;
    free_usd: string;
    by_department: { department: string; free_bytes: string; free_usd: string }[];
  }[];
}

export const FREE_TIER_SOURCE =
  "1 TiB of on-demand query bytes and 10 GiB of storage free per month and billing account (https://cloud.google.com/bigquery/pricing, https://cloud.google.com/bigquery)";

export function freeTierSummary(report: FreeTierReport): FreeTierSummary {
  return {
    mode: report.mode,
    free_query_bytes_per_month: String(FREE_QUERY_BYTES),
    free_storage_gib_per_month: FREE_STORAGE_GIB,
    free_usd: formatUsd(report.months.reduce((sum, month) => sum + month.freeUsd, 0n)),
    months: report.months.map((month) => ({
      month: month.month,
      whole_month: month.wholeMonth,
      free_bytes: String(month.freeBytes),
      free_usd: formatUsd(month.freeUsd),
      by_department: month.byDepartment.map((row) => ({
        department: row.department,
        free_bytes: String(row.freeBytes),
        free_usd: formatUsd(row.freeUsd),
      })),
    })),
  };
}

const tib = (bytes: string) => (Number((BigInt(bytes) * 1000n) / FREE_QUERY_BYTES) / 1000).toString();

/** One line: the worth, whether deducted, and who consumed it per month. */
export function freeTierLine(summary: FreeTierSummary): string {
  const how = summary.mode === "deduct" ? "deducted" : "shown, not deducted (registry free_tier: show)";
  if (summary.months.length === 0) return `${summary.free_usd} USD: no on-demand job drew on it`;
  const months = summary.months
    .map(
      (month) =>
        `${month.month} ${month.free_usd}: ${month.by_department
          .map((row) => `${row.department} ${row.free_usd}`)
          .join(", ")}${month.whole_month ? "" : " (part of the month only)"}`,
    )
    .join("; ");
  return `${summary.free_usd} USD ${how}: ${months}`;
}

/** The report's section: what is free, who consumed it, and what is not valued. */
export function freeTierParagraphs(summary: FreeTierSummary): {
  intro: string;
  months: string[];
  notes: string[];
} {
  return {
    intro: `BigQuery's free tier: ${FREE_TIER_SOURCE}. The month's on-demand jobs take the free TiB in billing-time order; ${
      summary.mode === "deduct"
        ? "it is deducted from what their departments paid and consumed (registry free_tier: deduct), as the invoice does."
        : "the department totals are at list price (registry free_tier: show; deduct takes it off them)."
    }`,
    months: summary.months.map(
      (month) =>
        `${month.month}: ${tib(month.free_bytes)} TiB free, worth ${month.free_usd} USD, consumed by ${month.by_department
          .map((row) => `${row.department} (${tib(row.free_bytes)} TiB, ${row.free_usd} USD)`)
          .join(", ")}${
          month.whole_month
            ? ""
            : "; the report holds part of the month only: jobs before it may have used the TiB first"
        }.`,
    ),
    notes: [
      `The ${FREE_STORAGE_GIB} GiB of free storage a month is not valued: Google does not say which storage class it is taken from. The free tier is per billing account: the registry's projects are taken as one.`,
    ],
  };
}

/** free_tier.csv: per month, period and department whose jobs consumed the free TiB. */
export function freeTierCsvRows(report: FreeTierReport): { header: string[]; rows: string[][] } {
  const sums = new Map<
    string,
    { month: string; period: string; department: string; bytes: bigint; usd: bigint }
  >();
  for (const use of report.uses) {
    const key = JSON.stringify([use.month, use.period, use.payerDepartment]);
    const row = sums.get(key);
    if (row) {
      row.bytes += use.freeBytes;
      row.usd += use.freeUsd;
    } else
      sums.set(key, {
        month: use.month,
        period: use.period,
        department: use.payerDepartment,
        bytes: use.freeBytes,
        usd: use.freeUsd,
      });
  }
  const rows = [...sums.values()]
    .sort((a, b) =>
      a.period < b.period ? -1 : a.period > b.period ? 1 : a.department < b.department ? -1 : 1,
    )
    .map((row) => [row.month, row.period, row.department, String(row.bytes), formatUsd(row.usd)]);
  return { header: ["month", "period", "department", "free_bytes", "free_usd"], rows };
}
