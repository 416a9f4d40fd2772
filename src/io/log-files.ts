// Reads exported log entries from files, globs, .gz files or stdin, streamed in batches so memory
// stays flat whatever the input size. Two layouts are accepted and told apart by the first
// non-blank character: NDJSON (one LogEntry per line) and one JSON array, as
// `gcloud logging read --format=json` writes it (pretty-printed, entries spanning many lines).
import { createReadStream, type Stats } from "node:fs";
import { glob, readFile, stat } from "node:fs/promises";
import { Readable } from "node:stream";
import { StringDecoder } from "node:string_decoder";
import { createGunzip } from "node:zlib";

/** Raw entry texts with the 1-based line each starts on. */
export interface RecordBatch {
  file: string;
  texts: string[];
  lines: number[];
  /** Elements longer than MAX_ENTRY_BYTES characters, by index: their text is only the start. */
  tooLarge?: Record<number, number>;
  /** How many entries of the file came before this batch (a row's number in a one-line JSON array). */
  before?: number;
}

export class InputError extends Error {}

/** The forms --logs reads, named in the line that refuses a file in none of them. */
export const FORMS_READ =
  "Cloud Logging entries as JSON: NDJSON (one LogEntry a line), a JSON array (gcloud logging read --format=json), pretty-printed entries or entries.list responses, or rows of a Log Router sink's BigQuery table (bq query --format=json, bq extract --destination_format=NEWLINE_DELIMITED_JSON)";

/** A file in none of the forms read: refused whole rather than rejected line by line. */
export interface RefusedInput {
  file: string;
  /** What the file looks like, in words ("CSV (...), starting ..."). */
  form: string;
}

export function refusalLine(refused: RefusedInput): string {
  return `${refused.file}: refused: it is ${refused.form}; expected ${FORMS_READ}`;
}

class RefusedForm extends Error {}

/**
 * A file's text. Node names the path in ENOENT but not in EISDIR (`read` of a directory): the
 * path is added, so the one-line error says which file.
 */
export async function readTextFile(file: string): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch (error) {
    const system = error as { path?: string };
    if (typeof error === "object" && error !== null && system.path === undefined) system.path = file;
    throw error;
  }
}

/** An input that broke off while being read (a truncated or corrupt .gz, a read error). */
export interface InputDamage {
  file: string;
  /** Bytes of the file, as stored, read before it broke off. */
  storedBytes: number;
  /** Bytes of text (decompressed) read before it broke off. */
  textBytes: number;
  /** What went wrong, in zlib's or the system's words. */
  cause: string;
}

