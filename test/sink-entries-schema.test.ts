// A Log Router sink's BigQuery table has the columns of the entries it has received: the Log
// Router adds a column when an entry first carries a field (cloud.google.com/logging/docs/export/
// bigquery, "schema"). A sink that only ever got v2 entries has no servicedata_v1_bigquery at all,
// and one whose v1 entries never carried a field (no extract job, no dry run, no reservation) has
// no column for it. sql/sink/00_sink_entries.sql, the one extraction of the sink's rows, must run
// on every such table and read the same job from it.
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SINK_STEPS } from "./support/sink-pipeline.ts";
import { SINK_TABLE, sinkRow } from "./support/sink-rows.ts";
import { type SqlType, type SqlValue, type TableSchema, ZetaSql } from "./support/zetasql.ts";

const ENTRIES = (SINK_STEPS.find((step) => step.file === "00_sink_entries.sql")?.sql ?? "").replace(
  /^[\s\S]*?CREATE TEMP TABLE sink_entries AS\n/,
  "",
);
const fixture = (path: string) =>
  JSON.parse(readFileSync(new URL(`./fixtures/${path}`, import.meta.url), "utf8"));

type Struct = { struct: { name: string; type: SqlType }[] };

/** A copy of the sink table without the column at `path` (protopayload_auditlog.a.b...). */
function without(path: string[], from: TableSchema = SINK_TABLE): TableSchema {
  const table = structuredClone(from);
  let fields = table.columns as { name: string; type: SqlType }[];
  for (const name of path.slice(0, -1)) {
    const field = fields.find((f) => f.name === name);
    if (!field) throw new Error(`the sink schema has no ${path.join(".")}`);
    fields = (field.type as Struct).struct;
  }
  const at = fields.findIndex((f) => f.name === path.at(-1));
  if (at < 0) throw new Error(`the sink schema has no ${path.join(".")}`);
  fields.splice(at, 1);
  return table;
}

let zetasql: ZetaSql;
beforeAll(async () => {
  zetasql = await ZetaSql.start();
}, 60_000);
afterAll(() => zetasql?.stop());

async function jobsOn(
  table: TableSchema,
  entry: Record<string, unknown>,
): Promise<Record<string, SqlValue>[]> {
  await zetasql.analyze(ENTRIES, [table], { run_time: "TIMESTAMP" });
  // the run an hour after the entry: its window holds it
  const runTime = new Date(Date.parse(String(entry.timestamp)) + 3_600_000).toISOString();
  const rows = await zetasql.evaluate(
    ENTRIES,
    [table],
    { [table.name]: [sinkRow(entry)] },
    { run_time: { type: "TIMESTAMP" as SqlType, value: runTime } },
  );
  return rows.filter((row) => row.entry_kind === "job");
}

describe("sql/sink/00_sink_entries.sql on the columns a sink table really has", () => {
  it("runs on a sink that has only ever received v2 entries (no v1 column at all)", async () => {
    const v2 = fixture("functions/v2-jobchange-done.json");
    const jobs = await jobsOn(without(["protopayload_auditlog", "servicedata_v1_bigquery"]), v2);
    expect(jobs.map((job) => [job.audit_format, job.billing_project])).toEqual([["v2", "acme-fin-bi"]]);
  });

  it("reads a v1 job whose fields the table has no column for as the full table reads it", async () => {
    const v1 = fixture("entries/v1-jobcompleted.google-cloudevents.json");
    const [full] = await jobsOn(SINK_TABLE, v1);
    const job = ["protopayload_auditlog", "servicedata_v1_bigquery", "jobCompletedEvent", "job"];
    const narrow = [
      [...job, "jobConfiguration", "dryRun"],
      [...job, "jobConfiguration", "extract"],
      [...job, "jobStatistics", "reservation"],
      [...job, "jobStatistics", "referencedViews"],
      [...job, "jobConfiguration", "labels"],
    ].reduce((table, path) => without(path, table), SINK_TABLE);
    const [read] = await jobsOn(narrow, v1);
    expect(full?.audit_format).toBe("v1");
    expect(read).toEqual(full);
  });
});
