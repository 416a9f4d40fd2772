// The run summary (summary.json and the CLI's closing lines): what was read, what was counted,
// what was rejected and why, and the totals. Pure.
import { formatUsd } from "../core/money.ts";
import type { ChargebackReport } from "../core/pipeline.ts";
import type { RefusedInput } from "../io/log-files.ts";
import { type FreeTierSummary, freeTierLine, freeTierSummary } from "./free-tier-section.ts";
import { type LabelCoverageSummary, labelCoverageLine, labelCoverageSummary } from "./label-section.ts";
import { type ViewReadSummary, viewReadSummary } from "./view-section.ts";

export interface RunInfo {
  inputs: string[];
  bytesRead: number;
  elapsedMs: number;
  /** Inputs that broke off: the report holds only what was read of them before. */
  damaged?: DamagedInput[];
  /** Inputs in none of the forms read: nothing of them is in the report. */
  refused?: RefusedInput[];
}

export interface DamagedInput {
  file: string;
  /** Bytes of the file as stored, and of its text, read before it broke off. */
  stored_bytes: number;
  text_bytes: number;
  /** Entries taken from it (the last one possibly cut short, then rejected). */
  entries_read: number;
  cause: string;
}

/** Whether the input was read as BigQuery audit entries at all: anything but "ok" is not a success. */
export type InputStatus = "ok" | "inputs_refused" | "mostly_rejected" | "no_jobs";

export interface Summary {
  /** First, because a report over an input that was mostly not read must not look like success. */
  input_status: InputStatus;
  /** What is wrong with the input, in words; null when input_status is "ok". */
  warning: string | null;
  inputs: string[];
  period: { from: string; to: string; granularity: string; time_zone: string };
  entries_read: number;
  jobs: number;
  duplicate_job_entries: number;
  jobs_outside_period: number;
  table_reads: number;
  ignored: { total: number; by_reason: Record<string, number> };
  rejected: { total: number; by_reason: Record<string, number> };
  findings: { total: number; by_kind: Record<string, number> };
  totals_usd: { compute: string; storage: string; free_rides: string };
  /** Jobs no rule could price: in the totals as 0, but their cost is unknown. */
  unpriced: { jobs: number; by_reason: Record<string, number> };
  /** Snapshot tables whose location has no storage price: not in the storage total. */
  unpriced_storage: { tables: number; by_location: Record<string, number> };
  /** BigQuery's free tier and which departments' jobs consumed it (deducted or only shown: `mode`). */
  free_tier?: FreeTierSummary;
  run: { elapsed_ms: number; bytes_read: number; entries_per_second: number; mb_per_second: number };
  /** Inputs that broke off (a truncated .gz): the figures above are incomplete when this is not empty. */
  damaged_inputs: DamagedInput[];
  /** Inputs refused whole, in none of the forms read (refusalLine says which and what is expected). */
  refused_inputs: RefusedInput[];
  /** The IAM audit's counts, when policies were given. */
  iam?: import("./iam-section.ts").IamSummary;
  /** How much of the bill job labels explain, when the registry names label_keys. */
  label_coverage?: LabelCoverageSummary;
  /** Projects whose data was read through another project's view, when any. */
  views_across_projects?: ViewReadSummary[];
}

const total = (counts: Record<string, number>): number => Object.values(counts).reduce((a, b) => a + b, 0);

/**
 * "mostly_rejected" when more than half the entries were rejected (an export in a form not read,
 * another service's logs); "no_jobs" when no BigQuery job was read at all.
 */
export function inputStatus(report: ChargebackReport): { status: InputStatus; warning: string | null } {
  const { counters } = report;
  const rejected = total(counters.rejected);
  if (counters.entries > 0 && rejected * 2 > counters.entries) {
    const reasons = Object.entries(counters.rejected)
      .sort((a, b) => b[1] - a[1])
      .map(([reason, count]) => `${reason} ${count}`)
      .join(", ");
    return {
      status: "mostly_rejected",
      warning: `${rejected} of ${counters.entries} entries were rejected (${reasons}): the input is mostly not BigQuery audit-log entries in a form this tool reads (see rejected.ndjson); the reports cover only the rest`,
    };
  }
  if (counters.jobs + counters.outsidePeriod + counters.duplicateJobs === 0) {
    return {
      status: "no_jobs",
      warning: `no BigQuery job was read from ${counters.entries} entries: the reports have no compute; check that the input holds BigQuery data_access audit entries (jobChange / jobcompleted)`,
    };
  }
  return { status: "ok", warning: null };
}