const STDIN = "-";
const GLOB_CHARS = /[*?[{]/;

/** What a path that is not readable input is, in words. */
function notInput(pattern: string, info: Stats | undefined, error: unknown, flag: string): InputError {
  const code = (error as { code?: string } | undefined)?.code;
  const what = info?.isDirectory()
    ? "a directory, not a file"
    : info
      ? "not a file, pipe or device"
      : code === "ELOOP"
        ? "a loop of symbolic links"
        : code === "ENOTDIR"
          ? "a path through something that is not a directory"
          : code === "EACCES" || code === "EPERM"
            ? "not readable (permission denied)"
            : "no such file";
  return new InputError(`${flag} ${pattern}: ${what}`);
}

/** Regular files, FIFOs (`<(...)`, mkfifo) and character devices are read; the rest is refused. */
function isReadable(info: Stats): boolean {
  return info.isFile() || info.isFIFO() || info.isCharacterDevice();
}

/**
 * Expands globs (the shell may have done it already); "-" is stdin. A path that exists is that
 * file even when its name holds glob characters (`[`, `*`). Fails if a pattern matches nothing.
 */
export async function expandInputs(patterns: string[], flag = "--logs"): Promise<string[]> {
  const files: string[] = [];
  for (const pattern of patterns) {
    if (pattern === STDIN) {
      files.push(pattern);
      continue;
    }
    let failure: unknown;
    const info = await stat(pattern).catch((error: unknown) => {
      failure = error;
      return undefined;
    });
    if (info || !GLOB_CHARS.test(pattern)) {
      if (!info || !isReadable(info)) throw notInput(pattern, info, failure, flag);
      files.push(pattern);
      continue;
    }
    const matches: string[] = [];
    for await (const match of glob(pattern)) matches.push(match);
    if (matches.length === 0) throw new InputError(`${flag} ${pattern}: the pattern matches no file`);
    files.push(...matches.sort());
  }
  return files;
}

/** Total bytes on disk of the inputs (stdin and pipes count as unknown: 0), for progress and throughput. */
export async function totalInputBytes(files: string[]): Promise<number> {
  let total = 0;
  for (const file of files) {
    if (file === STDIN) continue;
    const info = await stat(file);
    if (info.isFile()) total += info.size;
  }
  return total;
}

const GZIP_MAGIC = [0x1f, 0x8b];
/**
 * Bytes read (and, for NDJSON, handed to stage one) at a time. 64 KiB rather than 1 MiB: a chunk's
 * results then die young in V8's nursery instead of being promoted, and workers are fed more evenly
 * (job-heavy 1 GB, 2 workers: 9-12 s and 310-320 MB against 17-20 s and 430-450 MB; one thread
 * 13-15 s and 220-235 MB against 15-22 s and 258-264 MB; docs/performance.md).
 */
const DEFAULT_CHUNK_BYTES = 64 * 1024;

/** The bytes of a file or stdin as stored, each chunk counted for progress. */
async function* storedBytes(
  file: string,
  onBytes?: (bytes: number) => void,
  chunkBytes = DEFAULT_CHUNK_BYTES,
): AsyncGenerator<Buffer> {
  const stream = file === STDIN ? process.stdin : createReadStream(file, { highWaterMark: chunkBytes });
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    onBytes?.(chunk.length);
    yield chunk;
  }
}

/**
 * The text bytes of an input: gunzipped when it starts with gzip's magic bytes, whatever its name
 * and wherever it comes from (a file, a pipe, stdin). Errors of the file or of zlib are thrown
 * by the iteration, never left unhandled on a stream.
 */
async function* textBytes(
  file: string,
  onBytes?: (bytes: number) => void,
  chunkBytes = DEFAULT_CHUNK_BYTES,
): AsyncGenerator<Buffer> {
  const stored = storedBytes(file, onBytes, chunkBytes);
  let first = await stored.next();
  while (!first.done && first.value.length < 2) {
    const next = await stored.next();
    if (next.done) break;
    first = { done: false, value: Buffer.concat([first.value, next.value]) };
  }
  if (first.done) return;
  const head = first.value;
  const rest = (async function* () {
    yield head;
    yield* stored;
  })();
  const utf16 =
    head[0] === 0xff && head[1] === 0xfe
      ? "utf-16le"
      : head[0] === 0xfe && head[1] === 0xff
        ? "utf-16be"
        : undefined;
  if (utf16) {
    // A Windows shell redirect (PowerShell `>`) writes UTF-16 with a byte-order mark: read as UTF-8.
    const decoder = new TextDecoder(utf16);
    for await (const chunk of rest) yield Buffer.from(decoder.decode(chunk, { stream: true }), "utf8");
    const tail = decoder.decode();
    if (tail) yield Buffer.from(tail, "utf8");
    return;
  }
  if (head[0] !== GZIP_MAGIC[0] || head[1] !== GZIP_MAGIC[1]) {
    yield* rest;
    return;
  }
  const source = Readable.from(rest);
  const gunzip = createGunzip({ chunkSize: chunkBytes });
  source.on("error", (error) => gunzip.destroy(error));
  source.pipe(gunzip);
  yield* gunzip as AsyncIterable<Buffer>;
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
    yield* splitEntries(textBytes(file, options.onBytes), name, batchSize);
  }
}

/**
 * Input for the parallel reader: NDJSON as raw bytes cut at line ends (a worker decodes and
 * splits them; line numbers inside are chunk-relative), JSON arrays as entry texts.
 */
export type InputChunk =
  | { kind: "ndjson"; file: string; data: Uint8Array }
  | { kind: "records"; batch: RecordBatch }
  /** One NDJSON line longer than MAX_ENTRY_BYTES: only its start is kept, to be rejected. */
  | { kind: "oversize"; file: string; prefix: Uint8Array; bytes: number };

export function chunkFile(chunk: InputChunk): string {
  return chunk.kind === "records" ? chunk.batch.file : chunk.file;
}

/**
 * The longest line read as an entry. Cloud Logging takes entries of at most 256 KB and Pub/Sub
 * messages of 10 MB; a longer line is no entry, and holding it whole could take all the memory.
 */
export const MAX_ENTRY_BYTES = 16 * 1024 * 1024;
const OVERSIZE_PREFIX_BYTES = 4096;

const WHITESPACE = new Set([0x20, 0x09, 0x0a, 0x0d, 0xef, 0xbb, 0xbf]);

