// A local HTTP endpoint speaking the BigQuery REST wire format (v2) for the parts the adapters use:
// tabledata.insertAll (with insertId de-duplication, as BigQuery does best-effort) and
// jobs.query / jobs.getQueryResults (answered by a handler the test supplies). It can answer
// the next requests with 429/5xx to exercise the client's retries. Google Cloud cannot be
// reached from the test machines; this is the stand-in, and the real client library talks to it.
// Like BigQuery, it runs a query in one location: a statement that reads or writes the dataset
// (location `datasetLocation`) and a `region-X` INFORMATION_SCHEMA elsewhere is refused, and so is
// a job sent to another location than its statement's. Stricter than BigQuery, it refuses a
// query parameter without a value: this code never means NULL, and the client sends none when it
// cannot encode a value as the declared type (a plain string declared DATE).
import { readdirSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { rowErrors } from "./bigquery-values.ts";
import type { SqlType } from "./zetasql.ts";

export interface InsertAllRequest {
  table: string;
  rows: { insertId?: string; json: Record<string, unknown> }[];
}

export interface QueryRequest {
  query: string;
  useLegacySql?: boolean;
  parameterMode?: string;
  queryParameters?: unknown[];
  defaultDataset?: { projectId: string; datasetId: string };
  [key: string]: unknown;
}

/** Answers a jobs.query request: schema fields and rows as the REST API encodes them ({f:[{v}]}); a DML statement's count. */
export type QueryHandler = (request: QueryRequest) => Promise<{
  fields: { name: string; type: string; mode?: string }[];
  rows: { f: { v: unknown }[] }[];
  numDmlAffectedRows?: string;
}>;

/** The IAM permission a statement needs on the dataset's tables, as BigQuery checks them. */
const DML = /^\s*(?:--[^\n]*\n\s*)*(UPDATE|INSERT|DELETE|MERGE)\b/i;

/** Predefined roles by the BigQuery permissions of theirs that this stand-in checks. */
export const ROLE_PERMISSIONS: Record<string, readonly string[]> = {
  "roles/bigquery.jobUser": ["bigquery.jobs.create"],
  "roles/bigquery.dataViewer": ["bigquery.tables.getData"],
  "roles/bigquery.dataEditor": ["bigquery.tables.getData", "bigquery.tables.updateData"],
};

export class FakeBigQuery {
  readonly requests: { method: string; path: string; body: unknown }[] = [];
  readonly inserts: InsertAllRequest[] = [];
  /** Stored rows per table, one per insertId. */
  readonly tables = new Map<string, Map<string, Record<string, unknown>>>();
  private readonly failures: number[] = [];
  /** Column types per table (sql/ddl): when set, rows with a value BigQuery would refuse are refused. */
  columnTypes: Map<string, Map<string, SqlType>> | undefined;
  /** Inserts refused for a value or a field, as BigQuery reports them in insertErrors. */
  readonly refused: InsertAllRequest[] = [];
  private server: Server | undefined;
  queryHandler: QueryHandler | undefined;
  /**
   * When set, the tables that exist and their columns: BigQuery answers an insert into a missing
   * table with 404 notFound, and a row with a field the table lacks with an insertError
   * ("no such field"), so a stand-in with schemas refuses what Google refuses.
   */
  schemas: Map<string, readonly string[]> | undefined;
  private jobCounter = 0;
  /** Where the dataset lives; its tables are those of sql/ddl and sql/sink/ddl. */
  datasetLocation = "US";
  readonly datasetTables = ["../../sql/ddl/", "../../sql/sink/ddl/"].flatMap((dir) =>
    readdirSync(new URL(dir, import.meta.url))
      .filter((name) => name.endsWith(".sql"))
      .map((name) => name.slice(0, -".sql".length)),
  );
  /**
   * When set, the roles the caller holds (ROLE_PERMISSIONS): a query needs bigquery.jobs.create,
   * reading the dataset's tables bigquery.tables.getData, and a DML statement
   * bigquery.tables.updateData, or BigQuery answers 403 accessDenied.
   */
  roles: string[] | undefined;

  /** The tables of the dataset a statement names. */
  private tablesOf(query: string): string[] {
    return this.datasetTables.filter((table) => new RegExp(`\\b${table}\\b`).test(query));
  }

  /** Why BigQuery would refuse this caller the statement, if it would (see `roles`). */
  private permissionRefusal(request: QueryRequest, project: string): string | undefined {
    if (!this.roles) return undefined;
    const held = new Set(this.roles.flatMap((role) => ROLE_PERMISSIONS[role] ?? []));
    if (!held.has("bigquery.jobs.create")) {
      return `Access Denied: Project ${project}: User does not have bigquery.jobs.create permission in project ${project}.`;
    }
    const tables = this.tablesOf(request.query);
    const needed = DML.test(request.query) ? "bigquery.tables.updateData" : "bigquery.tables.getData";
    const dataset = request.defaultDataset?.datasetId ?? "?";
    const [table] = tables;
    if (table && !held.has(needed)) {
      return `Access Denied: Table ${project}:${dataset}.${table}: Permission ${needed} denied on table ${project}:${dataset}.${table} (or it may not exist).`;
    }
    return undefined;
  }

  /** The first table a statement names that the dataset does not hold (when `schemas` says which do). */
  private missingTable(request: QueryRequest): string | undefined {
    if (!this.schemas) return undefined;
    return this.tablesOf(request.query).find((table) => !this.schemas?.has(table));
  }

  /** The one location a statement runs in, or why BigQuery would refuse it. */
  statementLocation(request: QueryRequest): { location?: string; refusal?: string } {
    const locations = new Set<string>();
    for (const match of request.query.matchAll(/`region-([A-Za-z0-9-]+)`/g)) {
      locations.add((match[1] as string).toLowerCase());
    }
    if (this.tablesOf(request.query).length > 0) locations.add(this.datasetLocation.toLowerCase());
    if (locations.size > 1) {
      return { refusal: `Cannot read and write in different locations: ${[...locations].join(", ")}` };
    }
    const [location] = locations;
    const asked = typeof request.location === "string" ? request.location.toLowerCase() : undefined;
    if (location && asked && asked !== location) {
      return { refusal: `Not found: the statement's data is in ${location}, the job was sent to ${asked}` };
    }
    return { location };
  }

  /** The name of a parameter sent without a value, if any (see the header). */
  static parameterWithoutValue(request: QueryRequest): string | undefined {
    interface Value {
      value?: unknown;
      arrayValues?: Value[];
      structValues?: Record<string, Value>;
    }
    interface Type {
      type?: string;
      arrayType?: Type;
      structTypes?: { name: string; type: Type }[];
    }
    const hasValue = (value: Value | undefined, type: Type | undefined): boolean => {
      // an empty array is a value (the client sends no arrayValues for it)
      if (type?.type === "ARRAY") return (value?.arrayValues ?? []).every((v) => hasValue(v, type.arrayType));
      if (type?.type === "STRUCT") {
        return (type.structTypes ?? []).every((field) =>
          hasValue(value?.structValues?.[field.name], field.type),
        );
      }
      return value?.value !== undefined && value.value !== null;
    };
    const params = (request.queryParameters ?? []) as {
      name: string;
      parameterValue?: Value;
      parameterType?: Type;
    }[];
    return params.find((param) => !hasValue(param.parameterValue, param.parameterType))?.name;
  }

  private readonly insertRefusals: {
    table: string;
    error: { reason: string; message: string };
    times: number;
  }[] = [];

  /**
   * Inserts into `table` answer 200 with insertErrors, as BigQuery does for a row it refuses: the
   * first row gets `error`, the others "stopped" (not inserted because of it); none is stored.
   * A row refused for its content is refused every time it is sent (the default); a transient
   * refusal lasts `times` requests. The client library itself re-sends refused rows 3 times.
   */
  refuseInserts(
    table: string,
    error: { reason: string; message: string },
    times = Number.POSITIVE_INFINITY,
  ): void {
    this.insertRefusals.push({ table, error, times });
  }

  clearRefusals(): void {
    this.insertRefusals.length = 0;
  }

  /** The next `count` requests get HTTP `status` (429, 500, 503 ...). */
  failNext(status: number, count = 1): void {
    for (let i = 0; i < count; i++) this.failures.push(status);
  }

  clearFailures(): void {
    this.failures.length = 0;
  }

  rows(table: string): Record<string, unknown>[] {
    return [...(this.tables.get(table)?.values() ?? [])];
  }

  async start(): Promise<string> {
    this.server = createServer((request, response) => {
      void this.handle(request, response);
    });
    await new Promise<void>((resolve) => this.server?.listen(0, "127.0.0.1", resolve));
    const { port } = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString("utf8");
    const body: unknown = text ? JSON.parse(text) : undefined;
    const path = (request.url ?? "").split("?")[0] ?? "";
    this.requests.push({ method: request.method ?? "", path, body });
    const reply = (status: number, payload: unknown) => {
      response.writeHead(status, { "content-type": "application/json" });
      response.end(JSON.stringify(payload));
    };
    const failure = this.failures.shift();
    if (failure !== undefined) {
      reply(failure, {
        error: {
          code: failure,
          message: `injected ${failure}`,
          errors: [{ reason: failure === 429 ? "rateLimitExceeded" : "backendError" }],
        },
      });
      return;
    }
    const insertAll =
      /^\/bigquery\/v2\/projects\/([^/]+)\/datasets\/([^/]+)\/tables\/([^/]+)\/insertAll$/.exec(path);
    if (request.method === "POST" && insertAll) {
      const table = decodeURIComponent(insertAll[3] as string);
      const rows = (body as InsertAllRequest).rows;
      const columns = this.schemas?.get(table);
      if (this.schemas && !columns) {
        reply(404, {
          error: {
            code: 404,
            message: `Not found: Table ${insertAll[1]}:${insertAll[2]}.${table}`,
            errors: [
              { reason: "notFound", message: `Not found: Table ${insertAll[1]}:${insertAll[2]}.${table}` },
            ],
          },
        });
        return;
      }
      const insertErrors = columns
        ? rows.flatMap((row, index) => {
            const unknown = Object.keys(row.json).filter((field) => !columns.includes(field));
            return unknown.length === 0
              ? []
              : [
                  {
                    index,
                    errors: unknown.map((field) => ({
                      reason: "invalid",
                      location: field,
                      message: `no such field: ${field}.`,
                    })),
                  },
                ];
          })
        : [];
      // Values of the wrong type for their column (INT64 range, dates, UTF-8 ...), as BigQuery checks them.
      const types = this.columnTypes;
      if (types) {
        for (const [index, row] of rows.entries()) {
          const errors = rowErrors(types, table, row.json);
          if (errors.length > 0 && !insertErrors.some((refused) => refused.index === index))
            insertErrors.push({ index, errors });
        }
      }
      // As BigQuery without skipInvalidRows: one invalid row and nothing is written.
      if (insertErrors.length > 0) {
        this.refused.push({ table, rows });
        reply(200, { kind: "bigquery#tableDataInsertAllResponse", insertErrors });
        return;
      }
      this.inserts.push({ table, rows });
      const refusal = this.insertRefusals.find((each) => each.table === table && each.times > 0);
      if (refusal) {
        refusal.times--;
        reply(200, {
          kind: "bigquery#tableDataInsertAllResponse",
          insertErrors: rows.map((_, index) => ({
            index,
            errors: [
              index === 0
                ? { ...refusal.error, location: "" }
                : { reason: "stopped", location: "", message: "" },
            ],
          })),
        });
        return;
      }
      const stored = this.tables.get(table) ?? new Map<string, Record<string, unknown>>();
      this.tables.set(table, stored);
      for (const row of rows) stored.set(row.insertId ?? `auto-${stored.size}`, row.json);
      reply(200, { kind: "bigquery#tableDataInsertAllResponse" });
      return;
    }
    const query = /^\/bigquery\/v2\/projects\/([^/]+)\/queries$/.exec(path);
    if (request.method === "POST" && query) {
      if (!this.queryHandler) {
        reply(400, { error: { code: 400, message: "no query handler in this test" } });
        return;
      }
      const denied = this.permissionRefusal(body as QueryRequest, query[1] as string);
      if (denied) {
        reply(403, {
          error: { code: 403, message: denied, errors: [{ reason: "accessDenied", message: denied }] },
        });
        return;
      }
      const where = this.statementLocation(body as QueryRequest);
      const absent = this.missingTable(body as QueryRequest);
      if (absent && !where.refusal) {
        const dataset = (body as QueryRequest).defaultDataset;
        const message = `Not found: Table ${dataset?.projectId}:${dataset?.datasetId}.${absent} was not found in location ${this.datasetLocation}`;
        reply(404, { error: { code: 404, message, errors: [{ reason: "notFound", message }] } });
        return;
      }
      const missing = FakeBigQuery.parameterWithoutValue(body as QueryRequest);
      const refusal = where.refusal ?? (missing ? `Query parameter '${missing}' has no value` : undefined);
      if (refusal) {
        reply(400, {
          error: { code: 400, message: refusal, errors: [{ reason: "invalidQuery", message: refusal }] },
        });
        return;
      }
      try {
        const result = await this.queryHandler(body as QueryRequest);
        const jobId = `job_${++this.jobCounter}`;
        reply(200, {
          kind: "bigquery#queryResponse",
          jobReference: { projectId: query[1], jobId, location: where.location ?? "US" },
          schema: { fields: result.fields },
          rows: result.rows,
          totalRows: String(result.rows.length),
          ...(result.numDmlAffectedRows === undefined
            ? {}
            : { numDmlAffectedRows: result.numDmlAffectedRows }),
          jobComplete: true,
        });
      } catch (error) {
        reply(400, {
          error: { code: 400, message: (error as Error).message, errors: [{ reason: "invalidQuery" }] },
        });
      }
      return;
    }
    reply(404, { error: { code: 404, message: `not faked: ${request.method} ${path}` } });
  }
}
