import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { expandInputs, InputError, readRecordBatches, splitEntries } from "../src/io/log-files.ts";

async function collect(chunks: string[], batchSize = 1000) {
  const texts: string[] = [];
  const lines: number[] = [];
  for await (const batch of splitEntries(chunks, "f", batchSize)) {
    texts.push(...batch.texts);
    lines.push(...batch.lines);
  }
  return { texts, lines };
}

const entries = [
  { insertId: "a", n: "1" },
  { insertId: "b", s: 'x, y } ] " {' },
  { insertId: "c", nested: { list: [1, { k: "]" }] } },
];

describe("splitting exported logs into entries", () => {
  it("reads NDJSON with line numbers, skipping blank lines and tolerating CRLF", async () => {
    const text = `${JSON.stringify(entries[0])}\r\n\n${JSON.stringify(entries[1])}\n${JSON.stringify(entries[2])}`;
    const { texts, lines } = await collect([text]);
    expect(texts.map((t) => JSON.parse(t))).toEqual(entries);
    expect(lines).toEqual([1, 3, 4]);
  });

  it("reads a gcloud --format=json array (pretty-printed) with the line each entry starts on", async () => {
    const text = JSON.stringify(entries, null, 2);
    const { texts, lines } = await collect([text]);
    expect(texts.map((t) => JSON.parse(t))).toEqual(entries);
    const expectedLines = text.split("\n").flatMap((line, i) => (line === "  {" ? [i + 1] : []));
    expect(lines).toEqual(expectedLines);
  });

  it("gives the same entries whatever the chunk boundaries, even inside strings and escapes", async () => {
    for (const text of [JSON.stringify(entries, null, 2), entries.map((e) => JSON.stringify(e)).join("\n")]) {
      const whole = await collect([text]);
      for (const size of [1, 2, 3, 7, 64]) {
        const chunks: string[] = [];
        for (let i = 0; i < text.length; i += size) chunks.push(text.slice(i, i + size));
        expect(await collect(chunks)).toEqual(whole);
      }
    }
  });

  it("keeps a truncated last array element, so it is rejected rather than lost", async () => {
    const text = `[\n  {"a": 1},\n  {"b": "unterminated`;
    const { texts, lines } = await collect([text]);
    expect(texts).toEqual(['{"a": 1}', '{"b": "unterminated']);
    expect(lines).toEqual([2, 3]);
  });

  it("keeps text after the closing bracket and scalar elements as entries", async () => {
    const { texts } = await collect(['[1, "two", {"x": 3}]\ngarbage']);
    expect(texts).toEqual(["1", '"two"', '{"x": 3}', "garbage"]);
  });

  it("batches entries", async () => {
    const text = Array.from({ length: 25 }, (_, i) => `{"i":${i}}`).join("\n");
    const sizes: number[] = [];
    for await (const batch of splitEntries([text], "f", 10)) sizes.push(batch.texts.length);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(25);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(10);
  });
});

describe("input files", () => {
  it("reads .gz files and expands globs in sorted order", async () => {
    const dir = await mkdtemp(join(tmpdir(), "bqcb-"));
    await writeFile(join(dir, "b.ndjson.gz"), gzipSync('{"n":2}\n{"n":3}\n'));
    await writeFile(join(dir, "a.ndjson"), '{"n":1}\n');
    const files = await expandInputs([join(dir, "*.ndjson*")]);
    expect(files.map((f) => f.slice(dir.length + 1))).toEqual(["a.ndjson", "b.ndjson.gz"]);
    let bytes = 0;
    const seen: [string, number, string][] = [];
    for await (const batch of readRecordBatches(files, {
      onBytes: (n) => {
        bytes += n;
      },
    })) {
      for (const [i, text] of batch.texts.entries()) {
        seen.push([batch.file.slice(dir.length + 1), batch.lines[i] as number, text]);
      }
    }
    expect(seen).toEqual([
      ["a.ndjson", 1, '{"n":1}'],
      ["b.ndjson.gz", 1, '{"n":2}'],
      ["b.ndjson.gz", 2, '{"n":3}'],
    ]);
    expect(bytes).toBeGreaterThan(8);
  });

  it("says which input does not exist or matches nothing", async () => {
    await expect(expandInputs(["/nonexistent/file.json"])).rejects.toThrow(InputError);
    await expect(expandInputs(["/nonexistent/*.json"])).rejects.toThrow(/matches no file/);
  });
});
