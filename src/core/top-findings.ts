// The findings the report page shows: the most expensive of each section, kept while every
// finding streams to findings.csv, so memory does not grow with the number of findings (a
// finding held until the end cost ~0.9 KB: 70 MB a GB of job-heavy logs).
import { FINDING_KINDS } from "./findings.ts";
import type { Finding } from "./types.ts";

/** Findings kept per section of the page (the HTML lists this many, the Markdown fewer). */
export const PAGE_FINDINGS = 50;

interface Ranked {
  finding: Finding;
  /** Arrival order: equal cost and time keep the order they came in. */
  order: number;
}

/** Most expensive first, then earliest, then first come. */
function compare(a: Ranked, b: Ranked): number {
  const { cost: ca, time: ta } = a.finding;
  const { cost: cb, time: tb } = b.finding;
  if (ca !== cb) return ca > cb ? -1 : 1;
  if (ta !== tb) return ta < tb ? -1 : 1;
  return a.order - b.order;
}

function trim(kept: Ranked[]): void {
  kept.sort(compare);
  if (kept.length > PAGE_FINDINGS) kept.length = PAGE_FINDINGS;
}

export class TopFindings {
  private readonly sections = new Map<string, Ranked[]>();
  private arrived = 0;
  readonly byKind: Record<string, number> = {};

  get total(): number {
    return this.arrived;
  }

  add(finding: Finding): void {
    this.byKind[finding.kind] = (this.byKind[finding.kind] ?? 0) + 1;
    const section = FINDING_KINDS[finding.kind].section;
    let kept = this.sections.get(section);
    if (!kept) {
      kept = [];
      this.sections.set(section, kept);
    }
    kept.push({ finding, order: this.arrived++ });
    // Trimmed in batches: a sort every PAGE_FINDINGS findings, not one per finding.
    if (kept.length >= 2 * PAGE_FINDINGS) trim(kept);
  }

  /** A copy with more findings added (the unexpected reads, known only at the end). */
  with(more: readonly Finding[]): TopFindings {
    const copy = new TopFindings();
    for (const [section, kept] of this.sections) copy.sections.set(section, [...kept]);
    Object.assign(copy.byKind, this.byKind);
    copy.arrived = this.arrived;
    for (const finding of more) copy.add(finding);
    return copy;
  }

  /** The kept findings of every section, most expensive first. */
  list(): Finding[] {
    for (const kept of this.sections.values()) trim(kept);
    return [...this.sections.values()]
      .flat()
      .sort(compare)
      .map((ranked) => ranked.finding);
  }
}
