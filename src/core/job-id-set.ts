// The set of job ids already counted, kept small: a 64-bit hash of each id in an open-addressing
// table of two Uint32Arrays, about 16 bytes a job instead of a string and a Set entry (~100 bytes).
// Two different ids share a 64-bit hash with probability about n^2 / 2^65: for ten million jobs,
// about 3 in a million runs would count one job as a duplicate of another.

const FNV_OFFSET_HIGH = 0x811c9dc5;
const FNV_OFFSET_LOW = 0x050c5d1f;

/** The id's 64-bit hash as two 32-bit halves, written into `into` (never 0/0: that marks an empty slot). */
export function hashJobId(id: string, into: Uint32Array): void {
  // Two independent 32-bit FNV-1a hashes (different offsets and a rotated multiplier) make the 64 bits.
  let h1 = FNV_OFFSET_HIGH;
  let h2 = FNV_OFFSET_LOW;
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x01000193) ^ (h2 >>> 13);
  }
  h1 >>>= 0;
  h2 >>>= 0;
  into[0] = h1;
  // Slot 0/0 marks an empty place; nudge a real 0/0 hash.
  into[1] = h1 === 0 && h2 === 0 ? 1 : h2;
}

export class JobIdSet {
  private high: Uint32Array;
  private low: Uint32Array;
  private used = 0;
  private readonly hash = new Uint32Array(2);

  constructor(capacity = 1 << 16) {
    this.high = new Uint32Array(capacity);
    this.low = new Uint32Array(capacity);
  }

  get size(): number {
    return this.used;
  }

  /** Adds the id; returns false if it was there already. */
  add(id: string): boolean {
    hashJobId(id, this.hash);
    if ((this.used + 1) * 2 > this.high.length) this.grow();
    return this.insert(this.hash[0] as number, this.hash[1] as number);
  }

  private insert(h1: number, h2: number): boolean {
    const mask = this.high.length - 1;
    for (let slot = (h1 ^ Math.imul(h2, 0x9e3779b1)) & mask; ; slot = (slot + 1) & mask) {
      const a = this.high[slot] as number;
      const b = this.low[slot] as number;
      if (a === 0 && b === 0) {
        this.high[slot] = h1;
        this.low[slot] = h2;
        this.used++;
        return true;
      }
      if (a === h1 && b === h2) return false;
    }
  }

  private grow(): void {
    const high = this.high;
    const low = this.low;
    this.high = new Uint32Array(high.length * 2);
    this.low = new Uint32Array(low.length * 2);
    this.used = 0;
    for (let i = 0; i < high.length; i++) {
      if (high[i] !== 0 || low[i] !== 0) this.insert(high[i] as number, low[i] as number);
    }
  }
}
