// Reads a table-storage snapshot: rows of INFORMATION_SCHEMA.TABLE_STORAGE as `bq query`
// writes them, CSV (header row) or JSON (an array of objects, or NDJSON). Errors name the file,
// line and column, because a wrong snapshot silently skews every department's storage cost.

import { describe } from "../core/parse.ts";
import type { TableStorage } from "../core/types.ts";
import { readTextFile } from "./log-files.ts";
import { parseTableRows, type TableRow } from "./table-rows.ts";

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

export async function readStorageSnapshot(file: string, defaultLocation = "US"): Promise<TableStorage[]> {
  const text = await readTextFile(file);
  return parseStorageSnapshot(text, file, defaultLocation);
}

export function parseStorageSnapshot(text: string, file: string, defaultLocation = "US"): TableStorage[] {
  const rows = parseTableRows(text, file, {
    required: REQUIRED,
    what: "storage snapshot (TABLE_STORAGE)",
    error: SnapshotError,
  });
  return rows.map((row) => toTableStorage(row, file, defaultLocation));
}

function toTableStorage(row: TableRow, file: string, defaultLocation: string): TableStorage {
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
  // `bq query --format=csv` writes true/false; JSON gives a boolean or the same text.
  const deletedValue = values.deleted;
  const deletedText =
    typeof deletedValue === "boolean" ? String(deletedValue) : text("deleted", false).toLowerCase();
  if (deletedText !== "" && deletedText !== "true" && deletedText !== "false") {
    throw new SnapshotError(
      `${file}:${line}: deleted: expected true or false, found ${describe(deletedValue)}`,
    );
  }
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
    deleted: deletedText === "true",
    source: { file, line },
  };
}
