// The memo shared by the aggregator's keys and the prices in force: an answer is computed once per
// tuple, and the memo forgets everything when full, so ever new texts cannot grow it.
import { describe, expect, it } from "vitest";
import { TupleMemo } from "../src/core/tuple-memo.ts";

describe("TupleMemo", () => {
  it("computes each tuple once, tells tuples apart by every part, and forgets all when full", () => {
    const asked: string[] = [];
    const memo = new TupleMemo(3, (parts) => {
      asked.push(parts.join("/"));
      return parts.join("+");
    });
    expect(memo.of("2026-10", "finance")).toBe("2026-10+finance");
    expect(memo.of("2026-10", "finance")).toBe("2026-10+finance");
    expect(memo.of("2026-10", "marketing")).toBe("2026-10+marketing");
    expect(memo.of("2026-11", "finance")).toBe("2026-11+finance");
    expect(asked).toEqual(["2026-10/finance", "2026-10/marketing", "2026-11/finance"]);
    // a fourth tuple finds the memo full: it is cleared, so the first is computed again
    memo.of("2026-12", "finance");
    memo.of("2026-10", "finance");
    expect(asked.slice(3)).toEqual(["2026-12/finance", "2026-10/finance"]);
  });

  it("keeps a null answer (a price none in force) instead of asking again", () => {
    let calls = 0;
    const memo = new TupleMemo<string | null>(10, () => {
      calls++;
      return null;
    });
    expect(memo.of("on_demand", "mars", "2026-10-01")).toBeNull();
    expect(memo.of("on_demand", "mars", "2026-10-01")).toBeNull();
    expect(calls).toBe(1);
  });
});
