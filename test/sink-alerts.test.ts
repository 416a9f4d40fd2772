// Sink mode's alerts end to end: raiseSinkAlerts on the real functions-framework server, given
// the Pub/Sub push that Eventarc delivers for the BigQuery Data Transfer Service's run
// notification (message.data = the TransferRun as JSON, attributes eventType
// TRANSFER_RUN_FINISHED and payloadFormat JSON_API_V1: cloud.google.com/bigquery/docs/
// transfer-run-notifications; fields from google/cloud/bigquery/datatransfer/v1/transfer.proto),
// querying through the real BigQuery client a local endpoint that speaks jobs.query, where
// ZetaSQL evaluates the statements of sql/sink/alerts over the findings and sink_runs tables.
// The endpoint refuses what BigQuery refuses: a job in another location than the dataset's, a
// table that does not exist, a statement the caller's roles do not permit.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ALERT_NAME, alertPayload } from "../src/cloud/alerts.ts";
import { ALERTING_KINDS } from "../src/core/findings.ts";
import { bigQueryJson, FINDINGS, findingRow } from "../src/core/rows.ts";
import type { Finding } from "../src/core/types.ts";
import { FakeBigQuery } from "./support/fake-bigquery.ts";
import { FunctionServer } from "./support/function-server.ts";
import { sampleOrganisation } from "./support/sample-rows.ts";
import { PIPELINE_TABLES } from "./support/sink-pipeline.ts";
import { type SqlValue, ZetaSql } from "./support/zetasql.ts";
import { ZetaSqlTables } from "./support/zetasql-tables.ts";

const REGISTRY = new URL("../sample/acme/registry.yaml", import.meta.url).pathname;
/** What deploy/sink-mode.sh grants the function's account (test/deploy.test.ts holds it to that). */
const DEPLOYED_ROLES = ["roles/bigquery.dataEditor", "roles/bigquery.jobUser"];
const CONFIG = "projects/123456789012/locations/us/transferConfigs/6f1c2a3b-0000-2d4e-9f8a-089e08e4d7a1";
const TOPIC = "projects/acme-chargeback/topics/bq-chargeback-sink-runs";

const sample = sampleOrganisation("month", "2026-10-01", "2026-10-31");

let zetasql: ZetaSql;
let bigquery: FakeBigQuery;
let tables: ZetaSqlTables;
let server: FunctionServer;
let messages = 0;

beforeAll(async () => {
  zetasql = await ZetaSql.start();
  bigquery = new FakeBigQuery();
  const endpoint = await bigquery.start();
  server = await FunctionServer.start({
    target: "raiseSinkAlerts",
    signatureType: "cloudevent",
    env: {
      GOOGLE_CLOUD_PROJECT: "acme-chargeback",
      BQ_CHARGEBACK_DATASET: "bq_chargeback",
      BQ_CHARGEBACK_REGISTRY: REGISTRY,
      BQ_CHARGEBACK_LOCATION: "US",
      BIGQUERY_API_ENDPOINT: endpoint,
    },
  });
}, 60_000);

afterAll(async () => {
  await server?.stop();
  await bigquery?.stop();
  zetasql?.stop();
});

beforeEach(() => {
  tables = new ZetaSqlTables(zetasql, PIPELINE_TABLES);
  bigquery.queryHandler = tables.handler;
  bigquery.schemas = new Map(PIPELINE_TABLES.map((table) => [table.name, table.columns.map((c) => c.name)]));
  bigquery.roles = [...DEPLOYED_ROLES];
  bigquery.datasetLocation = "US";
});

/** The pipeline's run at `runTime` wrote these findings (and recorded itself in sink_runs). */
function pipelineRan(runTime: string, findings: Finding[]) {
  tables.rows.findings?.push(
    ...findings.map(
      (finding) =>
        ({ ...bigQueryJson(findingRow(finding), FINDINGS), ingested_at: runTime }) as Record<
          string,
          SqlValue
        >,
    ),
  );
  tables.rows.sink_runs?.push({
    run_time: runTime,
    window_start: new Date(Date.parse(runTime.slice(0, 10)) - 3 * 86_400_000).toISOString(),
    window_end: runTime,
    registry_version: "v-test",
    jobs: 100n,
    table_reads: 10n,
    rejected: 0n,
    alerts_claim: null,
    alerts_claimed_at: null,
    alerts: null,
  });
}

/** The TransferRun of a finished run, as the Data Transfer Service publishes it. */
function transferRun(runTime: string, state = "SUCCEEDED") {
  return {
    name: `${CONFIG}/runs/6f2${runTime.replace(/\D/g, "")}`,
    destinationDatasetId: "",
    scheduleTime: runTime,
    runTime,
    startTime: runTime.replace("Z", ".412907Z"),
    endTime: runTime.replace(":00Z", ":41.650122Z"),
    updateTime: runTime.replace(":00Z", ":41.650122Z"),
    params: { query: "SET @@dataset_project_id = 'acme-chargeback'; ..." },
    dataSourceId: "scheduled_query",
    state,
    userId: "-4316209153937041573",
    schedule: "every 6 hours",
    notificationPubsubTopic: TOPIC,
    emailPreferences: {},
    ...(state === "FAILED"
      ? { errorStatus: { code: 3, message: "Query error: Table bq_chargeback.findings was not found" } }
      : {}),
  };
}

