// The sink pipeline (sql/sink) over the sample organisation's entries shaped as Log Router sink
// rows, run through ZetaSQL every other day as the scheduled query runs, gives the CLI's
// job_costs, findings, rejected entries and department_costs row for row; a re-run changes
// nothing. The entries are sample/acme/logs (src/sample), both audit formats, with redelivered
// duplicates, jobs logged in both formats, scripts, cache hits, failed, load and reservation
// jobs, table reads (one with a redacted billing project) and a bad int64.
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UnexpectedReadDetector } from "../src/core/detect.ts";
import { FREE_RIDE_KINDS } from "../src/core/findings.ts";
import { assessEntry, ChargebackPipeline, entryContext } from "../src/core/pipeline.ts";
import { parseRegistry, type Registry } from "../src/core/registry.ts";
import { versionedRegistryTables } from "../src/core/registry-tables.ts";
import {
  bigQueryJson,
  DEPARTMENT_COSTS,
  FINDINGS,
  findingRow as findingRecord,
  fromBigQuery,
  JOB_COSTS,
  jobCostRow as jobCostRecord,
} from "../src/core/rows.ts";
import type { Finding, JobCost, RejectedEntry } from "../src/core/types.ts";
import { readSql } from "../src/io/sql-files.ts";
import { PIPELINE_TABLES, SinkPipeline } from "./support/sink-pipeline.ts";
import { SINK_TABLE, sinkRow } from "./support/sink-rows.ts";
import { storageEntry } from "./support/storage-read-entries.ts";
import { type SqlValue, ZetaSql } from "./support/zetasql.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const read = (path: string) => readFileSync(`${ROOT}${path}`, "utf8");
const registryText = readFileSync(`${ROOT}sample/acme/registry.yaml`, "utf8");
const registry = parseRegistry(registryText, "registry.yaml");
const TIME_ZONE = "America/Los_Angeles";
const DAY_MS = 86_400_000;

type Row = Record<string, SqlValue>;

type Entry = { entry: Record<string, any>; line: number; text: string };

/** The sample's entries; a line that is not JSON cannot be a sink row (Cloud Logging wrote it). */
const entries: Entry[] = readFileSync(`${ROOT}sample/acme/logs/2026-10-v2-and-v1.ndjson`, "utf8")
  .split("\n")
  .flatMap((line, i) => {
    try {
      return [{ entry: JSON.parse(line) as Record<string, any>, line: i + 1, text: line }];
    } catch {
      return [];
    }
  });

/** What the CLI's core makes of the same entries: each job once (the first), reads, rejections. */
function typescriptSide(registry: Registry, entries: Entry[]) {
  const context = entryContext(registry, { timeZone: TIME_ZONE });
  const pipeline = new ChargebackPipeline({
    registry,
    timeZone: TIME_ZONE,
    from: "2026-10-01",
    to: "2026-10-31",
  });
  const seen = new Set<string>();
  const costs: JobCost[] = [];
  const reads = new UnexpectedReadDetector(context.view);
  /** A read finding's billing day: the day of its first read. */
  const readDays = new Map<string, string>();
  const rejected: RejectedEntry[] = [];
  for (const { line, text } of entries) {
    const assessed = assessEntry(text, { file: "sample", line }, context);
    pipeline.accept(assessed);
    if (assessed.kind === "rejected") rejected.push(assessed.entry);
    if (assessed.kind === "table_read" && assessed.finding) {
      reads.merge(assessed.finding, assessed.entryKey);
      const key = readKey(assessed.finding);
      if (!readDays.has(key)) readDays.set(key, assessed.usageDate);
    }
    if (assessed.kind !== "job" || seen.has(assessed.job.jobId)) continue;
    seen.add(assessed.job.jobId);
    costs.push(assessed.cost);
  }
  const findings = [
    ...costs.flatMap((cost) => cost.findings.map((finding) => ({ finding, day: cost.usageDate }))),
    ...reads.findings().map((finding) => ({ finding, day: readDays.get(readKey(finding)) ?? "" })),
  ];
  return { costs, findings, rejected, report: pipeline.report() };
}

const readKey = (finding: Finding) => finding.jobId || `${finding.principal}|${finding.time}`;

const iso = (value: SqlValue | undefined) => new Date(String(value)).toISOString();

