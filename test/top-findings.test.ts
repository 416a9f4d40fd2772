// The page's findings are kept while findings stream to findings.csv: the kept ones must be what
// sorting every finding would have given, section by section, ties in arrival order.
import { describe, expect, it } from "vitest";
import { FINDING_KINDS, type FindingKind } from "../src/core/findings.ts";
import { PAGE_FINDINGS, TopFindings } from "../src/core/top-findings.ts";
import type { Finding } from "../src/core/types.ts";
import { random } from "../src/sample/generate.ts";

const KINDS = Object.keys(FINDING_KINDS) as FindingKind[];

function findings(count: number, seed: number): Finding[] {
  const rand = random(seed);
  return Array.from({ length: count }, (_, i) => ({
    kind: KINDS[Math.floor(rand() * KINDS.length)] as FindingKind,
    severity: "medium",
    jobId: `p:US.job${i}`,
    billingProject: "p",
    principal: "a@b.example",
    dataProjects: [],
    // few distinct costs and times, so ties are common
    cost: BigInt(Math.floor(rand() * 20)) * 1_000_000n,
    remediation: "",
    time: `2026-10-0${1 + Math.floor(rand() * 3)}T00:00:00Z`,
    usageDate: "2026-10-01",
  }));
}

/** What the report listed before: every finding, sorted (stable), then the first of each section. */
function sortedTop(all: Finding[]): Finding[] {
  const sorted = [...all].sort(
    (a, b) =>
      (a.cost === b.cost ? 0 : a.cost > b.cost ? -1 : 1) || (a.time < b.time ? -1 : a.time > b.time ? 1 : 0),
  );
  const taken = new Map<string, number>();
  return sorted.filter((f) => {
    const section = FINDING_KINDS[f.kind].section;
    taken.set(section, (taken.get(section) ?? 0) + 1);
    return (taken.get(section) ?? 0) <= PAGE_FINDINGS;
  });
}

describe("TopFindings", () => {
  it("keeps the most expensive of each section, as a full sort would, and counts them all", () => {
    for (const count of [0, 7, PAGE_FINDINGS * 2 - 1, PAGE_FINDINGS * 2, 1234]) {
      const all = findings(count, count + 1);
      const top = new TopFindings();
      for (const finding of all) top.add(finding);
      expect(top.list()).toEqual(sortedTop(all));
      expect(top.total).toBe(count);
      const byKind: Record<string, number> = {};
      for (const f of all) byKind[f.kind] = (byKind[f.kind] ?? 0) + 1;
      expect(top.byKind).toEqual(byKind);
    }
  });

  it("adds late findings to a copy, leaving the original as it was", () => {
    const all = findings(500, 3);
    const top = new TopFindings();
    for (const finding of all.slice(0, 400)) top.add(finding);
    const before = top.list();
    expect(top.with(all.slice(400)).list()).toEqual(sortedTop(all));
    expect(top.list()).toEqual(before);
    expect(top.total).toBe(400);
  });
});