/** Eventarc's push of one Pub/Sub message: a binary-mode CloudEvent around MessagePublishedData. */
function pushMessage(payload: unknown, messageId = `run-msg-${++messages}`) {
  return fetch(server.url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "ce-specversion": "1.0",
      "ce-id": messageId,
      "ce-source": `//pubsub.googleapis.com/${TOPIC}`,
      "ce-type": "google.cloud.pubsub.topic.v1.messagePublished",
      "ce-time": "2026-10-20T06:03:42.101Z",
    },
    body: JSON.stringify({
      message: {
        data: Buffer.from(typeof payload === "string" ? payload : JSON.stringify(payload)).toString("base64"),
        attributes: { eventType: "TRANSFER_RUN_FINISHED", payloadFormat: "JSON_API_V1" },
        messageId,
        publishTime: "2026-10-20T06:03:42.101Z",
      },
      subscription: "projects/acme-chargeback/subscriptions/eventarc-us-bq-chargeback-sink-alerts-sub",
    }),
  });
}

const alertLines = () => server.jsonLines().filter((line) => line.alert === ALERT_NAME);
const statusLines = () =>
  server.jsonLines().filter((line) => typeof line.message === "string" && !("alert" in line));

/** The line function mode writes for a finding, its time compared as an instant. */
const comparable = (line: Record<string, unknown>) => {
  const finding = line.finding as Record<string, unknown>;
  return { ...line, finding: { ...finding, finding_time: Date.parse(String(finding.finding_time)) } };
};

/** Findings of the sample in the 5 days the pipeline's MERGE writes before the run's day. */
function findingsBefore(day: string): Finding[] {
  const from = new Date(Date.parse(day) - 5 * 86_400_000).toISOString().slice(0, 10);
  return sample.findings.filter((f) => f.usageDate >= from && f.usageDate <= day);
}

