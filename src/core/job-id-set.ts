// The set of job ids already counted, kept small: a 64-bit hash of each id in open-addressing
// tables of two Uint32Arrays, 11-21 bytes a job (8 at a load of 3/8 to 3/4) instead of a string
// and a Set entry (~100 bytes).
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

/**
 * 256 tables, chosen by the hash's top byte, each growing on its own: a growth doubles 1/256 of
 * the set, not all of it at once (at 4.9 million jobs one table of 2^24 slots was 128 MiB, and
 * 192 MiB while it doubled), and each may fill to 3/4 before it grows (linear probing stays short).
 */
const SEGMENT_BITS = 8;
const SEGMENTS = 1 << SEGMENT_BITS;

export class JobIdSet {
  private readonly high: Uint32Array[] = [];
  private readonly low: Uint32Array[] = [];
  private readonly used = new Int32Array(SEGMENTS);
  private count = 0;
  private readonly hash = new Uint32Array(2);

  /** `capacity`: slots to start with, over all the tables (at least 4 each). */
  constructor(capacity = 1 << 16) {
    let each = 4;
    while (each * SEGMENTS < capacity) each *= 2;
    for (let i = 0; i < SEGMENTS; i++) {
      this.high.push(new Uint32Array(each));
      this.low.push(new Uint32Array(each));
    }
  }

  get size(): number {
    return this.count;
  }

  /** Adds the id; returns false if it was there already. */
  add(id: string): boolean {
    hashJobId(id, this.hash);
    const h1 = this.hash[0] as number;
    const segment = h1 >>> (32 - SEGMENT_BITS);
    if (((this.used[segment] as number) + 1) * 4 > (this.high[segment] as Uint32Array).length * 3)
      this.grow(segment);
    return this.insert(segment, h1, this.hash[1] as number);
  }

  private insert(segment: number, h1: number, h2: number): boolean {
    const high = this.high[segment] as Uint32Array;
    const low = this.low[segment] as Uint32Array;
    const mask = high.length - 1;
    for (let slot = (h1 ^ Math.imul(h2, 0x9e3779b1)) & mask; ; slot = (slot + 1) & mask) {
      const a = high[slot] as number;
      const b = low[slot] as number;
      if (a === 0 && b === 0) {
        high[slot] = h1;
        low[slot] = h2;
        (this.used[segment] as number)++;
        this.count++;
        return true;
      }
      if (a === h1 && b === h2) return false;
    }
  }

  private grow(segment: number): void {
    const high = this.high[segment] as Uint32Array;
    const low = this.low[segment] as Uint32Array;
    this.high[segment] = new Uint32Array(high.length * 2);
    this.low[segment] = new Uint32Array(low.length * 2);
    this.count -= this.used[segment] as number;
    this.used[segment] = 0;
    for (let i = 0; i < high.length; i++) {
      if (high[i] !== 0 || low[i] !== 0) this.insert(segment, high[i] as number, low[i] as number);
    }
  }
}
