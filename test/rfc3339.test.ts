// rfc3339Ms reads the common UTC shape by arithmetic: it must give exactly what the regular
// expression and Date.parse gave before (the function below, as parse.ts had it), the same
// instant for every timestamp and NaN for every text refused, over edge cases and fuzzed texts.
import { describe, expect, it } from "vitest";
import { rfc3339Ms } from "../src/core/rfc3339.ts";
import { random } from "../src/sample/generate.ts";

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d{1,9})?(?:Z|([+-])(\d{2}):(\d{2}))$/i;

/** parse.ts's rfc3339Ms before the arithmetic path (commit 7069a70), verbatim. */
function referenceMs(text: string): number {
  const match = RFC3339.exec(text);
  if (!match) return Number.NaN;
  const year = Number(match[1]);
  const month = Number(match[2]);
  const day = Number(match[3]);
  if (
    year < 1 ||
    month < 1 ||
    month > 12 ||
    day < 1 ||
    day > daysInMonth(year, month) ||
    Number(match[4]) > 23 ||
    Number(match[5]) > 59 ||
    Number(match[6]) > 59 ||
    Number(match[8] ?? "00") > 23 ||
    Number(match[9] ?? "00") > 59
  )
    return Number.NaN;
  return Date.parse(text);
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

const EDGES = [
  "2026-10-01T12:00:00Z",
  "2026-10-01T12:00:00.123Z",
  "2026-10-01T12:00:00.123456Z",
  "2026-10-01T12:00:00.123456789Z",
  "2026-10-01T12:00:00.1234567890Z",
  "2026-10-01T12:00:00.Z",
  "2026-10-01T12:00:00.1",
  "2026-10-01t12:00:00.5z",
  "2026-10-01T12:00:00z",
  "2026-10-01 12:00:00Z",
  "2026-10-01T12:00:00",
  "2026-10-01T12:00Z",
  "2024-02-29T00:00:00Z",
  "2023-02-29T00:00:00Z",
  "2000-02-29T23:59:59.999Z",
  "1900-02-29T00:00:00Z",
  "2100-02-29T00:00:00Z",
  "2400-02-29T00:00:00Z",
  "2026-04-31T00:00:00Z",
  "2026-12-31T23:59:59.999999999Z",
  "2026-13-01T00:00:00Z",
  "2026-00-01T00:00:00Z",
  "2026-01-00T00:00:00Z",
  "2026-01-32T00:00:00Z",
  "2026-01-01T24:00:00Z",
  "2026-01-01T23:60:00Z",
  "2026-01-01T23:59:60Z",
  "0000-01-01T00:00:00Z",
  "0001-01-01T00:00:00Z",
  "0001-02-28T00:00:00Z",
  "0004-02-29T00:00:00Z",
  "0099-12-31T23:59:59.999Z",
  "1969-12-31T23:59:59.999Z",
  "1970-01-01T00:00:00Z",
  "9999-12-31T23:59:59.999Z",
  "2026-10-01T12:00:00+02:00",
  "2026-10-01T12:00:00.5-07:00",
  "2026-10-01T12:00:00+24:00",
  "2026-10-01T12:00:00+23:60",
  "2026-10-01T12:00:00+0200",
  "2026-10-01T12:00:00.123+00:00",
  "+02026-10-01T12:00:00Z",
  "2026-1-01T12:00:00Z",
  "２026-10-01T12:00:00Z",
  "2026-10-01T12:00:00Z\n",
  " 2026-10-01T12:00:00Z",
  "2026-10-01T12:00:00.12a4Z",
  "2026-10-01T1a:00:00Z",
  "2026/10/01T12:00:00Z",
  "",
  "Z",
];

const YEAR_1_MS = Date.parse("0001-01-01T00:00:00Z");
const YEAR_10000_MS = Date.parse("9999-12-31T23:59:59.999Z") + 1;

/** A valid instant written with 0-9 fraction digits, T/Z in either case, sometimes an offset. */
function written(next: () => number): string {
  const ms = YEAR_1_MS + Math.floor(next() * (YEAR_10000_MS - YEAR_1_MS));
  const iso = new Date(ms).toISOString();
  const digits = Math.floor(next() * 10);
  let text = iso.slice(0, 19);
  if (digits > 0)
    text += `.${iso.slice(20, 23)}${String(Math.floor(next() * 1e6)).padStart(6, "0")}`.slice(0, digits + 1);
  const roll = next();
  if (roll < 0.15) text += `${next() < 0.5 ? "+" : "-"}${two(next() * 26)}:${two(next() * 62)}`;
  else text += roll < 0.25 ? "z" : "Z";
  return roll > 0.9 ? text.replace("T", "t") : text;
}

const two = (n: number) => String(Math.floor(n)).padStart(2, "0");
const ALPHABET = "0123456789-:.TtZz+ 9x\u00e9";

/** A written timestamp with one to three characters replaced, inserted or removed. */
function mutated(next: () => number): string {
  let text = written(next);
  const changes = 1 + Math.floor(next() * 3);
  for (let i = 0; i < changes; i++) {
    const at = Math.floor(next() * (text.length + 1));
    const char = ALPHABET[Math.floor(next() * ALPHABET.length)] as string;
    const how = next();
    if (how < 0.6) text = text.slice(0, at) + char + text.slice(at + 1);
    else if (how < 0.8) text = text.slice(0, at) + char + text.slice(at);
    else text = text.slice(0, at) + text.slice(at + 1);
  }
  return text;
}

/** Every field of the UTC shape at and around its bounds. */
function fieldBounds(): string[] {
  const texts: string[] = [];
  for (const year of ["0000", "0001", "1600", "1700", "1999", "2000", "2024", "2100", "9999"])
    for (const month of ["00", "01", "02", "04", "12", "13", "99"])
      for (const day of ["00", "01", "28", "29", "30", "31", "32"])
        for (const time of ["00:00:00", "23:59:59", "24:00:00", "23:60:00", "23:59:60", "99:99:99"])
          texts.push(`${year}-${month}-${day}T${time}Z`, `${year}-${month}-${day}T${time}.9z`);
  return texts;
}

describe("rfc3339Ms against the regular expression and Date.parse", () => {
  const same = (texts: readonly string[]) => {
    const differing = texts.filter((text) => !Object.is(rfc3339Ms(text), referenceMs(text)));
    expect(differing.map((text) => [text, rfc3339Ms(text), referenceMs(text)])).toEqual([]);
  };

  it("agrees on edge cases: leap days, 24:00, offsets, fractions of 1-9 digits, lower-case t and z", () => {
    same(EDGES);
    same(fieldBounds());
    // the fixture set exercises both answers
    expect(EDGES.filter((text) => Number.isNaN(referenceMs(text))).length).toBeGreaterThan(15);
    expect(EDGES.filter((text) => !Number.isNaN(referenceMs(text))).length).toBeGreaterThan(15);
  });

  it("agrees on 200 000 written and 200 000 mutated timestamps", () => {
    const next = random(3339);
    const texts: string[] = [];
    for (let i = 0; i < 200_000; i++) texts.push(written(next), mutated(next));
    same(texts);
    const refused = texts.filter((text) => Number.isNaN(referenceMs(text))).length;
    expect(refused).toBeGreaterThan(50_000);
    expect(refused).toBeLessThan(350_000);
  });
});
