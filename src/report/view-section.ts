// Data read through another project's view, in summary.json and the report: which projects'
// tables were read by jobs that went through a view of another project, and what those jobs cost
// (a job counts once under each pair it touched). Pure.
import { formatUsd } from "../core/money.ts";
import type { ViewReadRow } from "../core/view-reads.ts";

export interface ViewReadSummary {
  view_project: string;
  view_owner: string;
  data_project: string;
  data_owner: string;
  jobs: number;
  compute_usd: string;
}

export function viewReadSummary(rows: readonly ViewReadRow[]): ViewReadSummary[] {
  return rows.map((row) => ({
    view_project: row.viewProject,
    view_owner: row.viewOwner,
    data_project: row.dataProject,
    data_owner: row.dataOwner,
    jobs: row.jobs,
    compute_usd: formatUsd(row.cost),
  }));
}

export function viewReadSection(rows: readonly ViewReadSummary[]): {
  intro: string;
  header: string[];
  rows: string[][];
} {
  return {
    intro:
      "Jobs that referenced a view and read tables of another project: that project's data was read through the view, whose project shared it (a view's data is its project's). " +
      "The log lists the tables behind a view among the job's tables without saying which came through which view.",
    header: ["view project", "its department", "data project read", "its department", "jobs", "compute USD"],
    rows: rows.map((r) => [
      r.view_project,
      r.view_owner,
      r.data_project,
      r.data_owner,
      String(r.jobs),
      r.compute_usd,
    ]),
  };
}
