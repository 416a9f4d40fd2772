// The ingest function end to end: the real functions-framework server on localhost, driven over
// HTTP with CloudEvents (binary and structured mode) and the legacy Pub/Sub push envelope,
// writing through the real @google-cloud/bigquery client to a local endpoint that speaks the
// BigQuery REST wire format.
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { FakeBigQuery } from "./support/fake-bigquery.ts";
import { type FunctionServer, startIngestFunction } from "./support/function-server.ts";

const FIXTURES = new URL("./fixtures/functions/", import.meta.url);
const jobEntry = JSON.parse(readFileSync(new URL("v2-jobchange-done.json", FIXTURES), "utf8")) as Record<
  string,
  unknown
>;
const JOB_ID = "acme-fin-bi:US.bquxjob_4f1a_19b2c3d4e5f";

let bigquery: FakeBigQuery;
let server: FunctionServer;
let messageCounter = 0;

beforeAll(async () => {
  ({ bigquery, server } = await startIngestFunction(new URL("registry.yaml", FIXTURES).pathname));
});

afterAll(async () => {
  await server?.stop();
  await bigquery?.stop();
});

beforeEach(() => {
  bigquery.tables.clear();
  bigquery.inserts.length = 0;
});

function message(entry: unknown) {
  messageCounter++;
  return {
    data: Buffer.from(typeof entry === "string" ? entry : JSON.stringify(entry)).toString("base64"),
    messageId: `msg-${messageCounter}`,
    publishTime: "2026-10-14T17:02:21.000Z",
    attributes: { "logging.googleapis.com/timestamp": "2026-10-14T17:02:20.091854Z" },
  };
}

const SUBSCRIPTION = "projects/acme-chargeback/subscriptions/eventarc-ingest";
const SOURCE = "//pubsub.googleapis.com/projects/acme-chargeback/topics/bq-audit";
const TYPE = "google.cloud.pubsub.topic.v1.messagePublished";

async function structured(entry: unknown): Promise<Response> {
  const msg = message(entry);
  return fetch(server.url, {
    method: "POST",
    headers: { "content-type": "application/cloudevents+json" },
    body: JSON.stringify({
      specversion: "1.0",
      id: msg.messageId,
      source: SOURCE,
      type: TYPE,
      time: msg.publishTime,
      datacontenttype: "application/json",
      data: { message: msg, subscription: SUBSCRIPTION },
    }),
  });
}

async function binary(entry: unknown): Promise<Response> {
  const msg = message(entry);
  return fetch(server.url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "ce-specversion": "1.0",
      "ce-id": msg.messageId,
      "ce-source": SOURCE,
      "ce-type": TYPE,
      "ce-time": msg.publishTime,
    },
    body: JSON.stringify({ message: msg, subscription: SUBSCRIPTION }),
  });
}

async function legacyPush(entry: unknown): Promise<Response> {
  return fetch(`${server.url}/projects/acme-chargeback/topics/bq-audit`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ message: message(entry), subscription: SUBSCRIPTION }),
  });
}