describe("raiseSinkAlerts on the functions-framework server", { timeout: 60_000 }, () => {
  it("writes function mode's alert line for each finding of the run of an alerting kind, and no other", async () => {
    const earlier = findingsBefore("2026-10-14");
    const run = findingsBefore("2026-10-20").filter((f) => !earlier.includes(f));
    pipelineRan("2026-10-14T06:00:00Z", earlier);
    pipelineRan("2026-10-20T06:00:00Z", run);
    const alerting = run.filter((f) => ALERTING_KINDS.includes(f.kind));
    // the sample's run holds kinds that alert and kinds that do not
    const kinds = new Set(run.map((f) => f.kind));
    expect([...kinds].filter((kind) => ALERTING_KINDS.includes(kind)).length).toBeGreaterThanOrEqual(2);
    expect([...kinds].some((kind) => !ALERTING_KINDS.includes(kind))).toBe(true);
    expect(alerting.length).toBeGreaterThan(2);
    expect(alerting.length).toBeLessThan(run.length);

    const before = alertLines().length;
    const response = await pushMessage(transferRun("2026-10-20T06:00:00Z"));
    expect(response.status).toBeLessThan(300);
    const written = alertLines().slice(before);
    const expected = alerting
      .map((finding) => JSON.parse(JSON.stringify(alertPayload(finding))))
      .sort((a, b) => JSON.stringify(comparable(a)).localeCompare(JSON.stringify(comparable(b))));
    expect(
      written.map(comparable).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
    ).toEqual(expected.map(comparable));
    // the run records that its alerts were raised, and how many
    const recorded = tables.rows.sink_runs?.find((r) => r.run_time === "2026-10-20T06:00:00Z");
    expect(recorded?.alerts).toBe(BigInt(alerting.length));
    expect(recorded?.alerts_claim).toMatch(/^[0-9a-f-]{36}$/);
    // the alerting kinds reached the SQL as a parameter, not as text
    const query = tables.statements.find((s) => s.query.includes("FROM findings"));
    expect(query?.query).not.toMatch(/external_free_ride/);
  });

  it("raises a run's alerts once: a redelivery, a second notification and simultaneous deliveries write nothing more", async () => {
    const findings = findingsBefore("2026-10-20").filter((f) => ALERTING_KINDS.includes(f.kind));
    pipelineRan("2026-10-20T12:00:00Z", findings);
    const before = alertLines().length;
    const [first, second, third] = await Promise.all([
      pushMessage(transferRun("2026-10-20T12:00:00Z"), "same-run-1"),
      pushMessage(transferRun("2026-10-20T12:00:00Z"), "same-run-2"),
      pushMessage(transferRun("2026-10-20T12:00:00Z"), "same-run-3"),
    ]);
    for (const response of [first, second, third]) expect(response?.status).toBeLessThan(300);
    expect(alertLines().length - before).toBe(findings.length);
    // Pub/Sub redelivers the first message
    const redelivered = await pushMessage(transferRun("2026-10-20T12:00:00Z"), "same-run-1");
    expect(redelivered.status).toBeLessThan(300);
    expect(alertLines().length - before).toBe(findings.length);
    expect(statusLines().at(-1)?.message).toMatch(/already_raised$/);
  });

  it("raises nothing for a failed run and says so; acknowledges what is no transfer run, and a run the pipeline did not record", async () => {
    pipelineRan("2026-10-21T00:00:00Z", findingsBefore("2026-10-21"));
    const before = alertLines().length;
    expect((await pushMessage(transferRun("2026-10-21T00:00:00Z", "FAILED"))).status).toBeLessThan(300);
    expect(statusLines().at(-1)).toMatchObject({
      severity: "ERROR",
      sink_run: { kind: "run_not_succeeded", state: "FAILED", error: expect.stringMatching(/not found/) },
    });
    expect((await pushMessage("{not json")).status).toBeLessThan(300);
    expect(statusLines().at(-1)?.message).toMatch(/^not a transfer run notification.*payload is not JSON/);
    const { runTime: _dropped, ...noRunTime } = transferRun("2026-10-21T00:00:00Z");
    expect((await pushMessage(noRunTime)).status).toBeLessThan(300);
    expect(statusLines().at(-1)?.message).toMatch(/TransferRun\.runTime: expected an RFC 3339 timestamp/);
    expect((await pushMessage(transferRun("2026-10-22T00:00:00Z"))).status).toBeLessThan(300);
    expect(statusLines().at(-1)).toMatchObject({ severity: "ERROR", sink_run: { kind: "no_run_recorded" } });
    expect(alertLines().length).toBe(before);
    // the failed run's alerts are still unclaimed: its successful re-run raises them
    expect(tables.rows.sink_runs?.every((r) => r.alerts_claim === null)).toBe(true);
  });

  it("raises with the next run what a run that failed after its findings step had stamped", async () => {
    const failed = findingsBefore("2026-10-24").filter((f) => ALERTING_KINDS.includes(f.kind));
    const next = findingsBefore("2026-10-25").filter(
      (f) => ALERTING_KINDS.includes(f.kind) && !failed.includes(f),
    );
    pipelineRan("2026-10-24T00:00:00Z", []); // an earlier run, alerted before
    tables.rows.sink_runs?.forEach((r) => {
      r.alerts_claim = "earlier";
    });
    // the 06:00 run stamped its findings, then failed before recording itself
    tables.rows.findings?.push(
      ...failed.map(
        (finding) =>
          ({ ...bigQueryJson(findingRow(finding), FINDINGS), ingested_at: "2026-10-24T06:00:00Z" }) as Record<
            string,
            SqlValue
          >,
      ),
    );
    pipelineRan("2026-10-24T12:00:00Z", next);
    const before = alertLines().length;
    expect((await pushMessage(transferRun("2026-10-24T06:00:00Z", "FAILED"))).status).toBeLessThan(300);
    expect(alertLines().length).toBe(before);
    expect((await pushMessage(transferRun("2026-10-24T12:00:00Z"))).status).toBeLessThan(300);
    expect(alertLines().length - before).toBe(failed.length + next.length);
    expect(failed.length).toBeGreaterThan(0);
  });

  it("fails, so Pub/Sub redelivers, where BigQuery refuses, and raises the alerts on the redelivery once it can", async () => {
    const findings = findingsBefore("2026-10-23").filter((f) => ALERTING_KINDS.includes(f.kind));
    pipelineRan("2026-10-23T06:00:00Z", findings);
    const before = alertLines().length;
    const refusals: [string, () => void][] = [
      // the dataset in another location than the function's BQ_CHARGEBACK_LOCATION
      ["location", () => (bigquery.datasetLocation = "EU")],
      // a deployment without sql/sink/ddl
      ["table", () => bigquery.schemas?.delete("sink_runs")],
      // an account with read access only: the claim is an UPDATE
      ["permission", () => (bigquery.roles = ["roles/bigquery.dataViewer", "roles/bigquery.jobUser"])],
      ["jobs", () => (bigquery.roles = ["roles/bigquery.dataEditor"])],
    ];
    for (const [what, refuse] of refusals) {
      const answered = bigquery.requests.length;
      refuse();
      const response = await pushMessage(transferRun("2026-10-23T06:00:00Z"), "refused-1");
      expect(response.status, what).toBeGreaterThanOrEqual(500);
      expect(alertLines().length, what).toBe(before);
      expect(
        tables.rows.sink_runs?.find((r) => r.run_time === "2026-10-23T06:00:00Z")?.alerts_claim,
        what,
      ).toBe(null);
      expect(bigquery.requests.length, what).toBeGreaterThan(answered);
      bigquery.datasetLocation = "US";
      bigquery.schemas = new Map(PIPELINE_TABLES.map((t) => [t.name, t.columns.map((c) => c.name)]));
      bigquery.roles = [...DEPLOYED_ROLES];
    }
    const redelivered = await pushMessage(transferRun("2026-10-23T06:00:00Z"), "refused-1");
    expect(redelivered.status).toBeLessThan(300);
    expect(alertLines().length - before).toBe(findings.length);
  });
});