function jobCostRow(row: Row) {
  const { ingested_at: _ingested, ...rest } = row;
  return {
    ...rest,
    billed_bytes: String(row.billed_bytes),
    slot_ms: String(row.slot_ms),
    processed_bytes: String(row.processed_bytes),
    error_code: row.error_code === null ? null : String(row.error_code),
    end_time: iso(row.end_time),
  };
}

function findingRow(row: Row) {
  return {
    kind: row.kind,
    severity: row.severity,
    job_id: row.job_id,
    billing_project: row.billing_project,
    principal: row.principal,
    data_projects: row.data_projects,
    cost_usd: row.cost_usd,
    remediation: row.remediation,
    finding_time: iso(row.finding_time),
    usage_date: row.usage_date,
  };
}

const byKey = <T extends Record<string, unknown>>(rows: T[], ...keys: string[]) =>
  [...rows].sort((a, b) => {
    const ka = keys.map((k) => String(a[k])).join("|");
    const kb = keys.map((k) => String(b[k])).join("|");
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  });

/** Runs at 00:00 UTC every other day: windows of 3 days and a bit overlap, entries are read twice. */
const RUN_TIMES = Array.from(
  { length: 18 },
  (_, i) => new Date(Date.parse("2026-10-02T00:00:00Z") + i * 2 * DAY_MS),
);
const rows = entries.map(({ entry }) => sinkRow(entry));

function windowRows(runTime: Date): Row[] {
  const start = Math.floor(runTime.getTime() / DAY_MS) * DAY_MS - 3 * DAY_MS;
  return rows.filter((row) => {
    const ms = Date.parse(String(row.timestamp));
    // a day more on each side than the window: the SQL's own WHERE is what is tested
    return ms >= start - DAY_MS && ms < runTime.getTime() + DAY_MS;
  });
}

let zetasql: ZetaSql;
let pipeline: SinkPipeline;
const ts = typescriptSide(registry, entries);

beforeAll(async () => {
  zetasql = await ZetaSql.start();
  const current = versionedRegistryTables(registry, {
    version: "v2-current",
    pushedAt: "2026-09-30T12:00:00Z",
    source: "registry.yaml",
    timeZone: TIME_ZONE,
  });
  // An older push that maps every project to finance: the newest version must be the one used.
  const older = versionedRegistryTables(registry, {
    version: "v1-older",
    pushedAt: "2026-09-01T12:00:00Z",
    source: "registry.yaml",
    timeZone: "UTC",
  });
  const tables: Record<string, Row[]> = {};
  for (const [name, list] of Object.entries(current)) tables[name] = [...list] as Row[];
  for (const [name, list] of Object.entries(older)) {
    const changed =
      name === "registry_projects" ? list.map((row) => ({ ...row, department: "finance" })) : list;
    tables[name]?.push(...(changed as Row[]));
  }
  pipeline = new SinkPipeline(zetasql, tables, SINK_TABLE);
  for (const runTime of RUN_TIMES) await pipeline.run(runTime.toISOString(), windowRows(runTime));
}, 600_000);

afterAll(() => zetasql?.stop());

describe("the sink pipeline's tables", () => {
  for (const file of readdirSync(`${ROOT}sql/sink/ddl`)) {
    it(`sql/sink/ddl/${file} analyses in BigQuery's dialect`, async () => {
      await expect(
        zetasql.analyze(readFileSync(`${ROOT}sql/sink/ddl/${file}`, "utf8"), PIPELINE_TABLES),
      ).resolves.toBeUndefined();
    });
  }
});

/** job_costs as the CLI writes them and as the pipeline left them. */
function jobCosts(side: ReturnType<typeof typescriptSide>, tables: Record<string, Row[]>) {
  const expected = side.costs.map((cost) => bigQueryJson(jobCostRecord(cost), JOB_COSTS));
  return {
    expected: byKey(
      expected.map(
        (record): Record<string, unknown> => ({ ...record, end_time: iso(record.end_time as string) }),
      ),
      "job_id",
    ),
    sql: byKey((tables.job_costs ?? []).map(jobCostRow), "job_id"),
  };
}

