// The streamed report files encode text into a byte buffer as it is appended (report-files.ts):
// what reaches the disk must be the UTF-8 of the texts in order, whatever their sizes and
// characters, across buffer boundaries.
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BufferedFile, FLUSH_AT } from "../src/io/report-files.ts";

describe("BufferedFile", () => {
  it("writes the UTF-8 of every text in order, across buffer boundaries and flushes", async () => {
    const dir = await mkdtemp(join(tmpdir(), "buffered-"));
    const path = join(dir, "out.txt");
    const file = new BufferedFile(path);
    const texts: string[] = [];
    const pieces = ["a", "é", "€", "😀", "\ud800", 'x,"y"\n'];
    let seed = 7;
    const next = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed;
    };
    for (let i = 0; i < 3000; i++) {
      // mostly short lines, now and then one longer than the whole buffer
      const length = i % 500 === 499 ? FLUSH_AT + (next() % 1000) : next() % 300;
      let text = "";
      while (text.length < length) text += pieces[next() % pieces.length];
      texts.push(text);
      file.append(text);
      if (file.needsFlush && i % 3 === 0) await file.flush();
    }
    await file.close();
    const written = await readFile(path);
    expect(written.length).toBe(Buffer.byteLength(texts.join("")));
    expect(written.equals(Buffer.from(texts.join(""), "utf8"))).toBe(true);
  });
});
