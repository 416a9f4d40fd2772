// What BigQuery's insertAll refuses, for the local stand-in: a field the table does not have, or
// a value its column's type does not take (INT64 beyond 2^63-1, 2026-02-30, 24:00:00, year 0,
// text that is not Unicode, a non-array in a REPEATED column). Types from sql/ddl.
import { ddlTables, type SqlType } from "./zetasql.ts";

const DDL = new URL("../../sql/ddl", import.meta.url).pathname;

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.\d{1,9})?(?:Z|[+-](\d{2}):(\d{2}))?$/i;

function validDay(year: number, month: number, day: number): boolean {
  if (year < 1 || year > 9999 || month < 1 || month > 12 || day < 1) return false;
  const date = new Date(Date.UTC(2000, month - 1, 1));
  date.setUTCFullYear(year);
  date.setUTCMonth(month, 0);
  return day <= date.getUTCDate();
}

/** Why BigQuery would refuse `value` in a column of `type`, or undefined when it takes it. */
export function valueError(type: SqlType, value: unknown): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof type === "object") {
    if ("array" in type) {
      if (!Array.isArray(value)) return "expected an array (REPEATED field)";
      for (const item of value) {
        if (item === null) return "an array holds NULL";
        const error = valueError(type.array, item);
        if (error) return error;
      }
      return undefined;
    }
    return typeof value === "object" ? undefined : "expected a record";
  }
  switch (type) {
    case "STRING":
      if (typeof value !== "string") return "expected a string";
      return /\p{Surrogate}/u.test(value) ? "invalid UTF-8" : undefined;
    case "INT64": {
      const text = typeof value === "number" && Number.isSafeInteger(value) ? String(value) : value;
      if (typeof text !== "string" || !/^-?\d{1,19}$/.test(text))
        return `invalid INT64 ${String(value).slice(0, 40)}`;
      const n = BigInt(text);
      return n < INT64_MIN || n > INT64_MAX ? `INT64 out of range: ${text}` : undefined;
    }
    case "NUMERIC":
    case "BIGNUMERIC": {
      const text = typeof value === "number" ? String(value) : value;
      return typeof text === "string" && /^-?\d{1,29}(?:\.\d{1,9})?$/.test(text)
        ? undefined
        : "invalid NUMERIC";
    }
    case "BOOL":
      return typeof value === "boolean" ? undefined : "expected a boolean";
    case "DATE": {
      const match = typeof value === "string" ? DATE.exec(value) : null;
      const [, y, m, d] = (match ?? []).map(Number);
      return match && validDay(y as number, m as number, d as number)
        ? undefined
        : `invalid DATE ${String(value).slice(0, 40)}`;
    }
    case "TIMESTAMP": {
      const match = typeof value === "string" ? TIMESTAMP.exec(value) : null;
      if (!match) return `invalid TIMESTAMP ${String(value).slice(0, 40)}`;
      const [, y, mo, d, h, mi, s, oh = 0, om = 0] = match.map((part) =>
        part === undefined ? 0 : Number(part),
      );
      const ok =
        validDay(y as number, mo as number, d as number) &&
        (h as number) < 24 &&
        (mi as number) < 60 &&
        (s as number) < 60 &&
        (oh as number) < 24 &&
        (om as number) < 60;
      return ok ? undefined : `invalid TIMESTAMP ${value}`;
    }
  }
}

/** Column types of every table in sql/ddl. */
export function tableSchemas(): Map<string, Map<string, SqlType>> {
  return new Map(
    ddlTables(DDL).map((table) => [table.name, new Map(table.columns.map((c) => [c.name, c.type]))]),
  );
}

/** The errors BigQuery would report for one row of `table`, as insertAll's errors[]. */
export function rowErrors(
  schemas: Map<string, Map<string, SqlType>>,
  table: string,
  row: Record<string, unknown>,
): { reason: string; location: string; message: string }[] {
  const columns = schemas.get(table);
  if (!columns) return [{ reason: "notFound", location: "", message: `Not found: Table ${table}` }];
  const errors: { reason: string; location: string; message: string }[] = [];
  for (const [name, value] of Object.entries(row)) {
    const type = columns.get(name);
    const problem = type === undefined ? "no such field" : valueError(type, value);
    if (problem) errors.push({ reason: "invalid", location: name, message: `${name}: ${problem}` });
  }
  return errors;
}
