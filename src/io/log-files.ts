// Reads exported log entries from files, globs, .gz files or stdin, streamed in batches so memory
// stays flat whatever the input size. Two layouts are accepted and told apart by the first
// non-blank character: NDJSON (one LogEntry per line) and one JSON array, as
// `gcloud logging read --format=json` writes it (pretty-printed, entries spanning many lines).
import { createReadStream } from "node:fs";
import { glob, open, stat } from "node:fs/promises";
import { type Readable, Transform } from "node:stream";
import { StringDecoder } from "node:string_decoder";
import { createGunzip } from "node:zlib";

/** Raw entry texts with the 1-based line each starts on. */
export interface RecordBatch {
  file: string;
  texts: string[];
  lines: number[];
}

export class InputError extends Error {}

const STDIN = "-";
const GLOB_CHARS = /[*?[{]/;

/** Expands globs (the shell may have done it already); "-" is stdin. Fails if a pattern matches nothing. */
export async function expandInputs(patterns: string[]): Promise<string[]> {
  const files: string[] = [];
  for (const pattern of patterns) {
    if (pattern === STDIN || !GLOB_CHARS.test(pattern)) {
      if (pattern !== STDIN) {
        const info = await stat(pattern).catch(() => undefined);
        if (!info?.isFile()) throw new InputError(`--logs ${pattern}: no such file`);
      }
      files.push(pattern);
      continue;
    }
    const matches: string[] = [];
    for await (const match of glob(pattern)) matches.push(match);
    if (matches.length === 0) throw new InputError(`--logs ${pattern}: the pattern matches no file`);
    files.push(...matches.sort());
  }
  return files;
}

/** Total bytes on disk of the inputs (stdin counts as unknown: 0), for progress and throughput. */
export async function totalInputBytes(files: string[]): Promise<number> {
  let total = 0;
  for (const file of files) if (file !== STDIN) total += (await stat(file)).size;
  return total;
}

async function isGzip(file: string): Promise<boolean> {
  if (file.endsWith(".gz")) return true;
  const handle = await open(file, "r");
  try {
    const head = Buffer.alloc(2);
    const { bytesRead } = await handle.read(head, 0, 2, 0);
    return bytesRead === 2 && head[0] === 0x1f && head[1] === 0x8b;
  } finally {
    await handle.close();
  }
}

async function openText(file: string, onBytes?: (bytes: number) => void): Promise<Readable> {
  let stream: Readable = file === STDIN ? process.stdin : createReadStream(file, { highWaterMark: 1 << 20 });
  if (onBytes) {
    // Counted in a pipe stage, not a "data" listener, which would start the flow before anyone reads.
    stream = stream.pipe(
      new Transform({
        transform(chunk: Buffer, _encoding, done) {
          onBytes(chunk.length);
          done(null, chunk);
        },
      }),
    );
  }
  if (file !== STDIN && (await isGzip(file))) return stream.pipe(createGunzip({ chunkSize: 1 << 20 }));
  return stream;
}

/**
 * Streams the entries of each input as batches of raw texts. `onBytes` is told how many bytes
 * (as stored, compressed or not) were read, for progress.
 */
export async function* readRecordBatches(
  files: string[],
  options: { batchSize?: number; onBytes?: (bytes: number) => void } = {},
): AsyncGenerator<RecordBatch> {
  const batchSize = options.batchSize ?? 2000;
  for (const file of files) {
    const name = file === STDIN ? "<stdin>" : file;
    const stream = await openText(file, options.onBytes);
    yield* splitEntries(stream, name, batchSize);
  }
}

/**
 * Input for the parallel reader: NDJSON as raw bytes cut at line ends (a worker decodes and
 * splits them; line numbers inside are chunk-relative), JSON arrays as entry texts.
 */
export type InputChunk =
  | { kind: "ndjson"; file: string; data: Uint8Array }
  | { kind: "records"; batch: RecordBatch };

const WHITESPACE = new Set([0x20, 0x09, 0x0a, 0x0d, 0xef, 0xbb, 0xbf]);

/** Reads each input as InputChunks of about a megabyte; the main thread only cuts at newlines. */
export async function* readInputChunks(
  files: string[],
  options: { batchSize?: number; onBytes?: (bytes: number) => void } = {},
): AsyncGenerator<InputChunk> {
  for (const file of files) {
    const name = file === STDIN ? "<stdin>" : file;
    const stream = await openText(file, options.onBytes);
    const iterator = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
    const head: Buffer[] = [];
    let first: number | undefined;
    while (first === undefined) {
      const next = await iterator.next();
      if (next.done) break;
      head.push(next.value);
      first = next.value.find((byte) => !WHITESPACE.has(byte));
    }
    const rest = (async function* () {
      yield* head;
      for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value;
    })();
    if (first === 0x5b) {
      for await (const batch of splitEntries(rest, name, options.batchSize ?? 2000))
        yield { kind: "records", batch };
      continue;
    }
    let carry: Buffer | undefined;
    for await (const buffer of rest) {
      const data = carry ? Buffer.concat([carry, buffer]) : buffer;
      const cut = data.lastIndexOf(0x0a);
      if (cut < 0) {
        carry = data;
        continue;
      }
      // A copy of exactly these bytes: it can be transferred to a worker without taking its neighbours.
      yield { kind: "ndjson", file: name, data: new Uint8Array(data.subarray(0, cut + 1)) };
      carry = cut + 1 < data.length ? Buffer.from(data.subarray(cut + 1)) : undefined;
    }
    if (carry && carry.length > 0) yield { kind: "ndjson", file: name, data: new Uint8Array(carry) };
  }
}

/** Splits a text stream into entries, detecting NDJSON or a JSON array. Exported for tests. */
export async function* splitEntries(
  stream: AsyncIterable<Buffer | string> | Iterable<Buffer | string>,
  file: string,
  batchSize: number,
): AsyncGenerator<RecordBatch> {
  const decoder = new StringDecoder("utf8");
  let splitter: NdjsonSplitter | JsonArraySplitter | undefined;
  let pending = "";
  let batch: RecordBatch = { file, texts: [], lines: [] };
  const full: RecordBatch[] = [];
  const emit = (text: string, line: number) => {
    batch.texts.push(text);
    batch.lines.push(line);
    if (batch.texts.length >= batchSize) {
      full.push(batch);
      batch = { file, texts: [], lines: [] };
    }
  };
  for await (const chunk of stream) {
    const text = typeof chunk === "string" ? chunk : decoder.write(chunk);
    if (!splitter) {
      pending += text;
      const first = pending.search(/\S/);
      if (first < 0) continue;
      splitter = pending[first] === "[" ? new JsonArraySplitter(emit) : new NdjsonSplitter(emit);
      splitter.push(pending);
      pending = "";
    } else {
      splitter.push(text);
    }
    while (full.length > 0) yield full.shift() as RecordBatch;
  }
  const rest = decoder.end();
  if (splitter) {
    if (rest) splitter.push(rest);
    splitter.end();
  }
  yield* full;
  if (batch.texts.length > 0) yield batch;
}

/** One entry per line; blank lines are not entries; CRLF tolerated. */
class NdjsonSplitter {
  private carry = "";
  private line = 0;
  private readonly emit: (text: string, line: number) => void;
  constructor(emit: (text: string, line: number) => void) {
    this.emit = emit;
  }

  push(text: string): void {
    const data = this.carry + text;
    let start = 0;
    for (let nl = data.indexOf("\n", start); nl >= 0; nl = data.indexOf("\n", start)) {
      this.take(data, start, nl);
      start = nl + 1;
    }
    this.carry = data.slice(start);
  }

  end(): void {
    if (this.carry.length > 0) this.take(this.carry, 0, this.carry.length);
    this.carry = "";
  }

  private take(data: string, start: number, end: number): void {
    this.line++;
    let stop = end;
    if (stop > start && data.charCodeAt(stop - 1) === 13) stop--;
    if (stop === start) return;
    const text = data.slice(start, stop);
    if (text.trim().length > 0) this.emit(text, this.line);
  }
}

const QUOTE = 34;
const BACKSLASH = 92;
const NEWLINE = 10;
const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;
const OPEN_BRACKET = 91;
const CLOSE_BRACKET = 93;
const COMMA = 44;

/**
 * Emits each element of one top-level JSON array, with the line it starts on, without parsing
 * it: a scan that tracks strings and nesting depth. A truncated array emits its incomplete last
 * element, so the parser rejects it with its line instead of losing it.
 */
class JsonArraySplitter {
  private depth = 0;
  private inString = false;
  private escaped = false;
  private line = 1;
  private element: string[] = [];
  private elementLine = 0;
  private inElement = false;
  private afterArray = false;
  private readonly emit: (text: string, line: number) => void;
  constructor(emit: (text: string, line: number) => void) {
    this.emit = emit;
  }

  push(text: string): void {
    let sliceStart = this.inElement ? 0 : -1;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === NEWLINE) this.line++;
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === BACKSLASH) this.escaped = true;
        else if (c === QUOTE) this.inString = false;
        continue;
      }
      if (c <= 32) continue;
      if (this.afterArray) {
        // Text after the closing bracket: keep it as an element so it is rejected, not lost.
        this.afterArray = false;
        this.inElement = true;
        this.elementLine = this.line;
        sliceStart = i;
        this.depth = 1;
      }
      if (this.depth === 0) {
        if (c === OPEN_BRACKET) this.depth = 1;
        continue;
      }
      if (this.depth === 1 && !this.inElement) {
        if (c === COMMA) continue;
        if (c === CLOSE_BRACKET) {
          this.depth = 0;
          this.afterArray = true;
          continue;
        }
        this.inElement = true;
        this.elementLine = this.line;
        sliceStart = i;
      }
      if (c === QUOTE) this.inString = true;
      else if (c === OPEN_BRACE || c === OPEN_BRACKET) this.depth++;
      else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
        if (this.depth === 1) {
          // `]` closing the array right after a scalar element
          this.finish(text.slice(sliceStart, i));
          sliceStart = -1;
          this.depth = 0;
          this.afterArray = true;
          continue;
        }
        this.depth--;
        if (this.depth === 1) {
          this.finish(text.slice(sliceStart, i + 1));
          sliceStart = -1;
        }
      } else if (c === COMMA && this.depth === 1) {
        this.finish(text.slice(sliceStart, i));
        sliceStart = -1;
      }
    }
    if (this.inElement && sliceStart >= 0) this.element.push(text.slice(sliceStart));
  }

  end(): void {
    if (this.inElement) this.finish("");
  }

  private finish(tail: string): void {
    this.element.push(tail);
    const text = this.element.join("").trim();
    this.element = [];
    this.inElement = false;
    if (text.length > 0) this.emit(text, this.elementLine);
  }
}
