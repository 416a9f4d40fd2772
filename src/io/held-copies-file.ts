// The incomplete copies of jobs (ChargebackPipeline's held copies) kept on disk instead of the
// heap: on the sample organisation's mix a quarter of the jobs are v1-only or lack statistics, so
// they wait until the run ends for a better copy that rarely comes, and on the heap they cost
// ~2.7 KB each (170 MB at 1 GB of logs). Here each copy is one record appended to a scratch file,
// and memory keeps only a small table per held job: the 64-bit hash of its key, where its first
// copy and its best copy lie (24 bytes a slot: 32-64 bytes a held job at a load of 3/8 to 3/4).
//
// Records: [hash high u32][hash low u32][payload length u32][payload: v8.serialize({job, line})],
// little-endian. release() reads the file in order and, at each job's first record, gives its best
// copy: the order in which jobs were first held, as the in-memory store gives them.
import { closeSync, openSync, readSync, rmSync, writeSync } from "node:fs";
import { deserialize, serialize } from "node:v8";
import { hashJobId } from "../core/job-id-set.ts";
import { type CountedJob, copyOf, type HeldCopies, type JobCopy } from "../core/pipeline.ts";

const HEADER = 12;
const FLUSH_AT = 1 << 20;
const READ_BLOCK = 1 << 20;

/** Open addressing over the key hashes: slot -> offsets of the first and the best record (+1; 0 is empty). */
class HeldIndex {
  private high = new Uint32Array(1 << 12);
  private low = new Uint32Array(1 << 12);
  first = new Float64Array(1 << 12);
  best = new Float64Array(1 << 12);
  private used = 0;

  /** The slot of the hash, or -1 when absent and `create` is false. */
  slot(h1: number, h2: number, create: boolean): number {
    if (create && (this.used + 1) * 4 > this.high.length * 3) this.grow();
    const mask = this.high.length - 1;
    for (let slot = (h1 ^ Math.imul(h2, 0x9e3779b1)) & mask; ; slot = (slot + 1) & mask) {
      const a = this.high[slot] as number;
      const b = this.low[slot] as number;
      if (a === h1 && b === h2) return slot;
      if (a === 0 && b === 0) {
        if (!create) return -1;
        this.high[slot] = h1;
        this.low[slot] = h2;
        this.used++;
        return slot;
      }
    }
  }

  private grow(): void {
    const { high, low, first, best } = this;
    const size = high.length * 2;
    this.high = new Uint32Array(size);
    this.low = new Uint32Array(size);
    this.first = new Float64Array(size);
    this.best = new Float64Array(size);
    this.used = 0;
    for (let i = 0; i < high.length; i++) {
      if (high[i] === 0 && low[i] === 0) continue;
      const slot = this.slot(high[i] as number, low[i] as number, true);
      this.first[slot] = first[i] as number;
      this.best[slot] = best[i] as number;
    }
  }
}

export class HeldCopiesFile implements HeldCopies {
  private readonly path: string;
  /** Opened at the first held copy, closed (and the file deleted) once released. */
  private fd: number | undefined;
  private index = new HeldIndex();
  private readonly hash = new Uint32Array(2);
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Bytes written to the file; records after it are still in `pending`. */
  private flushed = 0;
  private block = Buffer.alloc(0);
  private blockStart = 0;

  constructor(path: string) {
    this.path = path;
  }

  private slotOf(key: string, create: boolean): number {
    hashJobId(key, this.hash);
    return this.index.slot(this.hash[0] as number, this.hash[1] as number, create);
  }

  heldCopy(key: string): JobCopy | undefined {
    const slot = this.slotOf(key, false);
    if (slot < 0) return undefined;
    return copyOf(this.recordAt((this.index.best[slot] as number) - 1).job);
  }

  hold(key: string, counted: CountedJob): void {
    this.fd ??= openSync(this.path, "w+", 0o600);
    const slot = this.slotOf(key, true);
    const offset = this.flushed + this.pendingBytes;
    const payload = serialize(counted);
    const header = Buffer.allocUnsafe(HEADER);
    header.writeUInt32LE(this.hash[0] as number, 0);
    header.writeUInt32LE(this.hash[1] as number, 4);
    header.writeUInt32LE(payload.length, 8);
    this.pending.push(header, payload);
    this.pendingBytes += HEADER + payload.length;
    if (this.index.first[slot] === 0) this.index.first[slot] = offset + 1;
    this.index.best[slot] = offset + 1;
    if (this.pendingBytes >= FLUSH_AT) this.flush();
  }

  *release(): Generator<CountedJob> {
    if (this.fd === undefined) return;
    this.flush();
    const end = this.flushed;
    let offset = 0;
    while (offset < end) {
      const header = this.read(offset, HEADER);
      const h1 = header.readUInt32LE(0);
      const h2 = header.readUInt32LE(4);
      const length = header.readUInt32LE(8);
      const slot = this.index.slot(h1, h2, false);
      if (slot >= 0 && this.index.first[slot] === offset + 1) {
        const best = (this.index.best[slot] as number) - 1;
        yield best === offset ? deserialize(this.read(offset + HEADER, length)) : this.recordAt(best);
      }
      offset += HEADER + length;
    }
    this.close();
  }

  /** Closes and deletes the scratch file. */
  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    rmSync(this.path, { force: true });
    this.fd = undefined;
    this.index = new HeldIndex();
    this.flushed = 0;
    this.block = Buffer.alloc(0);
    this.blockStart = 0;
  }

  private recordAt(offset: number): CountedJob {
    this.flush();
    const length = this.read(offset, HEADER).readUInt32LE(8);
    return deserialize(this.read(offset + HEADER, length));
  }

  private flush(): void {
    if (this.pendingBytes === 0) return;
    const data = Buffer.concat(this.pending, this.pendingBytes);
    let written = 0;
    while (written < data.length)
      written += writeSync(this.fd as number, data, written, data.length - written, this.flushed + written);
    this.flushed += data.length;
    this.pending = [];
    this.pendingBytes = 0;
  }

  /** `length` bytes at `offset` of the file, through a read block (release() reads in order). */
  private read(offset: number, length: number): Buffer {
    if (offset < this.blockStart || offset + length > this.blockStart + this.block.length) {
      const size = Math.min(Math.max(READ_BLOCK, length), this.flushed - offset);
      const block = Buffer.allocUnsafe(size);
      let read = 0;
      while (read < size) {
        const got = readSync(this.fd as number, block, read, size - read, offset + read);
        if (got === 0) throw new Error(`${this.path}: ended at ${offset + read}, expected ${offset + size}`);
        read += got;
      }
      this.block = block;
      this.blockStart = offset;
    }
    return this.block.subarray(offset - this.blockStart, offset - this.blockStart + length);
  }
}
