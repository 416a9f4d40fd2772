// The benchmark's job-heavy mix (src/sample/job-heavy.ts) has the shape docs/performance.md
// states: v2 jobChange DONE entries only, 1-6 referenced tables, ~300 principals, ~15 % of jobs
// with a finding (judged by the real stage one with the sample registry), and the same bytes for
// the same seed.
import { describe, expect, it } from "vitest";
import { assessEntry, entryContext } from "../src/core/pipeline.ts";
import { parseRegistry } from "../src/core/registry.ts";
import { registryYaml } from "../src/sample/generate.ts";
import { generateJobHeavyEntries } from "../src/sample/job-heavy.ts";

function take(seed: number, count: number): string[] {
  const lines: string[] = [];
  for (const line of generateJobHeavyEntries(seed)) {
    lines.push(line);
    if (lines.length === count) break;
  }
  return lines;
}

describe("job-heavy sample mix", () => {
  const lines = take(7, 6000);

  it("is the same for the same seed and differs for another", () => {
    expect(take(7, 200)).toEqual(lines.slice(0, 200));
    expect(take(8, 200)).not.toEqual(lines.slice(0, 200));
  });

  it("holds completed v2 jobs only, each naming 1 to 6 tables, from about 300 principals", () => {
    const principals = new Set<string>();
    const tableCounts = new Set<number>();
    for (const line of lines) {
      const entry = JSON.parse(line);
      const change = entry.protoPayload.metadata.jobChange;
      expect(change.after).toBe("DONE");
      tableCounts.add(change.job.jobStats.queryStats.referencedTables.length);
      principals.add(entry.protoPayload.authenticationInfo.principalEmail);
    }
    expect([...tableCounts].sort()).toEqual([1, 2, 3, 4, 5, 6]);
    expect(principals.size).toBeGreaterThan(250);
    expect(principals.size).toBeLessThanOrEqual(300);
  });

  it("gives about 15 % of distinct jobs a finding, and repeats about 2 % of entries", () => {
    const context = entryContext(parseRegistry(registryYaml(), "registry.yaml"));
    const withFinding = new Set<string>();
    const jobs = new Set<string>();
    lines.forEach((line, index) => {
      const assessed = assessEntry(line, { file: "mix", line: index + 1 }, context);
      if (assessed.kind !== "job") throw new Error(`line ${index + 1}: ${assessed.kind}`);
      jobs.add(assessed.job.jobId);
      if (assessed.job.findings.length > 0) withFinding.add(assessed.job.jobId);
    });
    expect(withFinding.size / jobs.size).toBeGreaterThan(0.12);
    expect(withFinding.size / jobs.size).toBeLessThan(0.18);
    expect(1 - jobs.size / lines.length).toBeGreaterThan(0.01);
    expect(1 - jobs.size / lines.length).toBeLessThan(0.03);
  });
});
