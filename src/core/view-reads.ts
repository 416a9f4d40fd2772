// Data read through another project's view: for each job that referenced a view, the projects
// of the tables it read that are not the view's own. A view's data is its project's (its owner
// chose to share it, e.g. an authorized view); the tables behind it are listed in the job's
// referencedTables too, but the log does not say which table came through which view, so a job
// that read project C's table and a view of project V counts as C's data read through V's view.
// Mergeable, as the aggregator is.
import { projectOfTable } from "./attribute.ts";
import type { Nanos } from "./money.ts";

/** For one job: each view project and the data projects read beside it (none when no view). */
export function viewReadsOf(job: {
  referencedTables: readonly string[];
  referencedViews: readonly string[];
}): { viewProject: string; dataProjects: string[] }[] {
  const viewProjects = unique(job.referencedViews);
  if (viewProjects.length === 0) return [];
  const behind = unique(job.referencedTables).filter((project) => !viewProjects.includes(project));
  return viewProjects.map((viewProject) => ({ viewProject, dataProjects: behind }));
}

function unique(tables: readonly string[]): string[] {
  const projects = new Set<string>();
  for (const table of tables) {
    const project = projectOfTable(table);
    if (project !== "") projects.add(project);
  }
  return [...projects].sort();
}

export interface ViewReadRow {
  /** The project that holds the view. */
  viewProject: string;
  /** A project whose tables the same jobs read, other than the view's. */
  dataProject: string;
  /** Their data owner departments: a registry department, or "outside". */
  viewOwner: string;
  dataOwner: string;
  jobs: number;
  cost: Nanos;
}

const keyOf = (viewProject: string, dataProject: string) => JSON.stringify([viewProject, dataProject]);

export class ViewReads {
  private readonly pairs = new Map<string, ViewReadRow>();

  add(job: { computeCost: Nanos; viewReads?: { viewProject: string; dataProjects: string[] }[] }): void {
    for (const read of job.viewReads ?? [])
      for (const dataProject of read.dataProjects)
        this.sum(read.viewProject, dataProject, 1, job.computeCost);
  }

  private sum(viewProject: string, dataProject: string, jobs: number, cost: Nanos): void {
    const key = keyOf(viewProject, dataProject);
    const row = this.pairs.get(key);
    if (row) {
      row.jobs += jobs;
      row.cost += cost;
    } else this.pairs.set(key, { viewProject, dataProject, viewOwner: "", dataOwner: "", jobs, cost });
  }

  merge(other: ViewReads): void {
    for (const row of other.pairs.values()) this.sum(row.viewProject, row.dataProject, row.jobs, row.cost);
  }

  /** Pairs by view project, then data project, with the owner department of each ("outside" when none). */
  rows(ownerOf: (project: string) => string): ViewReadRow[] {
    return [...this.pairs.values()]
      .map((row) => ({
        ...row,
        viewOwner: ownerOf(row.viewProject),
        dataOwner: ownerOf(row.dataProject),
      }))
      .sort((a, b) =>
        a.viewProject === b.viewProject
          ? a.dataProject < b.dataProject
            ? -1
            : 1
          : a.viewProject < b.viewProject
            ? -1
            : 1,
      );
  }
}
