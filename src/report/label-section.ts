// The job-label coverage of a run, in words and in summary.json: which share of the jobs and of
// the compute cost carry a key of the registry's label_keys, which share a label attributed, and
// the label values no department lists (register them under a department's labels). Pure.
import type { JobsAndCost, LabelCoverageReport } from "../core/label-coverage.ts";
import { formatUsd } from "../core/money.ts";

export interface LabelCoverageSummary {
  keys: string[];
  jobs: number;
  compute_usd: string;
  labelled: SharedFigures;
  attributed_by_label: SharedFigures;
  outsiders_labels_ignored: SharedFigures;
  unknown_values: { label: string; jobs: number; compute_usd: string }[];
}

interface SharedFigures {
  jobs: number;
  /** Share of all jobs, in percent with one decimal. */
  jobs_percent: number;
  compute_usd: string;
  /** Share of all compute cost, in percent with one decimal (0 when nothing cost anything). */
  cost_percent: number;
}

const percent = (part: bigint, whole: bigint): number =>
  whole === 0n ? 0 : Number((part * 1000n + whole / 2n) / whole) / 10;

function shared(part: JobsAndCost, all: JobsAndCost): SharedFigures {
  return {
    jobs: part.jobs,
    jobs_percent: percent(BigInt(part.jobs), BigInt(all.jobs)),
    compute_usd: formatUsd(part.cost),
    cost_percent: percent(part.cost, all.cost),
  };
}

export function labelCoverageSummary(coverage: LabelCoverageReport): LabelCoverageSummary {
  return {
    keys: coverage.keys,
    jobs: coverage.all.jobs,
    compute_usd: formatUsd(coverage.all.cost),
    labelled: shared(coverage.labelled, coverage.all),
    attributed_by_label: shared(coverage.attributed, coverage.all),
    outsiders_labels_ignored: shared(coverage.outsiders, coverage.all),
    unknown_values: coverage.unknownValues.map((row) => ({
      label: row.label,
      jobs: row.jobs,
      compute_usd: formatUsd(row.cost),
    })),
  };
}

/** One line for the end of a run. */
export function labelCoverageLine(summary: LabelCoverageSummary): string {
  const { labelled, attributed_by_label: attributed } = summary;
  const unknown = summary.unknown_values.length;
  return (
    `labels        ${summary.keys.join(", ")}: on ${labelled.jobs_percent}% of jobs (${labelled.cost_percent}% of compute), ` +
    `attributing ${attributed.jobs_percent}% (${attributed.cost_percent}%)` +
    (unknown > 0 ? `; ${unknown} label value${unknown > 1 ? "s" : ""} no department lists` : "")
  );
}

/** The report's section: its intro and table rows. */
export function labelCoverageSection(summary: LabelCoverageSummary): {
  intro: string;
  header: string[];
  rows: string[][];
  unknownHeader: string[];
  unknownRows: string[][];
} {
  const row = (what: string, figures: SharedFigures) => [
    what,
    String(figures.jobs),
    `${figures.jobs_percent}%`,
    figures.compute_usd,
    `${figures.cost_percent}%`,
  ];
  return {
    intro:
      `Label keys ${summary.keys.join(", ")} (in order of precedence). A job's label decides its consumer department, whoever ran it, ` +
      "unless the principal is outside the organisation; the billing project always pays. Findings judge the principal's grants.",
    header: ["jobs", "count", "share of jobs", "compute USD", "share of compute"],
    rows: [
      row("carrying a label key", summary.labelled),
      row("attributed by a label", summary.attributed_by_label),
      row("outsiders' labels (ignored)", summary.outsiders_labels_ignored),
    ],
    unknownHeader: ["label no department lists", "jobs", "compute USD"],
    unknownRows: summary.unknown_values.map((u) => [u.label, String(u.jobs), u.compute_usd]),
  };
}
