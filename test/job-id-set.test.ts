import { describe, expect, it } from "vitest";
import { JobIdSet } from "../src/core/job-id-set.ts";

describe("the compact set of counted job ids", () => {
  it("answers like a Set over many ids, through growth", () => {
    const compact = new JobIdSet(4);
    const reference = new Set<string>();
    for (let i = 0; i < 200_000; i++) {
      // ids repeat: every third one was seen before
      const id = `acme-proj-${i % 7}:US.bquxjob_${(i * 2654435761) % 150_000}`;
      expect(compact.add(id)).toBe(!reference.has(id));
      reference.add(id);
    }
    expect(compact.size).toBe(reference.size);
  });

  it("tells ids apart that differ in one character or only in location", () => {
    const set = new JobIdSet();
    expect(set.add("p-proj1:US.job_1")).toBe(true);
    expect(set.add("p-proj1:EU.job_1")).toBe(true);
    expect(set.add("p-proj1:US.job_2")).toBe(true);
    expect(set.add("p-proj1:job_1")).toBe(true);
    expect(set.add("p-proj1:US.job_1")).toBe(false);
    expect(set.add("")).toBe(true);
    expect(set.add("")).toBe(false);
  });
});