export interface ReadOptions {
  /** Entries a batch of a JSON array or pretty-printed input (default 2000). */
  batchSize?: number;
  /** Bytes read at a time, so about the size of an NDJSON chunk (default 64 KiB; zlib's output too). */
  chunkBytes?: number;
  /** Told how many bytes (as stored, compressed or not) were read, for progress. */
  onBytes?: (bytes: number) => void;
  /**
   * Told of an input that broke off; reading goes on with the next one. What was read before
   * the break has been handed out (a line cut in half included, to be rejected, not lost).
   * Without it, the error is thrown.
   */
  onDamage?: (damage: InputDamage) => void;
  /** Told of an input in none of the forms read; reading goes on with the next one. Without it, an InputError is thrown. */
  onRefused?: (refused: RefusedInput) => void;
}

/** Reads each input as InputChunks of about `chunkBytes` (64 KiB); the main thread only cuts at newlines. */
export async function* readInputChunks(
  files: string[],
  options: ReadOptions = {},
): AsyncGenerator<InputChunk> {
  for (const file of files) {
    const name = file === STDIN ? "<stdin>" : file;
    let storedCount = 0;
    let textCount = 0;
    const text = (async function* () {
      const bytes = textBytes(
        file,
        (count) => {
          storedCount += count;
          options.onBytes?.(count);
        },
        options.chunkBytes,
      );
      for await (const chunk of bytes) {
        textCount += chunk.length;
        yield chunk;
      }
    })();
    try {
      yield* fileChunks(text, name, options.batchSize ?? 2000);
    } catch (error) {
      if (error instanceof RefusedForm) {
        const refused = { file: name, form: error.message };
        if (!options.onRefused) throw new InputError(refusalLine(refused));
        options.onRefused(refused);
        continue;
      }
      if (!options.onDamage) throw error;
      options.onDamage({
        file: name,
        storedBytes: storedCount,
        textBytes: textCount,
        cause: (error as Error)?.message ?? String(error),
      });
    }
  }
}

/** How much of a file's start tells its form: its first lines, within the first 64 KiB. */
const SNIFF_BYTES = 64 * 1024;
const SNIFF_LINES = 16;

/** Reads more of the input into `head` until it holds `lines` line ends or `bytes` bytes, or the input ends. */
async function readHead(head: Buffer[], iterator: AsyncIterator<Buffer>, bytes: number, lines = SNIFF_LINES) {
  const count = (predicate: (chunk: Buffer) => number) => head.reduce((n, chunk) => n + predicate(chunk), 0);
  while (
    count((chunk) => chunk.filter((byte) => byte === NEWLINE).length) < lines &&
    count((chunk) => chunk.length) < bytes
  ) {
    const next = await iterator.next();
    if (next.done) break;
    head.push(next.value);
  }
}

