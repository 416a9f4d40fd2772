// Tables held in memory and queried through the fake BigQuery's jobs.query by ZetaSQL, so the
// statements of sql/ that a function sends are the ones evaluated: a SELECT is evaluated as it
// is; an `UPDATE t SET ... WHERE ...` (ZetaSQL analyses DML but does not evaluate it) becomes a
// SELECT of each row's WHERE and SET values, applied here. Statements run one at a time, as
// BigQuery runs mutating DML on one table one after the other.
import type { QueryHandler, QueryRequest } from "./fake-bigquery.ts";
import type { SqlType, SqlValue, TableSchema, ZetaSql } from "./zetasql.ts";

interface RestType {
  type: string;
  arrayType?: RestType;
}
interface RestValue {
  value?: string;
  arrayValues?: RestValue[];
}

/** REST query parameters -> ZetaSQL parameters (scalars and arrays of scalars). */
export function zetaParams(request: QueryRequest): Record<string, { type: SqlType; value: SqlValue }> {
  const params = (request.queryParameters ?? []) as {
    name: string;
    parameterType: RestType;
    parameterValue: RestValue;
  }[];
  return Object.fromEntries(
    params.map((p) => {
      if (p.parameterType.type === "ARRAY") {
        const element = p.parameterType.arrayType?.type as SqlType;
        const values = (p.parameterValue.arrayValues ?? []).map((v) => v.value ?? null);
        return [p.name, { type: { array: element }, value: values }];
      }
      return [p.name, { type: p.parameterType.type as SqlType, value: p.parameterValue.value ?? null }];
    }),
  );
}

const REST_TYPES: Record<string, string> = {
  TYPE_STRING: "STRING",
  TYPE_INT64: "INTEGER",
  TYPE_NUMERIC: "NUMERIC",
  TYPE_DATE: "DATE",
  TYPE_TIMESTAMP: "TIMESTAMP",
  TYPE_BOOL: "BOOLEAN",
};

/** A ZetaSQL result as jobs.query returns it: schema fields and rows of {f: [{v}]}. */
export function restResult(
  columns: { name: string; type: Record<string, unknown> }[],
  result: Record<string, SqlValue>[],
) {
  const kindOf = (type: Record<string, unknown>) => String(type.typeKind);
  const fields = columns.map((column) => {
    const kind = kindOf(column.type);
    if (kind === "TYPE_ARRAY") {
      const element = kindOf((column.type.arrayType as { elementType: Record<string, unknown> }).elementType);
      return { name: column.name, type: REST_TYPES[element] ?? "STRING", mode: "REPEATED" };
    }
    return { name: column.name, type: REST_TYPES[kind] ?? "STRING", mode: "NULLABLE" };
  });
  const encode = (value: SqlValue, kind: string): unknown => {
    if (value === null) return null;
    // the client asks for int64 timestamps (formatOptions.useInt64Timestamp): microseconds
    if (kind === "TYPE_TIMESTAMP") return String(BigInt(Date.parse(String(value))) * 1000n);
    return String(value);
  };
  return {
    fields,
    rows: result.map((row) => ({
      f: columns.map((column) => {
        const value = row[column.name] ?? null;
        const kind = kindOf(column.type);
        if (kind === "TYPE_ARRAY") return { v: ((value as SqlValue[]) ?? []).map((v) => ({ v: String(v) })) };
        return { v: encode(value, kind) };
      }),
    })),
  };
}

/** `a = x, b = f(y, z)` -> [["a", "x"], ["b", "f(y, z)"]]: split at the commas outside brackets. */
function assignments(text: string): [string, string][] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "(") depth++;
    else if (c === ")") depth--;
    else if (c === "," && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts.map((part) => {
    const match = /^\s*(\w+)\s*=\s*([\s\S]+?)\s*$/.exec(part);
    if (!match) throw new Error(`cannot read the assignment "${part}"`);
    return [match[1] as string, match[2] as string];
  });
}

export class ZetaSqlTables {
  readonly rows: Record<string, Record<string, SqlValue>[]> = {};
  /** Every statement received, in order. */
  readonly statements: QueryRequest[] = [];
  private queue: Promise<unknown> = Promise.resolve();

  private readonly zetasql: ZetaSql;
  readonly tables: TableSchema[];

  constructor(zetasql: ZetaSql, tables: TableSchema[]) {
    this.zetasql = zetasql;
    this.tables = tables;
    for (const table of tables) this.rows[table.name] = [];
  }

  /** The fake BigQuery's jobs.query handler over these tables. */
  readonly handler: QueryHandler = (request) => {
    const next = this.queue.then(() => this.run(request));
    this.queue = next.catch(() => undefined);
    return next;
  };

  private async run(request: QueryRequest): ReturnType<QueryHandler> {
    this.statements.push(request);
    const params = zetaParams(request);
    const types = Object.fromEntries(Object.entries(params).map(([name, p]) => [name, p.type]));
    await this.zetasql.analyze(request.query, this.tables, types);
    const sql = request.query.replace(/^\s*(--[^\n]*\n\s*)*/, "");
    const update = /^UPDATE\s+(\w+)\s+SET\s+([\s\S]+?)\s+WHERE\s+([\s\S]+)$/i.exec(sql);
    if (update) {
      const [, table, set, where] = update as unknown as [string, string, string, string];
      const sets = assignments(set);
      const select = `SELECT row_index_, COALESCE((${where}), FALSE) AS hit_, ${sets
        .map(([column, value], i) => `(${value}) AS set_${i}_${column}`)
        .join(", ")} FROM ${table}`;
      // each row carries its index, so the decisions map back whatever order they come in
      const indexed = this.tables.map((each) =>
        each.name === table
          ? { ...each, columns: [...each.columns, { name: "row_index_", type: "INT64" as SqlType }] }
          : each,
      );
      const rows = {
        ...this.rows,
        [table]: (this.rows[table] ?? []).map((row, i) => ({ ...row, row_index_: i })),
      };
      const decided = new Map(
        (await this.zetasql.evaluate(select, indexed, rows, params)).map((d) => [Number(d.row_index_), d]),
      );
      let affected = 0;
      this.rows[table] = (this.rows[table] ?? []).map((row, i) => {
        const decision = decided.get(i) as Record<string, SqlValue>;
        if (decision.hit_ !== true) return row;
        affected++;
        const changed = { ...row };
        sets.forEach(([column], n) => {
          changed[column] = decision[`set_${n}_${column}`] ?? null;
        });
        return changed;
      });
      return { fields: [], rows: [], numDmlAffectedRows: String(affected) };
    }
    if (!/^(SELECT|WITH)\b/i.test(sql)) throw new Error(`not modelled here: ${sql.slice(0, 60)}`);
    const { columns, rows } = await this.zetasql.evaluateWithSchema(
      request.query,
      this.tables,
      this.rows,
      params,
    );
    return restResult(columns, rows);
  }
}
