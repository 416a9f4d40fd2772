// A seeded generator of hostile log entries for the fuzz tests: real captures and sample entries,
// mutated in their structure (a field deleted, retyped, replaced by a value BigQuery or a parser
// would choke on, nested thousands deep) or in their text (cut, a byte changed, bytes inserted).
// Every entry is one line without a newline and never blank, so a file of N lines is N entries.
import { readdirSync, readFileSync } from "node:fs";
import { random } from "../../src/sample/generate.ts";

export { random };

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const ROOT = new URL("../../", import.meta.url);

/** The real captures (test/fixtures, sources in its README) and the sample organisation's entries. */
export function seedEntries(sampleLines = 400): Json[] {
  const seeds: Json[] = [];
  const entries = new URL("test/fixtures/entries/", ROOT);
  for (const name of readdirSync(entries).filter((file) => file.endsWith(".json")))
    seeds.push(JSON.parse(readFileSync(new URL(name, entries), "utf8")));
  seeds.push(
    JSON.parse(readFileSync(new URL("test/fixtures/functions/v2-jobchange-done.json", ROOT), "utf8")),
  );
  const sample = readFileSync(new URL("sample/acme/logs/2026-10-v2-and-v1.ndjson", ROOT), "utf8").split("\n");
  const step = Math.max(1, Math.floor(sample.length / sampleLines));
  for (let i = 0; i < sample.length; i += step) if (sample[i]) seeds.push(JSON.parse(sample[i] as string));
  return seeds;
}

/** Marks where deep nesting goes: JSON.stringify cannot write it, so it is spliced into the text. */
const DEEP = "\u0001deep\u0001";

const HOSTILE_VALUES: Json[] = [
  null,
  true,
  0,
  -1,
  1.5,
  1e308,
  -1e-308,
  2 ** 53 + 2,
  "",
  " ",
  "\u0000",
  "a\u0000b",
  "\ud800",
  "x\udfff",
  "9223372036854775807",
  "9223372036854775808",
  "-9223372036854775809",
  "99999999999999999999999",
  "-5",
  "1e3",
  "12.5",
  "0x10",
  "NaN",
  "2026-02-30T00:00:00Z",
  "2026-10-01T24:00:00Z",
  "2026-10-01T10:60:00Z",
  "0000-01-01T00:00:00Z",
  "9999-12-31T23:59:59Z",
  "-000001-01-01T00:00:00Z",
  "2010-12-31T23:59:59Z",
  "2026-10-14T17:02:19.877+24:00",
  "2026-10-14t17:02:19z",
  "yesterday",
  "=cmd|' /C calc'!A0",
  "-1+cmd|' /C calc'!A0",
  "@SUM(A1)",
  "\t=1",
  "</style><script>alert(1)</script>",
  "a|b[c](d)<e>`f`*g*",
  "projects/p/jobs/j",
  "projects//jobs/",
  "projects/p/datasets/d/tables/t$20260101",
  "*@*.*.*",
  "a*b*c*d*e@acme.example",
  "user@",
  "@acme.example",
  "principal://",
  "DONE",
  "RUNNING",
  "type.googleapis.com/google.cloud.audit.BigQueryAuditMetadata",
  "type.googleapis.com/google.cloud.bigquery.logging.v1.AuditData",
  "bigquery.googleapis.com",
  [],
  {},
  [null],
  { "@type": "x" },
  DEEP,
];

function paths(value: Json, prefix: (string | number)[], out: (string | number)[][], depth: number): void {
  if (depth > 12 || value === null || typeof value !== "object") return;
  const keys: (string | number)[] = Array.isArray(value) ? value.map((_, i) => i) : Object.keys(value);
  for (const key of keys) {
    const path = [...prefix, key];
    out.push(path);
    paths((value as Record<string | number, Json>)[key] as Json, path, out, depth + 1);
  }
}

function parentOf(root: Json, path: (string | number)[]): Record<string | number, Json> {
  let node = root as Record<string | number, Json>;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, Json>;
  return node;
}

/** One structural change at a random place. */
function mutateStructure(entry: Json, next: () => number): void {
  const all: (string | number)[][] = [];
  paths(entry, [], all, 0);
  if (all.length === 0) return;
  const path = all[Math.floor(next() * all.length)] as (string | number)[];
  const parent = parentOf(entry, path);
  const key = path[path.length - 1] as string | number;
  const choice = next();
  if (choice < 0.2) {
    if (Array.isArray(parent)) parent.splice(key as number, 1);
    else delete parent[key];
  } else if (choice < 0.75) {
    parent[key] = structuredClone(HOSTILE_VALUES[Math.floor(next() * HOSTILE_VALUES.length)] as Json);
  } else if (choice < 0.82) {
    parent[key] = [parent[key] as Json];
  } else if (choice < 0.88) {
    parent[key] = { value: parent[key] as Json };
  } else if (choice < 0.94) {
    const value = parent[key];
    if (typeof value === "string") parent[key] = next() < 0.5 ? value.toUpperCase() : `${value}${value}`;
    else parent[key] = String(value);
  } else {
    // a long text: what a 10 MB entry is made of, kept shorter so the run stays quick
    parent[key] = "q".repeat(500 + Math.floor(next() * 5000));
  }
}

const INSERTS = [
  '"',
  "{",
  "}",
  "[",
  "]",
  ",",
  ":",
  "\\",
  "\u2028",
  "\r",
  "\u0000",
  "\ufeff",
  "\ud800",
  "é",
  "0",
  "-",
];

/** One textual change: the line stays a line (no newline) and is never blank. */
function mutateText(text: string, next: () => number): string {
  const at = Math.floor(next() * text.length);
  const choice = next();
  let result: string;
  if (choice < 0.3) result = text.slice(0, at);
  else if (choice < 0.5) result = text.slice(0, at) + text.slice(at + 1);
  else if (choice < 0.8)
    result = text.slice(0, at) + (INSERTS[Math.floor(next() * INSERTS.length)] as string) + text.slice(at);
  else if (choice < 0.9) result = text.slice(0, at) + text.slice(Math.max(0, at - 50), at) + text.slice(at);
  else result = `\ufeff${text}`;
  return result.trim() === "" ? "x" : result;
}

function deepValue(depth: number, next: () => number): string {
  return next() < 0.5
    ? `${"[".repeat(depth)}1${"]".repeat(depth)}`
    : `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`;
}

/**
 * `count` hostile entries, one line each, from the seeds. About one in eight is left as it is
 * (so jobs, duplicates and reads are counted too), the rest get one to three changes.
 */
export function* mutatedEntries(seed: number, count: number, seeds: readonly Json[]): Generator<string> {
  const next = random(seed);
  for (let i = 0; i < count; i++) {
    const entry = structuredClone(seeds[Math.floor(next() * seeds.length)] as Json);
    const roll = next();
    if (roll >= 0.125) {
      const changes = 1 + Math.floor(next() * 3);
      for (let c = 0; c < changes; c++) mutateStructure(entry, next);
    }
    let text = JSON.stringify(entry);
    const deep = JSON.stringify(DEEP);
    if (text.includes(deep)) text = text.replaceAll(deep, deepValue(500 + Math.floor(next() * 5000), next));
    if (roll >= 0.125 && next() < 0.2) text = mutateText(text, next);
    // What a file line holds: UTF-8 has no unpaired surrogate (one becomes U+FFFD), and a
    // trailing CR is part of the line end.
    text = Buffer.from(text, "utf8").toString("utf8");
    if (text.endsWith("\r")) text = `${text.slice(0, -1)}x`;
    yield text;
  }
}
