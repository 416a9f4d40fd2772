// Answers remembered by a tuple of texts, in nested Maps: finding one again costs a few Map
// lookups, with no joined key to build first. Bounded: cleared when full, so input that names ever
// new texts cannot grow it without limit. The aggregator's keys (aggregate.ts) and the prices in
// force (pricebook.ts) both ask the same few tuples job after job.

/** A level of the memo: a Map of the next part, or at the last part the answer itself. */
type Level = Map<string, unknown>;

export class TupleMemo<V> {
  private root: Level = new Map();
  private size = 0;
  private readonly limit: number;
  private readonly compute: (parts: readonly string[]) => V;

  /** `compute` gives the answer for a tuple never asked (or forgotten); it must not give undefined. */
  constructor(limit: number, compute: (parts: readonly string[]) => V) {
    this.limit = limit;
    this.compute = compute;
  }

  /** The answer for the tuple; every tuple asked of one memo must have the same length. */
  of(...parts: string[]): V {
    let level = this.root;
    const last = parts.length - 1;
    for (let i = 0; i < last; i++) {
      const part = parts[i] as string;
      let next = level.get(part) as Level | undefined;
      if (!next) {
        next = new Map();
        level.set(part, next);
      }
      level = next;
    }
    let answer = level.get(parts[last] as string) as V | undefined;
    if (answer === undefined) {
      answer = this.compute(parts);
      if (this.size >= this.limit) {
        this.root = new Map();
        this.size = 0;
        return answer;
      }
      this.size++;
      level.set(parts[last] as string, answer);
    }
    return answer;
  }
}
