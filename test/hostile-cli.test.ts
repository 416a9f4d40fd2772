// Hostile and careless input through the whole command (issue 12): a damaged file, odd paths and
// poisonous entries end in one line naming where and what, the reports of what could be read,
// and an exit status that tells the difference; never a stack trace.
import { execFile, execFileSync } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { beforeAll, describe, expect, it } from "vitest";
import { BIN, cli, ROOT } from "./support/cli.ts";

const REGISTRY = join(ROOT, "sample/acme/registry.yaml");
const SAMPLE_NDJSON = join(ROOT, "sample/acme/logs/2026-10-v2-and-v1.ndjson");
const SAMPLE_ARRAY = join(ROOT, "sample/acme/logs/2026-10-export.json");

const summaryOf = async (out: string) => JSON.parse(await readFile(join(out, "summary.json"), "utf8"));
const rejectedOf = async (out: string) =>
  (await readFile(join(out, "rejected.ndjson"), "utf8"))
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line));
/** The line of a rejected entry, from its source (file:line). */
const lineOf = (entry: { source: string }) => Number(entry.source.split(":").at(-1));

const noStack = (stderr: string) => expect(stderr).not.toMatch(/^\s+at /m);

let dir: string;
let lines: string[];
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "bqcb-hostile-"));
  lines = (await readFile(SAMPLE_NDJSON, "utf8")).split("\n").filter(Boolean);
});

describe("3. a truncated or corrupt .gz", () => {
  it("names the file and where it broke off, keeps what was read and exits 3", async () => {
    const whole = gzipSync(`${lines.join("\n")}\n`);
    const cut = join(dir, "cut.ndjson.gz");
    await writeFile(cut, whole.subarray(0, Math.floor(whole.length / 2)));
    const out = join(dir, "out-cut");
    const result = await cli(["report", "--logs", cut, "--registry", REGISTRY, "--out", out]);
    expect(result.code, result.stderr).toBe(3);
    noStack(result.stderr);
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
    expect(result.stderr).toMatch(/cut\.ndjson\.gz: broke off after \d+ bytes read .*unexpected end of file/);
    const summary = await summaryOf(out);
    expect(summary.damaged_inputs).toHaveLength(1);
    const read = summary.damaged_inputs[0].entries_read;
    expect(read).toBeGreaterThan(100);
    expect(read).toBeLessThan(lines.length);
    // every entry taken is counted; the one cut in half is rejected with its line, not lost
    expect(summary.entries_read).toBe(read);
    const rejected = await rejectedOf(out);
    expect(rejected.at(-1)).toMatchObject({ reason: "invalid_json" });
    expect(rejected.at(-1).source).toMatch(new RegExp(`cut\\.ndjson\\.gz:${read}$`));
  });

  it("a .gz whose bytes are damaged in the middle is named the same way", async () => {
    const whole = Buffer.from(gzipSync(`${lines.join("\n")}\n`));
    for (let i = 4000; i < 4100; i++) whole[i] = 0xff - (whole[i] as number);
    const file = join(dir, "corrupt.json.gz");
    await writeFile(file, whole);
    const out = join(dir, "out-corrupt");
    const result = await cli(["report", "--logs", file, SAMPLE_ARRAY, "--registry", REGISTRY, "--out", out]);
    expect(result.code, result.stderr).toBe(3);
    noStack(result.stderr);
    expect(result.stderr).toMatch(/corrupt\.json\.gz: broke off after/);
    // the next input is read whole
    const summary = await summaryOf(out);
    expect(summary.entries_read).toBeGreaterThan(1000);
  });

  it("a gzipped JSON array cut short keeps its entries and rejects the cut one", async () => {
    const whole = gzipSync(await readFile(SAMPLE_ARRAY));
    const file = join(dir, "cut-array.json.gz");
    await writeFile(file, whole.subarray(0, Math.floor(whole.length * 0.7)));
    const out = join(dir, "out-cut-array");
    const result = await cli(["report", "--logs", file, "--registry", REGISTRY, "--out", out]);
    expect(result.code, result.stderr).toBe(3);
    const summary = await summaryOf(out);
    expect(summary.entries_read).toBe(summary.damaged_inputs[0].entries_read);
    expect(summary.rejected.by_reason.invalid_json).toBe(1);
  });
});

