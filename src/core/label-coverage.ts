// How much of the bill the registry's job labels explain: jobs and cost that carry a key of
// label_keys, that a label attributed, and the label values no department lists (to register).
// Mergeable, as the aggregator is, so workers can count in parallel.
import type { Nanos } from "./money.ts";
import type { LabelUse } from "./types.ts";

export interface JobsAndCost {
  jobs: number;
  cost: Nanos;
}

export interface LabelCoverageReport {
  /** The registry's label_keys, in order of precedence. */
  keys: string[];
  /** Every job counted. */
  all: JobsAndCost;
  /** Jobs that carry at least one of the keys. */
  labelled: JobsAndCost;
  /** Jobs whose consumer a label decided. */
  attributed: JobsAndCost;
  /** Labels of outsiders' jobs: carried, but deciding nothing. */
  outsiders: JobsAndCost;
  /** `key:value` labels no department lists, most expensive first (at most UNKNOWN_VALUES). */
  unknownValues: ({ label: string } & JobsAndCost)[];
}

const UNKNOWN_VALUES = 20;

const zero = (): JobsAndCost => ({ jobs: 0, cost: 0n });

function add(sum: JobsAndCost, jobs: number, cost: Nanos): void {
  sum.jobs += jobs;
  sum.cost += cost;
}

export class LabelCoverage {
  private readonly all = zero();
  private readonly byUse = new Map<LabelUse, JobsAndCost>();
  private readonly unknown = new Map<string, JobsAndCost>();

  add(job: { computeCost: Nanos; label?: string; labelUse?: LabelUse }): void {
    add(this.all, 1, job.computeCost);
    if (job.labelUse === undefined) return;
    this.sumOf(this.byUse, job.labelUse, 1, job.computeCost);
    if (job.labelUse === "unknown_value" && job.label !== undefined)
      this.sumOf(this.unknown, job.label, 1, job.computeCost);
  }

  private sumOf<K>(map: Map<K, JobsAndCost>, key: K, jobs: number, cost: Nanos): void {
    const sum = map.get(key);
    if (sum) add(sum, jobs, cost);
    else map.set(key, { jobs, cost });
  }

  merge(other: LabelCoverage): void {
    add(this.all, other.all.jobs, other.all.cost);
    for (const [use, sum] of other.byUse) this.sumOf(this.byUse, use, sum.jobs, sum.cost);
    for (const [label, sum] of other.unknown) this.sumOf(this.unknown, label, sum.jobs, sum.cost);
  }

  report(keys: readonly string[]): LabelCoverageReport {
    const of = (use: LabelUse) => ({ ...(this.byUse.get(use) ?? zero()) });
    const labelled = zero();
    for (const sum of this.byUse.values()) add(labelled, sum.jobs, sum.cost);
    const unknownValues = [...this.unknown]
      .map(([label, sum]) => ({ label, ...sum }))
      .sort((a, b) => (a.cost === b.cost ? (a.label < b.label ? -1 : 1) : a.cost > b.cost ? -1 : 1))
      .slice(0, UNKNOWN_VALUES);
    return {
      keys: [...keys],
      all: { ...this.all },
      labelled,
      attributed: of("consumer"),
      outsiders: of("outsider"),
      unknownValues,
    };
  }
}
