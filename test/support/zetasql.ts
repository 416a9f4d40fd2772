// ZetaSQL, BigQuery's SQL front end, run locally: npm @fivetrandevelopers/zetasql ships its
// gRPC server (remote_server.so). `analyze` checks a statement against a catalog; `evaluate`
// runs a query over rows sent with the request (at most 4 MiB a request) with @parameters.
import { type ChildProcess, spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { freePort } from "./free-port.ts";

const ZETASQL = fileURLToPath(
  new URL("../../node_modules/@fivetrandevelopers/zetasql/lib/zetasql/", import.meta.url),
);

export type SqlType =
  | "STRING"
  | "INT64"
  | "FLOAT64"
  | "NUMERIC"
  | "BIGNUMERIC"
  | "BOOL"
  | "DATE"
  | "TIMESTAMP"
  | { array: SqlType }
  | { struct: { name: string; type: SqlType }[] };

export interface TableSchema {
  name: string;
  columns: { name: string; type: SqlType }[];
}

/** Tables under a path of names, as BigQuery's `project`.`region-us`.INFORMATION_SCHEMA.VIEW. */
export interface NestedTables {
  path: string[];
  tables: TableSchema[];
}

/** JS values: strings (also NUMERIC as decimal text, DATE as YYYY-MM-DD, TIMESTAMP as RFC 3339), bigint/number for INT64, booleans, arrays, objects for structs, null. */
export type SqlValue = string | number | bigint | boolean | null | SqlValue[] | { [field: string]: SqlValue };

const SCALARS: Record<string, string> = {
  STRING: "TYPE_STRING",
  INT64: "TYPE_INT64",
  FLOAT64: "TYPE_DOUBLE",
  NUMERIC: "TYPE_NUMERIC",
  BIGNUMERIC: "TYPE_BIGNUMERIC",
  BOOL: "TYPE_BOOL",
  DATE: "TYPE_DATE",
  TIMESTAMP: "TYPE_TIMESTAMP",
};

function typeProto(type: SqlType): Record<string, unknown> {
  if (typeof type === "string") return { typeKind: SCALARS[type] };
  if ("array" in type) return { typeKind: "TYPE_ARRAY", arrayType: { elementType: typeProto(type.array) } };
  return {
    typeKind: "TYPE_STRUCT",
    structType: {
      field: type.struct.map((field) => ({ fieldName: field.name, fieldType: typeProto(field.type) })),
    },
  };
}

/** NUMERIC (scale 9) and BIGNUMERIC (scale 38) travel as little-endian two's-complement integers. */
function scaledBytes(value: bigint): Buffer {
  const bytes: number[] = [];
  let rest = value;
  for (;;) {
    const byte = Number(rest & 0xffn);
    bytes.push(byte);
    rest >>= 8n;
    if ((rest === 0n && (byte & 0x80) === 0) || (rest === -1n && (byte & 0x80) !== 0)) break;
  }
  return Buffer.from(bytes);
}

function fromScaledBytes(bytes: Uint8Array): bigint {
  let value = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[i] as number);
  if (bytes.length > 0 && ((bytes[bytes.length - 1] as number) & 0x80) !== 0)
    value -= 1n << BigInt(8 * bytes.length);
  return value;
}

function decimalToScaled(text: string, scale: number): bigint {
  const match = /^(-)?(\d+)(?:\.(\d+))?$/.exec(text);
  if (!match) throw new Error(`not a decimal: ${text}`);
  const fraction = (match[3] ?? "").padEnd(scale, "0");
  if (fraction.length > scale) throw new Error(`too many decimals for scale ${scale}: ${text}`);
  const value = BigInt(match[2] as string) * 10n ** BigInt(scale) + BigInt(fraction || "0");
  return match[1] ? -value : value;
}