function findings(side: ReturnType<typeof typescriptSide>, tables: Record<string, Row[]>) {
  // a finding's billing day is its job's, or its first read's
  const expected = side.findings.map(({ finding, day }) =>
    findingRow(bigQueryJson(findingRecord({ ...finding, usageDate: day }), FINDINGS) as Row),
  );
  return {
    expected: byKey(expected, "kind", "job_id", "finding_time"),
    sql: byKey((tables.findings ?? []).map(findingRow), "kind", "job_id", "finding_time"),
  };
}

describe("the sink pipeline gives the CLI's rows", () => {
  it("job_costs: every job once, attributed and priced as the core does", () => {
    const { expected, sql } = jobCosts(ts, pipeline.tables);
    expect(expected.length).toBeGreaterThan(500);
    expect(sql).toEqual(expected);
  });

  it("findings: job findings and unexpected billing projects, with severity and remediation", () => {
    const { expected, sql } = findings(ts, pipeline.tables);
    expect(new Set(expected.map((f) => f.kind)).size).toBe(4);
    expect(sql).toEqual(expected);
  });

  it("rejected_entries: the parser's reason and message for each bad entry", () => {
    const sql = (pipeline.tables.rejected_entries ?? []).map((row) => ({
      reason: row.reason,
      detail: row.detail,
    }));
    expect(ts.rejected.length).toBeGreaterThan(0);
    expect(byKey(sql, "reason", "detail")).toEqual(
      byKey(
        ts.rejected.map((entry) => ({ reason: entry.reason, detail: entry.detail })),
        "reason",
        "detail",
      ),
    );
  });

  it("department_costs: sql/reports over the pipeline's job_costs equal the CLI's report", async () => {
    const params = {
      from_date: { type: "DATE" as const, value: "2026-10-01" },
      to_date: { type: "DATE" as const, value: "2026-10-31" },
      granularity: { type: "STRING" as const, value: "month" },
      departments: { type: { array: "STRING" as const }, value: registry.departments.map((d) => d.id) },
      free_ride_kinds: { type: { array: "STRING" as const }, value: [...FREE_RIDE_KINDS] },
      free_tier: { type: "STRING" as const, value: registry.freeTier },
    };
    const report = await zetasql.evaluate(
      readSql("reports/department_costs.sql"),
      PIPELINE_TABLES,
      { job_costs: pipeline.tables.job_costs ?? [], storage_costs: [] },
      params,
    );
    expect(report.map((row) => fromBigQuery(row, DEPARTMENT_COSTS))).toEqual(ts.report.departmentCosts);
  });

  it("a re-run of a day changes nothing", async () => {
    const runTime = RUN_TIMES[7] as Date;
    const again = await pipeline.run(runTime.toISOString(), windowRows(runTime));
    expect(again.temp.priced_jobs?.length).toBeGreaterThan(20);
    expect(again.changes).toEqual({ job_costs: [], findings: [], rejected_entries: [] });
  }, 120_000);
});

// The real captures of test/fixtures (v1 and v2, shared/reference/real-audit-logs) and the v2
// fixture run by each form of Google-managed account (issue 11 C.14, test/google-accounts.test.ts)
// in a project whose number the registry lists and in one whose it does not.
const GOOGLE_ACCOUNTS = [
  "service-123456789012@gcp-sa-bigquerydatatransfer.iam.gserviceaccount.com",
  "123456789012-compute@developer.gserviceaccount.com",
  "service-p123456789012@compute-system.iam.gserviceaccount.com",
  "123456789012@cloudservices.gserviceaccount.com",
  "acme-fin-bi@appspot.gserviceaccount.com",
  "someone-else@appspot.gserviceaccount.com",
  "service-999999999999@gcp-sa-bigquerydatatransfer.iam.gserviceaccount.com",
  "999999999999-compute@developer.gserviceaccount.com",
  "robot@system.gserviceaccount.com",
  "service-123456789012@gcp-sa-notanumber.iam.gserviceaccount.com",
];

