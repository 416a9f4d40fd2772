// The sink pipeline (sql/sink) over the sample organisation's entries shaped as Log Router sink
// rows, run through ZetaSQL every other day as the scheduled query runs, gives the CLI's
// job_costs, findings, rejected entries and department_costs row for row; a re-run changes
// nothing. The entries are sample/acme/logs (src/sample), both audit formats, with redelivered
// duplicates, jobs logged in both formats, scripts, cache hits, failed, load and reservation
// jobs, table reads (one with a redacted billing project) and a bad int64.
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findingRow as findingRecord } from "../src/cloud/ingest.ts";
import { UnexpectedReadDetector } from "../src/core/detect.ts";
import { FREE_RIDE_KINDS } from "../src/core/findings.ts";
import { toNumericString } from "../src/core/money.ts";
import { assessEntry, ChargebackPipeline, entryContext } from "../src/core/pipeline.ts";
import { parseRegistry } from "../src/core/registry.ts";
import { versionedRegistryTables } from "../src/core/registry-tables.ts";
import { jobCostRecord } from "../src/core/rows.ts";
import type { Finding, JobCost, RejectedEntry } from "../src/core/types.ts";
import { PIPELINE_TABLES, SinkPipeline } from "./support/sink-pipeline.ts";
import { SINK_TABLE, sinkRow } from "./support/sink-rows.ts";
import { type SqlValue, ZetaSql } from "./support/zetasql.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const registryText = readFileSync(`${ROOT}sample/acme/registry.yaml`, "utf8");
const registry = parseRegistry(registryText, "registry.yaml");
const TIME_ZONE = "America/Los_Angeles";
const DAY_MS = 86_400_000;

type Row = Record<string, SqlValue>;

/** The sample's entries; a line that is not JSON cannot be a sink row (Cloud Logging wrote it). */
const entries = readFileSync(`${ROOT}sample/acme/logs/2026-10-v2-and-v1.ndjson`, "utf8")
  .split("\n")
  .flatMap((line, i) => {
    try {
      return [{ entry: JSON.parse(line) as Record<string, any>, line: i + 1, text: line }];
    } catch {
      return [];
    }
  });

/** What the CLI's core makes of the same entries: each job once (the first), reads, rejections. */
function typescriptSide() {
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
      reads.merge(assessed.finding);
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
    error_code: row.error_code === null ? null : Number(row.error_code),
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
const ts = typescriptSide();

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

describe("the sink pipeline gives the CLI's rows", () => {
  it("job_costs: every job once, attributed and priced as the core does", () => {
    const expected = ts.costs.map((cost) => jobCostRecord(cost));
    expect(expected.length).toBeGreaterThan(500);
    const sql = (pipeline.tables.job_costs ?? []).map(jobCostRow);
    expect(byKey(sql, "job_id")).toEqual(
      byKey(
        expected.map((record) => ({ ...record, end_time: iso(record.end_time) })),
        "job_id",
      ),
    );
  });

  it("findings: job findings and unexpected billing projects, with severity and remediation", () => {
    const expected = ts.findings.map(({ finding, day }) =>
      findingRow(findingRecord(finding, day, "").json as Row),
    );
    expect(new Set(expected.map((f) => f.kind)).size).toBe(4);
    const sql = (pipeline.tables.findings ?? []).map(findingRow);
    expect(byKey(sql, "kind", "job_id", "finding_time")).toEqual(
      byKey(expected, "kind", "job_id", "finding_time"),
    );
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
    };
    const report = await zetasql.evaluate(
      readFileSync(`${ROOT}sql/reports/department_costs.sql`, "utf8"),
      PIPELINE_TABLES,
      { job_costs: pipeline.tables.job_costs ?? [], storage_costs: [] },
      params,
    );
    expect(report).toEqual(
      ts.report.departmentCosts.map((row) => ({
        period: row.period,
        department: row.department,
        compute_paid_usd: toNumericString(row.computePaid),
        compute_consumed_usd: toNumericString(row.computeConsumed),
        storage_usd: toNumericString(row.storage),
        free_rides_given_usd: toNumericString(row.freeRidesGiven),
        free_rides_taken_usd: toNumericString(row.freeRidesTaken),
      })),
    );
  });

  it("a re-run of a day changes nothing", async () => {
    const runTime = RUN_TIMES[7] as Date;
    const again = await pipeline.run(runTime.toISOString(), windowRows(runTime));
    expect(again.temp.priced_jobs?.length).toBeGreaterThan(20);
    expect(again.changes).toEqual({ job_costs: [], findings: [], rejected_entries: [] });
  }, 120_000);
});