/** Whether one of the first lines starts (after blanks) with `{` or `[`, as JSON entries do. */
function startsAnyLine(start: Buffer, lines: number): boolean {
  return start
    .toString("utf8")
    .split("\n", lines)
    .some((line) => /^[\s\uFEFF]*[[{]/.test(line));
}

/** Lines of as many cells as the first (two or more), or a lone header of bare names. */
function isCsv(lines: string[]): boolean {
  const first = lines[0] ?? "";
  if (lines.length === 1) return /^[\w"]+([,\t][\w"]+)+$/.test(first);
  return [",", "\t"].some((separator) => {
    const cells = (line: string) => line.split(separator).length;
    return cells(first) > 1 && lines.slice(1, 5).every((line) => cells(line) === cells(first));
  });
}

/** What a file that is not JSON looks like, for the line that refuses it. */
export function formOf(start: Buffer): string {
  const magic = start.subarray(0, 4).toString("latin1");
  if (magic === "Obj\x01") return "an Avro file (bq extract --destination_format=AVRO)";
  if (magic === "PAR1") return "a Parquet file (bq extract --destination_format=PARQUET)";
  if (magic.startsWith("PK\x03\x04")) return "a ZIP archive";
  if (start.includes(0)) return "binary data";
  const lines = start
    .toString("utf8")
    .replace(/^\uFEFF/, "")
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
  const first = lines[0] ?? "";
  const starting = `starting ${JSON.stringify(first.length > 60 ? `${first.slice(0, 57)}...` : first)}`;
  if (lines.some((line) => line.includes("gs://")))
    return `a Cloud Storage object listing (gcloud storage ls), ${starting}`;
  if (first === "---" || /^[\w"'.-]+:(\s|$)/.test(first)) return `YAML, ${starting}`;
  if (isCsv(lines)) return `CSV (bq query --format=csv, bq extract), ${starting}`;
  return `plain text, ${starting}`;
}
async function* fileChunks(
  text: AsyncIterable<Buffer>,
  name: string,
  batchSize: number,
): AsyncGenerator<InputChunk> {
  const iterator = text[Symbol.asyncIterator]();
  const head: Buffer[] = [];
  let first: number | undefined;
  const rest = (async function* () {
    yield* head;
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value;
  })();
  try {
    while (first === undefined) {
      const next = await iterator.next();
      if (next.done) break;
      head.push(next.value);
      first = next.value.find((byte) => !WHITESPACE.has(byte));
    }
  } catch (error) {
    // Broke off before the first entry: what was read is one (incomplete) entry.
    if (head.length > 0) yield { kind: "ndjson", file: name, data: new Uint8Array(Buffer.concat(head)) };
    throw error;
  }
  if (first !== undefined && first !== OPEN_BRACKET && first !== OPEN_BRACE) {
    // Not JSON from its first character. Refused when none of its first lines is JSON either (CSV,
    // YAML, a listing): every line would be rejected. An NDJSON file whose first line is damaged
    // is read line by line, its bad lines rejected, nothing lost.
    await readHead(head, iterator, SNIFF_BYTES);
    const start = Buffer.concat(head);
    if (!startsAnyLine(start, SNIFF_LINES)) throw new RefusedForm(formOf(start));
  }
  // A byte-order mark opens the file, not its first entry. Dropped here, once: the workers decode
  // each chunk keeping a BOM (else one at a chunk's start would vanish, depending on chunk sizes).
  const opening = head[0];
  if (opening && opening[0] === 0xef && opening[1] === 0xbb && opening[2] === 0xbf)
    head[0] = opening.subarray(3);
  if (first === 0x5b) {
    for await (const batch of splitEntries(rest, name, batchSize)) yield { kind: "records", batch };
    return;
  }
  if (first === OPEN_BRACE) {
    // The first line tells NDJSON from pretty-printed entries or an entries.list response.
    await readHead(head, iterator, 1 << 20, 1);
    const joined = Buffer.concat(head);
    const newline = joined.indexOf(NEWLINE);
    if (!isNdjsonLine(joined.subarray(0, newline < 0 ? joined.length : newline).toString("utf8"))) {
      head.splice(0, head.length, joined);
      for await (const batch of splitEntries(rest, name, batchSize, "values"))
        yield { kind: "records", batch };
      return;
    }
  }
  let carry: Buffer | undefined;
  // An over-long line being skipped to its end: its start and its length so far.
  let oversize: { prefix: Uint8Array; bytes: number } | undefined;
  const overlong = (over: { prefix: Uint8Array; bytes: number }): InputChunk => ({
    kind: "oversize",
    file: name,
    ...over,
  });
  try {
    for await (const buffer of rest) {
      let data = buffer;
      if (oversize) {
        const end = data.indexOf(0x0a);
        if (end < 0) {
          oversize.bytes += data.length;
          continue;
        }
        oversize.bytes += end;
        yield overlong(oversize);
        oversize = undefined;
        data = data.subarray(end + 1);
      } else if (carry) data = Buffer.concat([carry, data]);
      carry = undefined;
      const cut = data.lastIndexOf(0x0a);
      if (cut < 0) {
        if (data.length > MAX_ENTRY_BYTES)
          oversize = { prefix: new Uint8Array(data.subarray(0, OVERSIZE_PREFIX_BYTES)), bytes: data.length };
        else if (data.length > 0) carry = Buffer.from(data);
        continue;
      }
      // A copy of exactly these bytes: it can be transferred to a worker without taking its neighbours.
      yield { kind: "ndjson", file: name, data: new Uint8Array(data.subarray(0, cut + 1)) };
      carry = cut + 1 < data.length ? Buffer.from(data.subarray(cut + 1)) : undefined;
    }
  } catch (error) {
    // The input broke off: its last, cut line is rejected rather than lost.
    yield* lastLine();
    throw error;
  }
  yield* lastLine();

  function* lastLine(): Generator<InputChunk> {
    if (oversize) yield overlong(oversize);
    else if (carry && carry.length > 0) yield { kind: "ndjson", file: name, data: new Uint8Array(carry) };
  }
}

/** Splits a text stream into entries, detecting NDJSON or a JSON array. Exported for tests. */
/**
 * Whether a file's first line is a whole LogEntry, as in NDJSON. Not when it is the start of a
 * pretty-printed entry (`{` alone) or a whole entries.list response (`{"entries": [...]}`).
 */
function isNdjsonLine(line: string): boolean {
  try {
    const value = JSON.parse(line) as Record<string, unknown>;
    return !isEntriesPage(value);
  } catch {
    return false;
  }
}

/** The Logging API's entries.list response: `{"entries": [LogEntry...], "nextPageToken": ...}`. */
function isEntriesPage(value: unknown): value is { entries: unknown[] } {
  const page = value as { entries?: unknown; protoPayload?: unknown } | null;
  return (
    typeof page === "object" &&
    page !== null &&
    Array.isArray(page.entries) &&
    page.protoPayload === undefined
  );
}

/**
 * Splits a text into entries: NDJSON (one per line), one JSON array (gcloud logging read
 * --format=json), or, as `values`, JSON values one after another whatever their layout
 * (pretty-printed entries, entries.list responses, whose entries are handed out one by one).
 */
export async function* splitEntries(
  stream: AsyncIterable<Buffer | string> | Iterable<Buffer | string>,
  file: string,
  batchSize: number,
  form?: "values",
): AsyncGenerator<RecordBatch> {
  const decoder = new StringDecoder("utf8");
  let splitter: NdjsonSplitter | JsonArraySplitter | undefined;
  let pending = "";
  let batch: RecordBatch = { file, texts: [], lines: [] };
  const full: RecordBatch[] = [];
  let emitted = 0;
  const emit = (text: string, line: number, tooLarge?: number) => {
    if (tooLarge !== undefined) batch.tooLarge = { ...batch.tooLarge, [batch.texts.length]: tooLarge };
    batch.texts.push(text);
    batch.lines.push(line);
    emitted++;
    if (batch.texts.length >= batchSize) {
      full.push(batch);
      batch = { file, texts: [], lines: [], before: emitted };
    }
  };
  /** A value of the `values` form: an entries.list response gives its entries, each on the page's line. */
  const emitValue = (text: string, line: number, tooLarge?: number) => {
    if (tooLarge === undefined && text.includes('"entries"')) {
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        value = undefined;
      }
      if (isEntriesPage(value)) {
        for (const entry of value.entries) emit(JSON.stringify(entry), line);
        return;
      }
    }
    emit(text, line, tooLarge);
  };
  try {
    for await (const chunk of stream) {
      const text = typeof chunk === "string" ? chunk : decoder.write(chunk);
      if (!splitter) {
        pending += text;
        const first = pending.search(/\S/);
        if (first < 0) continue;
        splitter =
          form === "values"
            ? new JsonArraySplitter(emitValue, true)
            : pending[first] === "["
              ? new JsonArraySplitter(emit)
              : new NdjsonSplitter(emit);
        splitter.push(pending);
        pending = "";
      } else {
        splitter.push(text);
      }
      while (full.length > 0) yield full.shift() as RecordBatch;
    }
  } catch (error) {
    // The input broke off: an entry cut short is handed out, to be rejected, not lost.
    yield* finish();
    throw error;
  }
  yield* finish();

  function* finish(): Generator<RecordBatch> {
    const rest = decoder.end();
    if (splitter) {
      if (rest) splitter.push(rest);
      splitter.end();
    }
    yield* full;
    if (batch.texts.length > 0) yield batch;
  }
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
  /** Characters of the current element; past MAX_ENTRY_BYTES only its start is kept. */
  private elementChars = 0;
  private elementLine = 0;
  private inElement = false;
  private afterArray = false;
  private readonly emit: (text: string, line: number, tooLarge?: number) => void;
  /** `values`: no enclosing array, the text is values one after another (as if inside one). */
  constructor(emit: (text: string, line: number, tooLarge?: number) => void, values = false) {
    this.emit = emit;
    if (values) this.depth = 1;
  }

  private keep(part: string): void {
    const before = this.elementChars;
    this.elementChars += part.length;
    if (this.elementChars <= MAX_ENTRY_BYTES) this.element.push(part);
    else if (before <= MAX_ENTRY_BYTES)
      this.element = [[...this.element, part].join("").slice(0, OVERSIZE_PREFIX_BYTES)];
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
    if (this.inElement && sliceStart >= 0) this.keep(text.slice(sliceStart));
  }

  end(): void {
    if (this.inElement) this.finish("");
  }

  private finish(tail: string): void {
    this.keep(tail);
    const text = this.element.join("").trim();
    const tooLarge = this.elementChars > MAX_ENTRY_BYTES ? this.elementChars : undefined;
    this.element = [];
    this.elementChars = 0;
    this.inElement = false;
    if (text.length > 0) this.emit(text, this.elementLine, tooLarge);
  }
}