describe("ingestAuditLog on the functions-framework server", () => {
  it("writes one priced, attributed row per job and alerts on an external free ride", async () => {
    const response = await structured(jobEntry);
    expect(response.status).toBeLessThan(300);
    const rows = bigquery.rows("job_costs");
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      job_id: JOB_ID,
      billing_project: "acme-fin-bi",
      location: "US",
      principal: "pat@partner-x.example",
      payer_department: "finance",
      consumer_department: "external:partner-x.example",
      data_projects: ["px-data"],
      billed_bytes: "549755813888",
      pricing_model: "on_demand",
      // half a TiB at 6.25 USD/TiB (US, from 2023-07-05)
      compute_cost_usd: "3.125000000",
      usage_date: "2026-10-14",
      findings: ["external_free_ride"],
    });
    const findings = bigquery.rows("findings");
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({
      kind: "external_free_ride",
      severity: "critical",
      cost_usd: "3.125000000",
    });
    const alert = server.jsonLines().find((line) => line.alert === "bq_chargeback_finding");
    expect(alert).toMatchObject({
      severity: "CRITICAL",
      finding: { kind: "external_free_ride", job_id: JOB_ID, principal: "pat@partner-x.example" },
    });
  });

  it("attributes a job of a domain-scoped project (example.com:p) like any other", async () => {
    // The same entry as if run in finance's domain-scoped project by a finance analyst.
    const scoped = JSON.parse(
      JSON.stringify(jobEntry)
        .replaceAll("acme-fin-bi", "example.com:acme-archive")
        .replaceAll("px-data", "acme-fin-lake"),
    ) as { protoPayload: { authenticationInfo: { principalEmail: string } } };
    scoped.protoPayload.authenticationInfo.principalEmail = "carol@acme.example";
    const response = await structured(scoped);
    expect(response.status).toBeLessThan(300);
    expect(bigquery.rows("job_costs")).toEqual([
      expect.objectContaining({
        job_id: "example.com:acme-archive:US.bquxjob_4f1a_19b2c3d4e5f",
        billing_project: "example.com:acme-archive",
        payer_department: "finance",
        consumer_department: "finance",
        data_projects: ["acme-fin-lake"],
        findings: [],
      }),
    ]);
    expect(bigquery.rows("rejected_entries")).toEqual([]);
  });

  it("counts a message delivered three times, in three envelopes, once", async () => {
    for (const send of [binary, structured, legacyPush]) {
      const response = await send(jobEntry);
      expect(response.status, send.name).toBeLessThan(300);
    }
    const jobInserts = bigquery.inserts.filter((insert) => insert.table === "job_costs");
    expect(jobInserts).toHaveLength(3);
    expect(new Set(jobInserts.flatMap((insert) => insert.rows.map((row) => row.insertId)))).toEqual(
      // one insert id per job key and copy completeness (src/core/job-copies.ts): this copy is complete
      new Set(["acme-fin-bi:bquxjob_4f1a_19b2c3d4e5f#15"]),
    );
    expect(bigquery.rows("job_costs")).toHaveLength(1);
  });

  it("keeps a poison message with its reason and acknowledges it", async () => {
    const response = await structured("{ this is not a log entry");
    expect(response.status).toBeLessThan(300);
    const rejected = bigquery.rows("rejected_entries");
    expect(rejected).toHaveLength(1);
    expect(rejected[0]).toMatchObject({ reason: "invalid_json", raw: "{ this is not a log entry" });
    expect(String(rejected[0]?.source)).toMatch(/^pubsub:msg-\d+:1$/);
    expect(bigquery.rows("job_costs")).toHaveLength(0);
  });

  it("keeps a message whose envelope has no data", async () => {
    const response = await fetch(server.url, {
      method: "POST",
      headers: { "content-type": "application/cloudevents+json" },
      body: JSON.stringify({
        specversion: "1.0",
        id: "broken-1",
        source: SOURCE,
        type: TYPE,
        datacontenttype: "application/json",
        data: { message: { messageId: "broken-1" }, subscription: SUBSCRIPTION },
      }),
    });
    expect(response.status).toBeLessThan(300);
    expect(bigquery.rows("rejected_entries")[0]).toMatchObject({ reason: "invalid_envelope" });
  });

  it("retries a 429 from BigQuery within the invocation", async () => {
    bigquery.failNext(429, 1);
    const response = await structured(jobEntry);
    expect(response.status).toBeLessThan(300);
    expect(bigquery.rows("job_costs")).toHaveLength(1);
  });

  it("fails the invocation on a lasting BigQuery outage, so Pub/Sub redelivers", async () => {
    bigquery.failNext(503, 20);
    const failed = await structured(jobEntry);
    expect(failed.status).toBe(500);
    expect(bigquery.rows("job_costs")).toHaveLength(0);
    // drain what is left of the injected failures, then the redelivery succeeds
    bigquery.clearFailures();
    const redelivered = await structured(jobEntry);
    expect(redelivered.status).toBeLessThan(300);
    expect(bigquery.rows("job_costs")).toHaveLength(1);
  }, 60_000);
});
