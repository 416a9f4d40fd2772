// Reads a table-storage snapshot: rows of INFORMATION_SCHEMA.TABLE_STORAGE as `bq query`
// writes them, CSV (header row) or JSON (an array of objects, or NDJSON). Errors name the file,
// line and column, because a wrong snapshot silently skews every department's storage cost.

import { describe } from "../core/parse.ts";
import type { TableStorage } from "../core/types.ts";
import { parseCsv } from "./csv.ts";
import { readTextFile } from "./log-files.ts";

export class SnapshotError extends Error {}

const REQUIRED = [
  "project_id",
  "table_schema",
  "table_name",
  "active_logical_bytes",
  "long_term_logical_bytes",
  "active_physical_bytes",
  "long_term_physical_bytes",
] as const;
const OPTIONAL_BYTES = ["time_travel_physical_bytes", "fail_safe_physical_bytes"] as const;
const INT64 = /^\d+$/;
const INT64_MAX = 2n ** 63n - 1n;

type RawRow = { values: Record<string, unknown>; line: number };

export async function readStorageSnapshot(file: string, defaultLocation = "US"): Promise<TableStorage[]> {
  const text = await readTextFile(file);
  return parseStorageSnapshot(text, file, defaultLocation);
}

export function parseStorageSnapshot(text: string, file: string, defaultLocation = "US"): TableStorage[] {
  const trimmed = text.trimStart();
  const rows =
    trimmed.startsWith("[") || trimmed.startsWith("{") ? jsonRows(text, file) : csvRows(text, file);
  return rows.map((row) => toTableStorage(row, file, defaultLocation));
}

function csvRows(text: string, file: string): RawRow[] {
  const [header, ...body] = parseCsv(text);
  if (!header) throw new SnapshotError(`${file}: empty storage snapshot (expected a CSV header row)`);
  const names = header.cells.map((name) => name.trim().toLowerCase());
  for (const column of REQUIRED) {
    if (!names.includes(column))
      throw new SnapshotError(`${file}:${header.line}: missing column ${column} in the header`);
  }
  return body.map(({ cells, line }) => {
    if (cells.length !== names.length) {
      throw new SnapshotError(
        `${file}:${line}: expected ${names.length} cells as in the header, found ${cells.length}`,
      );
    }
    const values: Record<string, unknown> = {};
    names.forEach((name, i) => {
      values[name] = cells[i];
    });
    return { values, line };
  });
}

function jsonRows(text: string, file: string): RawRow[] {
  const trimmed = text.trim();
  if (trimmed.startsWith("[")) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch (error) {
      throw new SnapshotError(`${file}: not valid JSON: ${(error as Error).message}`);
    }
    if (!Array.isArray(parsed)) throw new SnapshotError(`${file}: expected a JSON array of rows`);
    // bq writes one object per line inside the array; report the element's index as its line.
    return parsed.map((values, i) => ({ values: objectRow(values, file, i + 1), line: i + 1 }));
  }
  return text
    .split("\n")
    .map((line, i) => ({ line, n: i + 1 }))
    .filter(({ line }) => line.trim().length > 0)
    .map(({ line, n }) => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch (error) {
        throw new SnapshotError(`${file}:${n}: not valid JSON: ${(error as Error).message}`);
      }
      return { values: objectRow(parsed, file, n), line: n };
    });
}

function objectRow(value: unknown, file: string, line: number): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new SnapshotError(`${file}:${line}: expected an object with TABLE_STORAGE columns`);
  }
  return value as Record<string, unknown>;
}

function toTableStorage(row: RawRow, file: string, defaultLocation: string): TableStorage {
  const { values, line } = row;
  const text = (column: string, required: boolean): string => {
    const value = values[column];
    if (value === undefined || value === null || value === "") {
      if (required) throw new SnapshotError(`${file}:${line}: ${column}: expected a value, found nothing`);
      return "";
    }
    if (typeof value !== "string" && typeof value !== "number") {
      throw new SnapshotError(
        `${file}:${line}: ${column}: expected text or a number, found ${describe(value)}`,
      );
    }
    return String(value).trim();
  };
  const bytes = (column: string, required: boolean): bigint => {
    const value = text(column, required);
    if (value === "") return 0n;
    if (!INT64.test(value) || BigInt(value) > INT64_MAX) {
      throw new SnapshotError(
        `${file}:${line}: ${column}: expected a whole number of bytes from 0 to 2^63-1, found ${describe(value)}`,
      );
    }
    return BigInt(value);
  };
  const model = (text("storage_billing_model", false) || "LOGICAL").toUpperCase();
  if (model !== "LOGICAL" && model !== "PHYSICAL") {
    throw new SnapshotError(
      `${file}:${line}: storage_billing_model: expected LOGICAL or PHYSICAL, found "${model}"`,
    );
  }
  return {
    projectId: text("project_id", true),
    dataset: text("table_schema", true),
    table: text("table_name", true),
    location: text("location", false) || defaultLocation,
    billingModel: model,
    activeLogicalBytes: bytes("active_logical_bytes", true),
    longTermLogicalBytes: bytes("long_term_logical_bytes", true),
    activePhysicalBytes: bytes("active_physical_bytes", true),
    longTermPhysicalBytes: bytes("long_term_physical_bytes", true),
    timeTravelPhysicalBytes: bytes(OPTIONAL_BYTES[0], false),
    failSafePhysicalBytes: bytes(OPTIONAL_BYTES[1], false),
    source: { file, line },
  };
}
