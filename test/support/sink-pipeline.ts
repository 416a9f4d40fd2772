// Runs sql/sink through ZetaSQL as the scheduled query runs it in BigQuery, one run at a time:
// each CREATE TEMP TABLE's SELECT is evaluated and its rows become the next step's table; each
// MERGE's source (the USING subquery: exactly the rows the MERGE writes or deletes) is evaluated
// against the tables as they stand and applied to them here, because ZetaSQL analyses MERGE but
// does not evaluate it. The MERGE statements themselves are analysed against the same catalog.
import { fileURLToPath } from "node:url";
import { sinkSteps } from "../../src/deploy/sink-script.ts";
import {
  ddlTables,
  type SqlType,
  type SqlValue,
  sqlTypeOf,
  type TableSchema,
  type ZetaSql,
} from "./zetasql.ts";

const SQL = fileURLToPath(new URL("../../sql/", import.meta.url));
export const SINK_STEPS = sinkSteps();

/** The tables of sql/ddl (job_costs, findings, ...) and sql/sink/ddl (registry, price book, runs). */
export const PIPELINE_TABLES: TableSchema[] = [...ddlTables(`${SQL}ddl`), ...ddlTables(`${SQL}sink/ddl`)];

type Row = Record<string, SqlValue>;

const TEMP = /CREATE TEMP TABLE (\w+) AS\n([\s\S]*)$/;

/** The USING (...) AS s subquery of a MERGE. */
export function mergeSource(sql: string): string {
  const start = sql.indexOf("USING (\n");
  const end = sql.indexOf("\n) AS s\nON ");
  if (start < 0 || end < 0) throw new Error("no USING (\n...\n) AS s\nON in the MERGE");
  return sql.slice(start + "USING (\n".length, end);
}

function mergeTarget(sql: string): string {
  const match = /^MERGE (\w+) AS t$/m.exec(sql);
  if (!match) throw new Error("no MERGE <table> AS t");
  return match[1] as string;
}

/** The key a MERGE matches on, per target table (the ON clause of each file). */
const KEYS: Record<string, (row: Row) => string> = {
  job_costs: (row) => String(row.job_id),
  findings: (row) =>
    `${row.kind}|${row.job_id}|${row.job_id === "" ? `${row.principal}|${String(row.finding_time)}` : ""}`,
  rejected_entries: (row) => String(row.source),
};

export interface RunResult {
  /** Rows each MERGE source produced: what the run changed. */
  changes: Record<string, Row[]>;
  temp: Record<string, Row[]>;
}

export class SinkPipeline {
  private readonly zetasql: ZetaSql;
  /** Permanent tables: the sink, the registry tables, and the outputs the MERGEs keep. */
  readonly tables: Record<string, Row[]>;
  private readonly schemas = new Map<string, TableSchema>();

  constructor(zetasql: ZetaSql, tables: Record<string, Row[]>, sink: TableSchema) {
    this.zetasql = zetasql;
    this.tables = { job_costs: [], findings: [], rejected_entries: [], ...tables };
    for (const table of [...PIPELINE_TABLES, sink]) this.schemas.set(table.name, table);
  }

  private catalog(extra: TableSchema[]): TableSchema[] {
    return [...this.schemas.values(), ...extra];
  }

  /** One scheduled run at @run_time; `sinkRows` are the sink rows sent (a superset of the window). */
  async run(runTime: string, sinkRows: Row[]): Promise<RunResult> {
    const params = { run_time: { type: "TIMESTAMP" as SqlType, value: runTime } };
    const temp: Record<string, Row[]> = {};
    const tempSchemas: TableSchema[] = [];
    const changes: Record<string, Row[]> = {};
    const data = () => ({ ...this.tables, ...temp, cloudaudit_googleapis_com_data_access: sinkRows });
    for (const step of SINK_STEPS) {
      const created = TEMP.exec(step.sql);
      if (created) {
        const [, name = "", body = ""] = created;
        const result = await this.zetasql.evaluateWithSchema(body, this.catalog(tempSchemas), data(), params);
        temp[name] = result.rows;
        tempSchemas.push({
          name,
          columns: result.columns.map((column) => ({ name: column.name, type: sqlTypeOf(column.type) })),
        });
        continue;
      }
      await this.zetasql.analyze(step.sql, this.catalog(tempSchemas), { run_time: "TIMESTAMP" });
      if (!step.sql.includes("\nMERGE ")) continue; // the run log (INSERT INTO sink_runs)
      const target = mergeTarget(step.sql);
      const rows = await this.zetasql.evaluate(
        mergeSource(step.sql),
        this.catalog(tempSchemas),
        data(),
        params,
      );
      changes[target] = rows;
      this.apply(target, rows);
    }
    return { changes, temp };
  }

  /** MERGE semantics: matched rows updated (or deleted), the others inserted. */
  private apply(target: string, rows: Row[]): void {
    const key = KEYS[target];
    if (!key) throw new Error(`no key for ${target}`);
    const columns = this.schemas.get(target)?.columns.map((column) => column.name) ?? [];
    const stored = new Map((this.tables[target] ?? []).map((row) => [key(row), row]));
    for (const row of rows) {
      if (row.merge_action === "delete") {
        stored.delete(key(row));
        continue;
      }
      stored.set(key(row), Object.fromEntries(columns.map((column) => [column, row[column] ?? null])));
    }
    this.tables[target] = [...stored.values()];
  }
}