function fixtureEntries(): Entry[] {
  const read = (path: string) => readFileSync(`${ROOT}test/fixtures/${path}`, "utf8");
  const texts = readdirSync(`${ROOT}test/fixtures/entries`)
    .filter((file) => file.endsWith(".json"))
    .map((file) => read(`entries/${file}`));
  const base = JSON.parse(read("functions/v2-jobchange-done.json"));
  texts.push(JSON.stringify(base));
  // Job labels (issue 11, Beyond): the v2 fixture's jobConfig.labels and the real v1 capture's
  // jobConfiguration.labels, run by ours, by an outsider and with a value no department lists.
  const LABELLED: [string, string, Record<string, string>][] = [
    ["carol@acme.example", "acme-fin-bi", { team: "growth" }],
    ["joe@mkt.acme.example", "acme-fin-bi", { team: "ledger", env: "prod" }],
    ["pat@partner-x.example", "acme-fin-bi", { team: "ledger" }],
    ["carol@acme.example", "acme-fin-bi", { team: "unheard-of" }],
  ];
  LABELLED.forEach(([principal, project, labels], i) => {
    const log = structuredClone(base);
    log.insertId = `labelled-${i}`;
    log.protoPayload.authenticationInfo.principalEmail = principal;
    log.protoPayload.metadata.jobChange.job.jobName = `projects/${project}/jobs/labelled_${i}`;
    log.protoPayload.metadata.jobChange.job.jobConfig.labels = labels;
    texts.push(JSON.stringify(log));
  });
  // Views (issue 11, Beyond): a view's project is a data project, in v2 and v1.
  const viewed = structuredClone(base);
  viewed.insertId = "viewed-v2";
  viewed.protoPayload.metadata.jobChange.job.jobName = "projects/acme-fin-bi/jobs/viewed_v2";
  viewed.protoPayload.metadata.jobChange.job.jobStats.queryStats.referencedViews = [
    "projects/acme-mkt-bi/datasets/shared/tables/campaign_revenue_v",
  ];
  texts.push(JSON.stringify(viewed));
  const viewedV1 = JSON.parse(read("entries/v1-jobcompleted.google-cloudevents.json"));
  viewedV1.insertId = "viewed-v1";
  viewedV1.protoPayload.serviceData.jobCompletedEvent.job.jobName.jobId = "viewed_v1";
  viewedV1.protoPayload.serviceData.jobCompletedEvent.job.jobStatistics.referencedViews = [
    { projectId: "acme-fin-lake", datasetId: "shared", tableId: "ledger_v" },
  ];
  texts.push(JSON.stringify(viewedV1));
  const v1 = JSON.parse(read("entries/v1-jobcompleted.google-cloudevents.json"));
  v1.insertId = "labelled-v1";
  v1.protoPayload.authenticationInfo.principalEmail = "robot@acme-etl.iam.gserviceaccount.com";
  v1.protoPayload.serviceData.jobCompletedEvent.job.jobName.projectId = "acme-etl";
  v1.protoPayload.serviceData.jobCompletedEvent.job.jobConfiguration.labels = { team: "growth" };
  texts.push(JSON.stringify(v1));
  GOOGLE_ACCOUNTS.forEach((principal, i) => {
    for (const project of ["acme-fin-bi", "acme-mkt-bi"]) {
      const log = structuredClone(base);
      log.insertId = `google-${i}-${project}`;
      log.protoPayload.authenticationInfo.principalEmail = principal;
      const job = log.protoPayload.metadata.jobChange.job;
      job.jobName = `projects/${project}/jobs/scheduled_query_${i}`;
      log.resource.labels.project_id = project;
      texts.push(JSON.stringify(log));
    }
  });
  // The Storage Read API (issue 11, Beyond): an outsider's session billed to finance (its creation,
  // two ReadRows and one redelivered), a marketing user's, one in a region without a price, and
  // marketing's own session.
  const outsider = { principal: "pat@partner-x.example", sessionProject: "acme-fin-bi" };
  for (const entry of [
    storageEntry({ ...outsider, reason: "CREATE_READ_SESSION", insertId: "sr-create" }),
    storageEntry({ ...outsider, insertId: "sr-rows-1", scannedBytes: 3n * 2n ** 39n }),
    storageEntry({
      ...outsider,
      insertId: "sr-rows-2",
      scannedBytes: 2n ** 40n / 3n,
      timestamp: "2026-10-14T17:03:00Z",
    }),
    storageEntry({
      ...outsider,
      insertId: "sr-rows-2",
      scannedBytes: 2n ** 40n / 3n,
      timestamp: "2026-10-14T17:03:00Z",
    }),
    storageEntry({
      principal: "joe@mkt.acme.example",
      sessionProject: "acme-fin-bi",
      insertId: "sr-mkt",
      session: "S2",
    }),
    storageEntry({ ...outsider, insertId: "sr-asia", location: "asia-northeast1", session: "S3" }),
    storageEntry({
      principal: "joe@mkt.acme.example",
      sessionProject: "acme-mkt-bi",
      insertId: "sr-own",
      session: "S4",
    }),
  ])
    texts.push(JSON.stringify(entry));
  return texts.map((text, i) => ({ entry: JSON.parse(text), line: i + 1, text }));
}