describe("1, 2 and 4. poisonous entries cost one entry each through the whole command", () => {
  it("deep nesting and absurd timestamps are rejected; the run finishes with the rest", async () => {
    const job = JSON.parse(lines.find((line) => line.includes('"jobChange"')) as string);
    const withEnd = (endTime: string, jobId: string) => {
      const copy = structuredClone(job);
      const change = copy.protoPayload.metadata.jobChange;
      change.job.jobStats.endTime = endTime;
      change.job.jobName = `projects/acme-fin-bi/jobs/${jobId}`;
      return JSON.stringify(copy);
    };
    const hostile = [
      `${"[".repeat(50_000)}${"]".repeat(50_000)}`,
      `{"protoPayload":${'{"a":'.repeat(20_000)}1${"}".repeat(20_000)}}`,
      withEnd("9999-12-31T23:59:59Z", "far_future"),
      withEnd("0001-01-01T00:00:00Z", "far_past"),
      withEnd("2011-06-01T00:00:00Z", "early"),
      ...lines.slice(0, 50),
    ];
    const file = join(dir, "hostile.ndjson");
    await writeFile(file, `${hostile.join("\n")}\n`);
    const out = join(dir, "out-hostile");
    const result = await cli([
      "report",
      "--logs",
      file,
      "--registry",
      REGISTRY,
      "--out",
      out,
      "--period",
      "day",
    ]);
    expect(result.code, result.stderr).toBe(0);
    const summary = await summaryOf(out);
    expect(summary.entries_read).toBe(hostile.length);
    const rejected = await rejectedOf(out);
    expect(rejected.map(lineOf).slice(0, 4)).toEqual([1, 2, 3, 4]);
    expect(rejected[2].detail).toMatch(/endTime: expected a time from 2011-01-01/);
    // a job in 2011 and others in 2026: the day periods between are counted, not listed per job
    expect(summary.period.from).toBe("2011-05-31");
  });
});

describe("paths", () => {
  it("a file whose name holds [ or * is that file, not a pattern", async () => {
    const odd = join(dir, "logs [1] *.ndjson");
    await writeFile(odd, `${lines.slice(0, 20).join("\n")}\n`);
    const out = join(dir, "out-odd");
    const result = await cli(["report", "--logs", odd, "--registry", REGISTRY, "--out", out]);
    expect(result.code, result.stderr).toBe(0);
    expect((await summaryOf(out)).entries_read).toBe(20);
  });

  it("a FIFO is read, and a .gz on stdin is recognised by its bytes", async () => {
    const fifo = join(dir, "entries.fifo");
    execFileSync("mkfifo", [fifo]);
    const writer = writeFile(fifo, `${lines.slice(0, 30).join("\n")}\n`);
    const out = join(dir, "out-fifo");
    const result = await cli(["report", "--logs", fifo, "--registry", REGISTRY, "--out", out]);
    await writer;
    expect(result.code, result.stderr).toBe(0);
    expect((await summaryOf(out)).entries_read).toBe(30);
    const outStdin = join(dir, "out-stdin");
    const gz = gzipSync(`${lines.slice(0, 40).join("\n")}\n`);
    const piped = await cli(["report", "--logs", "-", "--registry", REGISTRY, "--out", outStdin], gz);
    expect(piped.code, piped.stderr).toBe(0);
    expect((await summaryOf(outStdin)).entries_read).toBe(40);
  });

  it("a directory, a path through a file and a link loop are one-line errors, exit 2", async () => {
    const file = join(dir, "plain.txt");
    await writeFile(file, "x");
    execFileSync("ln", ["-sf", "loop-b", join(dir, "loop-a")]);
    execFileSync("ln", ["-sf", "loop-a", join(dir, "loop-b")]);
    await mkdir(join(dir, "a-dir"), { recursive: true });
    for (const [logs, what] of [
      [join(dir, "a-dir"), "a directory"],
      [join(file, "inside.ndjson"), "not a directory"],
      [join(dir, "loop-a"), "loop of symbolic links"],
    ] as const) {
      const result = await cli(["report", "--logs", logs, "--registry", REGISTRY, "--out", join(dir, "o")]);
      expect(result.code).toBe(2);
      expect(result.stderr.trim().split("\n")).toHaveLength(1);
      expect(result.stderr).toContain(what);
    }
    const onFile = await cli(["report", "--logs", SAMPLE_ARRAY, "--registry", REGISTRY, "--out", file]);
    expect(onFile.code).toBe(2);
    noStack(onFile.stderr);
    expect(onFile.stderr.trim().split("\n")).toHaveLength(1);
    expect(onFile.stderr).toContain(`--out ${file}: exists and is not a folder`);
  });
});

