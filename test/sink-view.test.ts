// The view over a raw Log Router sink table extracts the same jobs as the TypeScript parser from
// the same entries, once each. The sink table's schema below is the subset of Google's export
// schema the view reads (shared/reference/audit-log-formats.md §5.2: protopayload_auditlog with
// metadataJson for v2 and the typed servicedata_v1_bigquery record for v1).
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseEntry } from "../src/core/parse.ts";
import type { JobEvent } from "../src/core/types.ts";
import { SINK_TABLE, sinkRow } from "./support/sink-rows.ts";
import { type SqlValue, ZetaSql } from "./support/zetasql.ts";

const VIEW = readFileSync(new URL("../sql/views/jobs_from_log_sink.sql", import.meta.url), "utf8");
const fixture = (path: string) =>
  JSON.parse(readFileSync(new URL(`./fixtures/${path}`, import.meta.url), "utf8"));

const SINK = SINK_TABLE;

let zetasql: ZetaSql;
beforeAll(async () => {
  zetasql = await ZetaSql.start();
}, 60_000);
afterAll(() => zetasql?.stop());

describe("the view over a raw Log Router sink table", () => {
  it("analyses in BigQuery's dialect", async () => {
    await expect(zetasql.analyze(VIEW, [SINK])).resolves.toBeUndefined();
  });

  it("is valid on a sink that has only ever received v2 entries (no v1 columns at all)", async () => {
    const v2Only = structuredClone(SINK);
    const payload = v2Only.columns.find((column) => column.name === "protopayload_auditlog");
    if (!payload) throw new Error("the sink schema has no protopayload_auditlog");
    const fields = (payload.type as { struct: { name: string }[] }).struct;
    fields.splice(
      fields.findIndex((field) => field.name === "servicedata_v1_bigquery"),
      1,
    );
    await expect(zetasql.analyze(VIEW, [v2Only])).resolves.toBeUndefined();
    const v2 = fixture("functions/v2-jobchange-done.json");
    const { servicedata_v1_bigquery: _absent, ...payloadRow } = sinkRow(v2).protopayload_auditlog as Record<
      string,
      SqlValue
    >;
    const query = VIEW.replace(/^[\s\S]*?CREATE VIEW IF NOT EXISTS jobs_from_log_sink AS\n/, "");
    const rows = await zetasql.evaluate(query, [v2Only], {
      [SINK.name]: [{ ...sinkRow(v2), protopayload_auditlog: payloadRow }],
    });
    expect(rows.map((row) => row.audit_format)).toEqual(["v2"]);
  });

  it("reads a v1 job's reservation, from reservationUsage where the entry has no reservation and it names one", async () => {
    const v1 = fixture("entries/v1-jobcompleted.google-cloudevents.json");
    const stats = v1.protoPayload.serviceData.jobCompletedEvent.job.jobStatistics;
    delete stats.reservation;
    stats.reservationUsage = [{ name: "projects/acme-admin/locations/US/reservations/prod", slotMs: "46" }];
    const withJobId = (suffix: string, change: (job: Record<string, any>) => void) => {
      const entry = structuredClone(v1);
      const job = entry.protoPayload.serviceData.jobCompletedEvent.job;
      job.jobName.jobId = `${job.jobName.jobId}_${suffix}`;
      change(job);
      return entry;
    };
    const named = withJobId("named", (job) => {
      job.jobStatistics.reservation = "projects/acme-admin/locations/US/reservations/batch";
    });
    // two names (Google: "reported misleading information"): no reservation is guessed
    const mixed = withJobId("mixed", (job) => {
      job.jobStatistics.reservationUsage = [
        { name: "unreserved", slotMs: "10" },
        { name: "projects/acme-admin/locations/US/reservations/prod", slotMs: "36" },
      ];
    });
    const query = VIEW.replace(/^[\s\S]*?CREATE VIEW IF NOT EXISTS jobs_from_log_sink AS\n/, "");
    const rows = await zetasql.evaluate(query, [SINK], { [SINK.name]: [v1, named, mixed].map(sinkRow) });
    const reservationOf = (entry: unknown) =>
      (parseEntry(entry, "", { file: "f", line: 1 }) as JobEvent).reservation;
    for (const entry of [v1, named, mixed]) {
      const job = parseEntry(entry, "", { file: "f", line: 1 }) as JobEvent;
      expect(rows.find((row) => row.job_id === job.jobId)?.reservation).toBe(job.reservation);
    }
    expect(reservationOf(v1)).toBe("projects/acme-admin/locations/US/reservations/prod");
    expect(reservationOf(named)).toBe("projects/acme-admin/locations/US/reservations/batch");
    expect(reservationOf(mixed)).toBe("");
  });

  it("extracts the jobs the parser extracts, once each, both formats", async () => {
    const v2 = fixture("functions/v2-jobchange-done.json");
    const v1 = fixture("entries/v1-jobcompleted.google-cloudevents.json");
    const running = structuredClone(v2);
    running.protoPayload.metadata.jobChange.after = "RUNNING";
    running.protoPayload.metadata.jobChange.job.jobName = "projects/acme-fin-bi/jobs/still_running";
    const duplicate = { ...structuredClone(v2), insertId: "again", timestamp: "2026-10-14T17:05:00Z" };
    const query = VIEW.replace(/^[\s\S]*?CREATE VIEW IF NOT EXISTS jobs_from_log_sink AS\n/, "");
    const rows = await zetasql.evaluate(query, [SINK], {
      [SINK.name]: [v2, v1, running, duplicate].map(sinkRow),
    });
    const parsed = [v2, v1].map((entry) => parseEntry(entry, "", { file: "f", line: 1 }) as JobEvent);
    expect(rows.map((row) => row.job_id).sort()).toEqual(parsed.map((job) => job.jobId).sort());
    for (const job of parsed) {
      const row = rows.find((r) => r.job_id === job.jobId);
      expect(row).toMatchObject({
        billing_project: job.billingProject,
        location: job.location,
        principal: job.principal,
        statement_type: job.statementType,
        billed_bytes: job.billedBytes,
        slot_ms: job.slotMs,
        cache_hit: job.cacheHit,
        audit_format: job.format,
        reservation: job.reservation,
        end_time: new Date(job.endTimeMs).toISOString(),
        data_projects: [...new Set(job.referencedTables.map((t) => t.split("/")[1]))].sort(),
      });
    }
  });
});