describe("the sink pipeline on the real captures and Google's own accounts", () => {
  const fixtureRegistry = parseRegistry(
    `${read("test/fixtures/functions/registry.yaml")
      .replace(
        "principals: [carol@acme.example]",
        "principals: [carol@acme.example]\n    labels: [team:ledger]",
      )
      .replace(
        'principals: ["*@mkt.acme.example"]',
        'principals: ["*@mkt.acme.example"]\n    labels: [team:growth]',
      )}\nproject_numbers:\n  acme-fin-bi: 123456789012\nlabel_keys: [team]\n`,
    "registry.yaml",
  );
  const fixtures = fixtureEntries();
  const side = typescriptSide(fixtureRegistry, fixtures);
  let tables: Record<string, Row[]>;

  beforeAll(async () => {
    const registryRows = versionedRegistryTables(fixtureRegistry, {
      version: "fixtures",
      pushedAt: "2020-01-01T00:00:00Z",
      source: "registry.yaml",
      timeZone: TIME_ZONE,
    }) as unknown as Record<string, Row[]>;
    const fixturePipeline = new SinkPipeline(zetasql, registryRows, SINK_TABLE);
    const sinkRows = fixtures.map(({ entry }) => sinkRow(entry));
    // one run the day after each day that has entries
    const days = [...new Set(sinkRows.map((row) => String(row.timestamp).slice(0, 10)))].sort();
    for (const day of days) {
      const runTime = new Date(Date.parse(`${day}T00:00:00Z`) + DAY_MS).toISOString();
      await fixturePipeline.run(runTime, sinkRows);
    }
    tables = fixturePipeline.tables;
  }, 300_000);

  it("job_costs", () => {
    const { expected, sql } = jobCosts(side, tables);
    // labels named the consumer of ours' jobs (v2 and v1), not of the outsider's
    const consumerOf = (id: string) =>
      expected.find((row) => String(row.job_id).includes(id))?.consumer_department;
    expect([0, 1, 2, 3].map((i) => consumerOf(`labelled_${i}`))).toEqual([
      "marketing",
      "finance",
      "external:partner-x.example",
      "finance",
    ]);
    expect(consumerOf("acme-etl:US.bqjob_r3ac45813612fa2d6")).toBe("marketing");
    // a view's project is a data project
    const dataOf = (id: string) => expected.find((row) => String(row.job_id).includes(id))?.data_projects;
    expect(dataOf("viewed_v2")).toEqual(["acme-mkt-bi", "px-data"]);
    expect(dataOf("viewed_v1")).toEqual(["acme-fin-lake", "bigquery-samples"]);
    expect(new Set(expected.map((row) => row.audit_format))).toEqual(new Set(["v1", "v2"]));
    expect([...new Set(expected.map((row) => row.principal_kind))]).toEqual(
      expect.arrayContaining(["google_agent", "service_account", "external", "partner"]),
    );
    expect(sql).toEqual(expected);
  });

  it("findings, unregistered project numbers among them", () => {
    const { expected, sql } = findings(side, tables);
    // a marketing user's finance-labelled job in finance's project: the grant is marketing's
    expect(expected.find((row) => String(row.job_id).includes("labelled_1"))?.remediation).toContain(
      "marketing should run its jobs",
    );
    expect(expected.some((row) => row.kind === "unregistered_project_number")).toBe(true);
    const storageReads = expected.filter((row) => row.kind === "storage_read_free_ride");
    expect(storageReads.map((row) => [row.severity, row.cost_usd])).toEqual([
      ["high", "0.000000000"],
      ["high", "2.016666667"],
      ["medium", "2.200000000"],
    ]);
    expect(sql).toEqual(expected);
  });
});