function scaledToDecimal(value: bigint, scale: number): string {
  const negative = value < 0n;
  const digits = (negative ? -value : value).toString().padStart(scale + 1, "0");
  return `${negative ? "-" : ""}${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
}

const DAY_MS = 86_400_000;

function valueProto(value: SqlValue, type: SqlType): Record<string, unknown> {
  if (value === null) return {};
  if (typeof type !== "string") {
    if ("array" in type)
      return { arrayValue: { element: (value as SqlValue[]).map((v) => valueProto(v, type.array)) } };
    const record = value as Record<string, SqlValue>;
    return {
      structValue: { field: type.struct.map((field) => valueProto(record[field.name] ?? null, field.type)) },
    };
  }
  switch (type) {
    case "STRING":
      return { stringValue: String(value) };
    case "INT64":
      return { int64Value: String(value) };
    case "FLOAT64":
      return { doubleValue: Number(value) };
    case "BOOL":
      return { boolValue: Boolean(value) };
    case "NUMERIC":
      return { numericValue: scaledBytes(decimalToScaled(String(value), 9)) };
    case "BIGNUMERIC":
      return { bignumericValue: scaledBytes(decimalToScaled(String(value), 38)) };
    case "DATE":
      return { dateValue: Math.round(Date.parse(`${String(value)}T00:00:00Z`) / DAY_MS) };
    case "TIMESTAMP": {
      const ms = Date.parse(String(value));
      return { timestampValue: { seconds: String(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1_000_000 } };
    }
  }
  throw new Error(`no encoding for ${JSON.stringify(type)}`);
}

/**
 * Results back to JS: NUMERIC as decimal text with 9 places, INT64 as bigint, DATE as YYYY-MM-DD,
 * a STRUCT as an object of its fields (their names come from the column's type).
 */
function fromValueProto(cell: Record<string, unknown>, type?: SqlType): SqlValue {
  switch (cell.value) {
    case undefined:
      return null;
    case "stringValue":
      return cell.stringValue as string;
    case "int64Value":
      return BigInt(cell.int64Value as string);
    case "boolValue":
      return cell.boolValue as boolean;
    case "doubleValue":
      return cell.doubleValue as number;
    case "numericValue":
      return scaledToDecimal(fromScaledBytes(cell.numericValue as Uint8Array), 9);
    case "bignumericValue":
      return scaledToDecimal(fromScaledBytes(cell.bignumericValue as Uint8Array), 38);
    case "dateValue":
      return new Date((cell.dateValue as number) * DAY_MS).toISOString().slice(0, 10);
    case "timestampValue": {
      const { seconds, nanos } = cell.timestampValue as { seconds: string; nanos: number };
      return new Date(Number(seconds) * 1000 + Math.floor(nanos / 1_000_000)).toISOString();
    }
    case "arrayValue": {
      const element = typeof type === "object" && "array" in type ? type.array : undefined;
      return ((cell.arrayValue as { element: Record<string, unknown>[] }).element ?? []).map((item) =>
        fromValueProto(item, element),
      );
    }
    case "structValue": {
      if (typeof type !== "object" || !("struct" in type)) throw new Error("a STRUCT value without its type");
      const fields = (cell.structValue as { field?: Record<string, unknown>[] }).field ?? [];
      return Object.fromEntries(
        type.struct.map((field, i) => [field.name, fromValueProto(fields[i] ?? {}, field.type)]),
      );
    }
    default:
      throw new Error(`no decoding for ${String(cell.value)}`);
  }
}

const KINDS = Object.fromEntries(Object.entries(SCALARS).map(([name, kind]) => [kind, name]));

/** The SqlType of a result column, from the type proto ZetaSQL answers with. */
export function sqlTypeOf(type: Record<string, unknown>): SqlType {
  const kind = type.typeKind as string;
  if (kind === "TYPE_ARRAY")
    return { array: sqlTypeOf((type.arrayType as { elementType: Record<string, unknown> }).elementType) };
  if (kind === "TYPE_STRUCT") {
    const fields = (type.structType as { field: { fieldName: string; fieldType: Record<string, unknown> }[] })
      .field;
    return { struct: fields.map((field) => ({ name: field.fieldName, type: sqlTypeOf(field.fieldType) })) };
  }
  const scalar = KINDS[kind];
  if (!scalar) throw new Error(`no SqlType for ${kind}`);
  return scalar as SqlType;
}

/** Column lists of the CREATE TABLE statements under a folder: one catalog, read from the DDL itself. */
export function ddlTables(dir: string): TableSchema[] {
  return readdirSync(dir)
    .filter((file) => file.endsWith(".sql"))
    .map((file) => {
      const text = readFileSync(`${dir}/${file}`, "utf8");
      const match = /CREATE TABLE IF NOT EXISTS (\w+) \(\n([\s\S]*?)\n\)\n/.exec(text);
      if (!match) throw new Error(`${file}: no CREATE TABLE IF NOT EXISTS name (...) found`);
      const columns = (match[2] as string).split("\n").map((line) => {
        const column = /^\s+(\w+) (ARRAY<\w+>|\w+)/.exec(line);
        if (!column) throw new Error(`${file}: cannot read column line "${line}"`);
        const typeText = column[2] as string;
        const array = /^ARRAY<(\w+)>$/.exec(typeText);
        return { name: column[1] as string, type: (array ? { array: array[1] } : typeText) as SqlType };
      });
      return { name: match[1] as string, columns };
    });
}

type Api = Record<
  string,
  (request: unknown, callback: (error: Error | null, response: unknown) => void) => void
>;

export class ZetaSql {
  private readonly child: ChildProcess;
  private readonly api: Api;
  private readonly languageOptions: Record<string, unknown>;

  private constructor(child: ChildProcess, api: Api, languageOptions: Record<string, unknown>) {
    this.child = child;
    this.api = api;
    this.languageOptions = languageOptions;
  }

  static async start(): Promise<ZetaSql> {
    const port = await freePort();
    const child = spawn(`${ZETASQL}remote_server.so`, ["localhost", String(port)], { stdio: "ignore" });
    const definition = protoLoader.loadSync("local_service.proto", {
      defaults: true,
      oneofs: true,
      longs: String,
      enums: String,
      includeDirs: [`${ZETASQL}protos`],
    });
    const proto = grpc.loadPackageDefinition(definition) as unknown as {
      zetasql: {
        local_service: {
          ZetaSqlLocalService: new (
            address: string,
            credentials: grpc.ChannelCredentials,
            options: object,
          ) => Api;
        };
      };
    };
    const api = new proto.zetasql.local_service.ZetaSqlLocalService(
      `localhost:${port}`,
      grpc.credentials.createInsecure(),
      {
        "grpc.max_send_message_length": 4 << 20,
        "grpc.max_receive_message_length": 4 << 20,
      },
    );
    const call = (method: string, request: unknown) =>
      new Promise<Record<string, unknown>>((resolve, reject) =>
        api[method]?.(request, (error, response) =>
          error ? reject(error) : resolve(response as Record<string, unknown>),
        ),
      );
    for (let attempt = 0; ; attempt++) {
      try {
        const options = await call("getLanguageOptions", { maximumFeatures: true });
        // BigQuery's dialect: external product mode, every statement kind.
        options.productMode = "PRODUCT_EXTERNAL";
        options.supportedStatementKinds = [];
        return new ZetaSql(child, api, options);
      } catch (error) {
        if (attempt > 100 || child.exitCode !== null) {
          child.kill("SIGKILL");
          throw error;
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }

  private call(method: string, request: unknown): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) =>
      this.api[method]?.(request, (error, response) =>
        error ? reject(error) : resolve(response as Record<string, unknown>),
      ),
    );
  }

  private options(params: Record<string, SqlType>) {
    return {
      languageOptions: this.languageOptions,
      defaultTimezone: "UTC",
      queryParameters: Object.entries(params).map(([name, type]) => ({ name, type: typeProto(type) })),
    };
  }

  private catalog(tables: TableSchema[], nested: NestedTables[] = []) {
    const tableProtos = (list: TableSchema[]) =>
      list.map((table) => ({
        name: table.name,
        column: table.columns.map((column) => ({ name: column.name, type: typeProto(column.type) })),
      }));
    // One sub-catalog a path element: `a`.`b`.T is table T of catalog b of catalog a.
    const subCatalogs = (entries: NestedTables[]): unknown[] => {
      const names = [...new Set(entries.map((entry) => entry.path[0] as string))];
      return names.map((name) => {
        const here = entries.filter((entry) => entry.path[0] === name);
        const rest = here.map((entry) => ({ path: entry.path.slice(1), tables: entry.tables }));
        return {
          name,
          table: tableProtos(
            rest.filter((entry) => entry.path.length === 0).flatMap((entry) => entry.tables),
          ),
          catalog: subCatalogs(rest.filter((entry) => entry.path.length > 0)),
        };
      });
    };
    return {
      name: "bq_chargeback",
      table: tableProtos(tables),
      catalog: subCatalogs(nested),
      builtinFunctionOptions: { languageOptions: this.languageOptions },
    };
  }

  /** Resolves when ZetaSQL accepts the statement; rejects with its message. */
  async analyze(
    sql: string,
    tables: TableSchema[],
    params: Record<string, SqlType> = {},
    nested: NestedTables[] = [],
  ): Promise<void> {
    await this.call("analyze", {
      sqlStatement: sql,
      simpleCatalog: this.catalog(tables, nested),
      options: this.options(params),
    });
  }

  /** Like evaluate, with the result's column names and ZetaSQL type kinds (TYPE_STRING, ...). */
  async evaluateWithSchema(
    sql: string,
    tables: TableSchema[],
    rows: Record<string, Record<string, SqlValue>[]>,
    params: Record<string, { type: SqlType; value: SqlValue }> = {},
  ): Promise<{
    columns: { name: string; type: Record<string, unknown> }[];
    rows: Record<string, SqlValue>[];
  }> {
    this.lastColumns = [];
    const result = await this.evaluate(sql, tables, rows, params);
    return { columns: this.lastColumns, rows: result };
  }

  private lastColumns: { name: string; type: Record<string, unknown> }[] = [];

  async evaluate(
    sql: string,
    tables: TableSchema[],
    rows: Record<string, Record<string, SqlValue>[]>,
    params: Record<string, { type: SqlType; value: SqlValue }> = {},
  ): Promise<Record<string, SqlValue>[]> {
    const tableContent: Record<string, unknown> = {};
    for (const table of tables) {
      tableContent[table.name] = {
        tableData: {
          row: (rows[table.name] ?? []).map((row) => ({
            cell: table.columns.map((column) => valueProto(row[column.name] ?? null, column.type)),
          })),
        },
      };
    }
    const response = await this.call("evaluateQuery", {
      sql,
      options: this.options(Object.fromEntries(Object.entries(params).map(([name, p]) => [name, p.type]))),
      simpleCatalog: this.catalog(tables),
      tableContent,
      params: Object.entries(params).map(([name, p]) => ({ name, value: valueProto(p.value, p.type) })),
    });
    const prepared = response.prepared as { columns: { name: string; type: Record<string, unknown> }[] };
    this.lastColumns = prepared.columns;
    const content = response.content as { tableData: { row: { cell: Record<string, unknown>[] }[] } };
    return content.tableData.row.map((row) =>
      Object.fromEntries(
        row.cell.map((cell, i) => {
          const column = prepared.columns[i];
          return [
            column?.name ?? String(i),
            fromValueProto(cell, column ? sqlTypeOf(column.type) : undefined),
          ];
        }),
      ),
    );
  }

  stop(): void {
    this.child.kill("SIGKILL");
  }
}

/**
 * The two INFORMATION_SCHEMA views the storage snapshot reads, under `project`.`region-R`, with
 * the columns it uses as Google documents them (TABLE_STORAGE, SCHEMATA_OPTIONS).
 */
export function informationSchemaViews(project: string, location: string): NestedTables {
  const int64 = (name: string) => ({ name, type: "INT64" as SqlType });
  const string = (name: string) => ({ name, type: "STRING" as SqlType });
  return {
    path: [project, `region-${location.toLowerCase()}`, "INFORMATION_SCHEMA"],
    tables: [
      {
        name: "TABLE_STORAGE",
        columns: [
          string("project_id"),
          string("table_schema"),
          string("table_name"),
          int64("active_logical_bytes"),
          int64("long_term_logical_bytes"),
          int64("active_physical_bytes"),
          int64("long_term_physical_bytes"),
          int64("time_travel_physical_bytes"),
          int64("fail_safe_physical_bytes"),
          { name: "deleted", type: "BOOL" },
        ],
      },
      {
        name: "SCHEMATA_OPTIONS",
        columns: [
          string("catalog_name"),
          string("schema_name"),
          string("option_name"),
          string("option_type"),
          string("option_value"),
        ],
      },
    ],
  };
}