export function buildSummary(report: ChargebackReport, run: RunInfo): Summary {
  const { counters } = report;
  const seconds = Math.max(run.elapsedMs, 1) / 1000;
  const refused = run.refused ?? [];
  const input: { status: InputStatus; warning: string | null } =
    refused.length > 0
      ? {
          status: "inputs_refused",
          warning: `${refused.length} of ${run.inputs.length} inputs were refused, in none of the forms read (${refused.map((input) => input.file).join(", ")}): the reports cover only the rest`,
        }
      : inputStatus(report);
  return {
    input_status: input.status,
    warning: input.warning,
    inputs: run.inputs,
    period: { from: report.from, to: report.to, granularity: report.granularity, time_zone: report.timeZone },
    entries_read: counters.entries,
    jobs: counters.jobs,
    duplicate_job_entries: counters.duplicateJobs,
    jobs_outside_period: counters.outsidePeriod,
    table_reads: counters.tableReads,
    ignored: { total: total(counters.ignored), by_reason: { ...counters.ignored } },
    rejected: { total: total(counters.rejected), by_reason: { ...counters.rejected } },
    findings: { total: report.totals.findings, by_kind: report.totals.findingsByKind },
    totals_usd: {
      compute: formatUsd(report.totals.compute),
      storage: formatUsd(report.totals.storage),
      free_rides: formatUsd(report.totals.freeRides),
    },
    unpriced: {
      jobs: total(report.totals.unpricedByReason),
      by_reason: { ...report.totals.unpricedByReason },
    },
    unpriced_storage: {
      tables: total(report.totals.unpricedStorageByLocation ?? {}),
      by_location: { ...report.totals.unpricedStorageByLocation },
    },
    ...(report.freeTier ? { free_tier: freeTierSummary(report.freeTier) } : {}),
    run: {
      elapsed_ms: Math.round(run.elapsedMs),
      bytes_read: run.bytesRead,
      entries_per_second: Math.round(counters.entries / seconds),
      mb_per_second: Math.round((run.bytesRead / 1e6 / seconds) * 10) / 10,
    },
    damaged_inputs: run.damaged ?? [],
    refused_inputs: refused,
    ...(report.labelCoverage ? { label_coverage: labelCoverageSummary(report.labelCoverage) } : {}),
    ...(report.viewReads ? { views_across_projects: viewReadSummary(report.viewReads) } : {}),
  };
}

/**
 * What the storage total leaves out, in words ("" when nothing): tables at locations the price
 * book has no storage price for, which are counted, never priced at another location's rates.
 */
export function unpricedStorageText(byLocation: Record<string, number> | undefined): string {
  const entries = Object.entries(byLocation ?? {});
  if (entries.length === 0) return "";
  const tables = entries.reduce((sum, [, count]) => sum + count, 0);
  const where = entries.map(([location, count]) => `${location} ${count}`).join(", ");
  return `${tables} tables not priced: no storage price for their location (${where}); add prices.storage entries for it to the registry (storage_costs.csv unpriced_tables)`;
}

/** One line per damaged input: which file, where it broke off, what was kept. */
export function damageLines(summary: Summary): string[] {
  return summary.damaged_inputs.map(
    (damage) =>
      `${damage.file}: broke off after ${damage.stored_bytes} bytes read (${damage.text_bytes} bytes of text): ${damage.cause}; the report holds the ${damage.entries_read} entries read before it`,
  );
}

/** The few lines a person reads at the end of a run. */
export function summaryText(summary: Summary, outDir: string): string {
  const reasons = Object.entries(summary.rejected.by_reason)
    .map(([reason, count]) => `${reason} ${count}`)
    .join(", ");
  const kinds = Object.entries(summary.findings.by_kind)
    .map(([kind, count]) => `${kind} ${count}`)
    .join(", ");
  return [
    ...(summary.warning ? [`WARNING       ${summary.warning}`] : []),
    `period        ${summary.period.from} .. ${summary.period.to} (${summary.period.granularity}, ${summary.period.time_zone})`,
    `entries read  ${summary.entries_read} (${summary.run.entries_per_second}/s, ${summary.run.mb_per_second} MB/s)`,
    `jobs          ${summary.jobs} (duplicate entries ${summary.duplicate_job_entries}, outside period ${summary.jobs_outside_period})`,
    `rejected      ${summary.rejected.total}${reasons ? ` (${reasons})` : ""} -> ${outDir}/rejected.ndjson`,
    `compute       ${summary.totals_usd.compute} USD${
      summary.unpriced.jobs > 0
        ? `, plus ${summary.unpriced.jobs} unpriced jobs of unknown cost (${Object.entries(
            summary.unpriced.by_reason,
          )
            .map(([reason, count]) => `${reason} ${count}`)
            .join(", ")}; job_costs.csv pricing_basis says why)`
        : ""
    }`,
    `storage       ${summary.totals_usd.storage} USD${
      summary.unpriced_storage.tables > 0
        ? `, plus ${unpricedStorageText(summary.unpriced_storage.by_location)}`
        : ""
    }`,
    ...(summary.free_tier ? [`free tier     ${freeTierLine(summary.free_tier)}`] : []),
    `free rides    ${summary.totals_usd.free_rides} USD`,
    `findings      ${summary.findings.total}${kinds ? ` (${kinds})` : ""}`,
    ...(summary.label_coverage ? [labelCoverageLine(summary.label_coverage)] : []),
    `reports in    ${outDir}/`,
  ].join("\n");
}
