// Runs the bq-chargeback command as a user would (a child process), and reads its CSV output.
import { execFile } from "node:child_process";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { parseCsv } from "../../src/io/csv.ts";

const run = promisify(execFile);
export const ROOT = new URL("../..", import.meta.url).pathname;
export const BIN = join(ROOT, "bin/bq-chargeback.js");

/** Runs the command; its standard input is `input`, or closed (a `-` argument then reads nothing). */
export async function cli(args: string[], input?: Buffer | string) {
  try {
    const child = run(process.execPath, [BIN, ...args], { cwd: ROOT, maxBuffer: 1 << 26 });
    child.child.stdin?.end(input);
    const { stdout, stderr } = await child;
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

/** A CSV file of a report folder as records keyed by its header. */
export async function table(dir: string, name: string): Promise<Record<string, string>[]> {
  const [header, ...rows] = parseCsv(await readFile(join(dir, name), "utf8"));
  return rows.map((row) =>
    Object.fromEntries((header?.cells ?? []).map((column, i) => [column, row.cells[i] ?? ""])),
  );
}

/** A CSV USD amount (6 decimals) in micro-dollars. */
export const micros = (usd: string) => BigInt(usd.replace(".", ""));

/** `report` over log entries (one NDJSON file) and a registry text, in a fresh folder; `out` holds the reports. */
export async function reportOn(entries: unknown[], registry: string) {
  const dir = await mkdtemp(join(tmpdir(), "bqcb-report-"));
  await writeFile(join(dir, "logs.ndjson"), `${entries.map((entry) => JSON.stringify(entry)).join("\n")}\n`);
  await writeFile(join(dir, "registry.yaml"), registry);
  const out = join(dir, "out");
  const args = ["report", "--logs", join(dir, "logs.ndjson"), "--registry", join(dir, "registry.yaml")];
  return { ...(await cli([...args, "--out", out])), out };
}
