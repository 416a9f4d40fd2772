// Rows of a BigQuery table as a user gets them out of BigQuery: `bq query --format=csv|json`
// (CSV with a header row, or one JSON array of objects) or `bq extract` (CSV, or NDJSON: one
// object per line). Each row keeps the line it came from, for errors that say where.
import { parseCsv } from "./csv.ts";

export interface TableRow {
  values: Record<string, unknown>;
  line: number;
}

type ErrorType = new (message: string) => Error;

/** CSV (header row first) or JSON (array or NDJSON), told apart by the first character. */
export function parseTableRows(
  text: string,
  file: string,
  options: { required?: readonly string[]; what: string; error: ErrorType },
): TableRow[] {
  const trimmed = text.trimStart();
  return trimmed.startsWith("[") || trimmed.startsWith("{")
    ? jsonRows(text, file, options)
    : csvRows(text, file, options);
}

function csvRows(
  text: string,
  file: string,
  options: { required?: readonly string[]; what: string; error: ErrorType },
): TableRow[] {
  const [header, ...body] = parseCsv(text);
  if (!header) throw new options.error(`${file}: empty ${options.what} (expected a CSV header row)`);
  const names = header.cells.map((name) => name.trim().toLowerCase());
  for (const column of options.required ?? []) {
    if (!names.includes(column))
      throw new options.error(`${file}:${header.line}: missing column ${column} in the header`);
  }
  return body.map(({ cells, line }) => {
    if (cells.length !== names.length) {
      throw new options.error(
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

function jsonRows(text: string, file: string, options: { what: string; error: ErrorType }): TableRow[] {
  const trimmed = text.trim();
  if (trimmed.startsWith("[")) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch (error) {
      throw new options.error(`${file}: not valid JSON: ${(error as Error).message}`);
    }
    if (!Array.isArray(parsed)) throw new options.error(`${file}: expected a JSON array of rows`);
    // bq writes one object per line inside the array; report the element's index as its line.
    return parsed.map((values, i) => ({ values: objectRow(values, file, i + 1, options), line: i + 1 }));
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
        throw new options.error(`${file}:${n}: not valid JSON: ${(error as Error).message}`);
      }
      return { values: objectRow(parsed, file, n, options), line: n };
    });
}

function objectRow(
  value: unknown,
  file: string,
  line: number,
  options: { what: string; error: ErrorType },
): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new options.error(`${file}:${line}: expected an object with the columns of ${options.what}`);
  }
  return value as Record<string, unknown>;
}