describe("--out: a report folder appears whole or not at all", () => {
  it("a folder holding other files is refused and left as it was", async () => {
    const mine = join(dir, "my-documents");
    await mkdir(mine, { recursive: true });
    await writeFile(join(mine, "thesis.txt"), "keep me");
    const result = await cli(["report", "--logs", SAMPLE_ARRAY, "--registry", REGISTRY, "--out", mine]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/holds files that are not a report's \(thesis\.txt\)/);
    expect(await readdir(mine)).toEqual(["thesis.txt"]);
  });

  it("an earlier report folder is replaced whole, and nothing is left beside it", async () => {
    const out = join(dir, "rerun");
    await mkdir(out, { recursive: true });
    await writeFile(join(out, "findings.csv"), "stale from an earlier run\n");
    await writeFile(join(out, "duplicates.ndjson"), "stale\n");
    const result = await cli(["report", "--logs", SAMPLE_ARRAY, "--registry", REGISTRY, "--out", out]);
    expect(result.code, result.stderr).toBe(0);
    expect(await readFile(join(out, "findings.csv"), "utf8")).not.toContain("stale");
    expect(await readFile(join(out, "duplicates.ndjson"), "utf8")).not.toContain("stale");
    expect((await readdir(dir)).filter((name) => name.includes("partial"))).toEqual([]);
  });

  it("SIGTERM mid-run leaves neither a report folder nor its staging folder", async () => {
    const big = join(dir, "big.ndjson");
    await writeFile(big, `${Array(40).fill(lines.join("\n")).join("\n")}\n`);
    const parent = join(dir, "interrupted");
    await mkdir(parent, { recursive: true });
    const out = join(parent, "report");
    const child = execFile(
      process.execPath,
      [BIN, "report", "--logs", big, "--registry", REGISTRY, "--out", out, "--workers", "0"],
      { cwd: ROOT },
    );
    let stderr = "";
    child.stderr?.on("data", (chunk) => {
      stderr += chunk;
    });
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    // wait for the staging folder, then interrupt
    for (let i = 0; i < 200 && (await readdir(parent)).length === 0; i++)
      await new Promise((r) => setTimeout(r, 25));
    expect((await readdir(parent))[0]).toMatch(/^\.report\.partial-/);
    child.kill("SIGTERM");
    const code = await exited;
    expect([code, stderr]).toEqual([143, expect.stringContaining("SIGTERM: stopped; no report written")]);
    expect(await readdir(parent)).toEqual([]);
  }, 60_000);
});

describe("a line longer than any entry", () => {
  it.each(["0", "2"])(
    "is one rejected entry with its line, and the lines after keep theirs (--workers %s)",
    async (workers) => {
      const file = join(dir, `overlong-${workers}.ndjson`);
      const huge = `{"protoPayload":"${"x".repeat(20 * 1024 * 1024)}"}`;
      // enough plain entries around them that the input is mostly read (else the exit status says so)
      await writeFile(file, [...lines.slice(0, 6), huge, "{ broken", ...lines.slice(6, 12), huge].join("\n"));
      const out = join(dir, `out-overlong-${workers}`);
      const result = await cli([
        "report",
        "--logs",
        file,
        "--registry",
        REGISTRY,
        "--out",
        out,
        "--workers",
        workers,
      ]);
      expect(result.code, result.stderr).toBe(0);
      expect((await summaryOf(out)).entries_read).toBe(15);
      const rejected = (await rejectedOf(out)).filter((entry) => entry.reason !== "not_bigquery_audit");
      expect(rejected.map((entry) => [lineOf(entry), entry.reason])).toEqual([
        [7, "entry_too_large"],
        [8, "invalid_json"],
        [15, "entry_too_large"],
      ]);
      expect(rejected[0].detail).toContain(`an entry of ${huge.length} bytes`);
      expect(rejected[0].raw.length).toBeLessThanOrEqual(4096);
    },
    60_000,
  );

  it("in a JSON array, one element longer than any entry is one rejected entry; its neighbours are read", async () => {
    const file = join(dir, "overlong.json");
    const huge = `{"protoPayload":"${"x".repeat(20 * 1024 * 1024)}"}`;
    await writeFile(file, `[\n${lines[0]},\n${huge},\n${lines[1]}\n]\n`);
    const out = join(dir, "out-overlong-array");
    const result = await cli(["report", "--logs", file, "--registry", REGISTRY, "--out", out]);
    expect(result.code, result.stderr).toBe(0);
    expect((await summaryOf(out)).entries_read).toBe(3);
    const rejected = await rejectedOf(out);
    expect(rejected.map((entry) => [lineOf(entry), entry.reason])).toEqual([[3, "entry_too_large"]]);
    expect(rejected[0].detail).toContain(`an entry of ${huge.length} characters`);
    expect(rejected[0].raw.length).toBeLessThanOrEqual(4096);
  }, 60_000);
});

describe("4. any other error on the input path", () => {
  it("is one line naming the path and what; --debug adds the stack", async () => {
    const folder = join(dir, "registry-folder");
    await mkdir(folder, { recursive: true });
    const args = ["report", "--logs", SAMPLE_ARRAY, "--registry", folder, "--out", join(dir, "o-debug")];
    const plain = await cli(args);
    expect(plain.code).toBe(2);
    expect(plain.stderr.trim().split("\n")).toEqual([
      `bq-chargeback: ${folder}: illegal operation on a directory (EISDIR)`,
    ]);
    const debug = await cli([...args, "--debug"]);
    expect(debug.code).toBe(2);
    expect(debug.stderr).toMatch(/^\s+at /m);
  });
});

describe("2. a date range reaching outside the audit logs' years", () => {
  it.each([
    ["--from", "0001-01-01"],
    ["--to", "9999-12-31"],
  ])("%s %s is a one-line usage error", async (flag, day) => {
    const result = await cli([
      "report",
      "--logs",
      SAMPLE_ARRAY,
      "--registry",
      REGISTRY,
      "--out",
      join(dir, "o-range"),
      flag,
      day,
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split("\n")).toEqual([
      `bq-chargeback: ${flag} ${day}: expected a day from 2011-01-01 to 2099-12-31`,
    ]);
  });
});
