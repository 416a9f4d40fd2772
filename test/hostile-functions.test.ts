// Hostile messages to the ingest function (issue 12), on the real functions-framework server:
// what can never be processed is kept in rejected_entries (cut short, with a hash of the whole)
// and acknowledged; what might work later (BigQuery down or hanging) fails the invocation.
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { BigQueryRowSink, createBigQuery } from "../src/cloud/bigquery.ts";
import { createIngestContext, ingestEntry, type RowSink, RowsRejectedError } from "../src/cloud/ingest.ts";
import { parseRegistry } from "../src/core/registry.ts";
import { tableSchemas } from "./support/bigquery-values.ts";
import { FakeBigQuery } from "./support/fake-bigquery.ts";
import { FunctionServer, startIngestFunction } from "./support/function-server.ts";

const FIXTURES = new URL("./fixtures/functions/", import.meta.url);
const SUBSCRIPTION = "projects/acme-chargeback/subscriptions/eventarc-ingest";
const SOURCE = "//pubsub.googleapis.com/projects/acme-chargeback/topics/bq-audit";
const TYPE = "google.cloud.pubsub.topic.v1.messagePublished";

let bigquery: FakeBigQuery;
let server: FunctionServer;

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
  bigquery.clearRefusals();
});

/** A structured-mode CloudEvent; `dataText` is the data's JSON when JSON.stringify cannot write it. */
function post(id: string, data: unknown, dataText?: string): Promise<Response> {
  if (dataText !== undefined) {
    return fetch(server.url, {
      method: "POST",
      headers: { "content-type": "application/cloudevents+json" },
      body: `{"specversion":"1.0","id":"${id}","source":"${SOURCE}","type":"${TYPE}","datacontenttype":"application/json","data":${dataText}}`,
    });
  }
  return fetch(server.url, {
    method: "POST",
    headers: { "content-type": "application/cloudevents+json" },
    body: JSON.stringify({
      specversion: "1.0",
      id,
      source: SOURCE,
      type: TYPE,
      datacontenttype: "application/json",
      data,
    }),
  });
}

const pubsub = (messageId: string, data: string) =>
  post(messageId, {
    message: { data, messageId, publishTime: "2026-10-14T17:02:21.000Z" },
    subscription: SUBSCRIPTION,
  });
const base64 = (text: string) => Buffer.from(text).toString("base64");

describe("ingestAuditLog keeps and acknowledges what it can never process", () => {
  it("a 10 MB message is one rejected row of a bounded size, with the hash of the whole", async () => {
    const text = `{"protoPayload": "${"x".repeat(10_000_000)}`;
    const response = await pubsub("big-1", base64(text));
    expect(response.status).toBeLessThan(300);
    const [row] = bigquery.rows("rejected_entries");
    expect(row?.reason).toBe("invalid_json");
    expect(String(row?.raw).length).toBe(4096);
    // INT64 travels as text, as every INT64 the function writes
    expect(row?.raw_bytes).toBe(String(text.length));
    expect(row?.raw_sha256).toMatch(/^[0-9a-f]{64}$/);
  }, 30_000);

  it("message.data that is not base64 is an invalid envelope, kept", async () => {
    const response = await pubsub("b64-1", "this is *not* base64!");
    expect(response.status).toBeLessThan(300);
    expect(bigquery.rows("rejected_entries")[0]).toMatchObject({
      reason: "invalid_envelope",
      detail: expect.stringContaining("not base64"),
    });
  });

  it("a CloudEvent without data is kept", async () => {
    const response = await fetch(server.url, {
      method: "POST",
      headers: { "content-type": "application/cloudevents+json" },
      body: JSON.stringify({ specversion: "1.0", id: "nodata-1", source: SOURCE, type: TYPE }),
    });
    expect(response.status).toBeLessThan(300);
    expect(bigquery.rows("rejected_entries")[0]).toMatchObject({ reason: "invalid_envelope" });
  });

  it("a deeply nested LogEntry, in a message or as Eventarc data, is kept, not redelivered forever", async () => {
    const deep = `{"protoPayload":${'{"a":'.repeat(20_000)}1${"}".repeat(20_000)}}`;
    expect((await pubsub("deep-1", base64(deep))).status).toBeLessThan(300);
    const eventarc = await post("deep-2", undefined, `{"logName":"x","protoPayload":${deep}}`);
    expect(eventarc.status).toBeLessThan(300);
    const reasons = bigquery.rows("rejected_entries").map((row) => row.reason);
    expect(reasons).toHaveLength(2);
  });

  it("two different entries under one message id never share an insert id", async () => {
    await pubsub("same-1", base64("{ not json"));
    await pubsub("same-1", base64("{ not json either"));
    await pubsub("same-1", base64("{ not json")); // a redelivery: the same row again
    expect(bigquery.rows("rejected_entries")).toHaveLength(2);
  });
});

describe("ingestAuditLog and rows BigQuery refuses (insertErrors)", () => {
  const entry = readFileSync(new URL("v2-jobchange-done.json", FIXTURES), "utf8");

  it("a row refused for its content is kept with BigQuery's reason, and the message acknowledged", async () => {
    bigquery.refuseInserts("job_costs", { reason: "invalid", message: "no such field: jobs_extra." });
    const response = await pubsub("poison-1", base64(entry));
    expect(response.status).toBeLessThan(300);
    expect(bigquery.rows("job_costs")).toEqual([]);
    expect(bigquery.rows("rejected_entries")).toEqual([
      expect.objectContaining({
        reason: "refused_by_bigquery",
        detail: expect.stringContaining("invalid: no such field: jobs_extra."),
      }),
    ]);
  });

  it("a row BigQuery could not take now is retried: the invocation fails, the redelivery writes it", async () => {
    // the first attempt and the client library's 3 re-sends
    bigquery.refuseInserts(
      "job_costs",
      { reason: "backendError", message: "Backend error. Please try again." },
      4,
    );
    const first = await pubsub("transient-1", base64(entry));
    expect(first.status).toBeGreaterThanOrEqual(500);
    expect(bigquery.rows("rejected_entries")).toEqual([]);
    const redelivery = await pubsub("transient-1", base64(entry));
    expect(redelivery.status).toBeLessThan(300);
    expect(bigquery.rows("job_costs")).toHaveLength(1);
    expect(bigquery.rows("rejected_entries")).toEqual([]);
  });
});

describe("the ingest logic without the server", () => {
  const registry = parseRegistry(readFileSync(new URL("registry.yaml", FIXTURES), "utf8"), "registry.yaml");
  const entry = readFileSync(new URL("v2-jobchange-done.json", FIXTURES), "utf8");

  it("rows BigQuery refuses are kept as a rejected entry, and the message acknowledged", async () => {
    const kept: unknown[] = [];
    const sink: RowSink = {
      async insert(table, rows) {
        if (table !== "rejected_entries")
          throw new RowsRejectedError("BigQuery refused rows: invalid: bad value");
        kept.push(...rows.map((row) => row.json));
      },
    };
    const context = createIngestContext({
      registry,
      timeZone: "America/Los_Angeles",
      sink,
      alerts: { alert: async () => undefined },
      now: () => new Date("2026-10-15T00:00:00Z"),
    });
    const result = await ingestEntry(
      JSON.stringify(JSON.parse(entry)),
      { file: "pubsub:m1", line: 1 },
      context,
    );
    expect(result).toEqual({ kind: "rejected", reason: "refused_by_bigquery" });
    expect(kept).toEqual([
      expect.objectContaining({
        reason: "refused_by_bigquery",
        detail: expect.stringContaining("bad value"),
      }),
    ]);
  });

  it("rows BigQuery refuses come back from the real client as RowsRejectedError, naming the field", async () => {
    const refusing = new FakeBigQuery();
    refusing.columnTypes = tableSchemas();
    const endpoint = await refusing.start();
    try {
      const sink = new BigQueryRowSink(createBigQuery({ projectId: "p", apiEndpoint: endpoint }), "d");
      await expect(
        sink.insert("job_costs", [{ insertId: "a", json: { job_id: "p:j", usage_date: "2026-02-30" } }]),
      ).rejects.toThrow(RowsRejectedError);
      await expect(
        sink.insert("job_costs", [
          { insertId: "b", json: { job_id: "p:j", billed_bytes: "9223372036854775808" } },
        ]),
      ).rejects.toThrow(/billed_bytes: INT64 out of range/);
      expect(refusing.rows("job_costs")).toEqual([]);
    } finally {
      await refusing.stop();
    }
  });

  it("a BigQuery endpoint that never answers fails the insert at the deadline", async () => {
    const hanging: Server = createServer(() => undefined);
    await new Promise<void>((resolve) => hanging.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = hanging.address() as AddressInfo;
      const client = createBigQuery({ projectId: "p", apiEndpoint: `http://127.0.0.1:${port}` });
      const sink = new BigQueryRowSink(client, "d", 300);
      await expect(sink.insert("job_costs", [{ insertId: "a", json: { a: 1 } }])).rejects.toThrow(
        "BigQuery insertAll into d.job_costs: no answer within 300 ms",
      );
    } finally {
      hanging.closeAllConnections();
      await new Promise((resolve) => hanging.close(resolve));
    }
  }, 30_000);
});

describe("buildChargebackReport takes a POSTed JSON object with a bounded range only", () => {
  let reportServer: FunctionServer;
  let reportBigQuery: FakeBigQuery;

  beforeAll(async () => {
    reportBigQuery = new FakeBigQuery();
    reportBigQuery.queryHandler = async () => ({ fields: [], rows: [] });
    const endpoint = await reportBigQuery.start();
    reportServer = await FunctionServer.start({
      target: "buildChargebackReport",
      signatureType: "http",
      env: {
        GOOGLE_CLOUD_PROJECT: "acme-chargeback",
        BQ_CHARGEBACK_DATASET: "chargeback_reports",
        BQ_CHARGEBACK_REGISTRY: new URL("registry.yaml", FIXTURES).pathname,
        BIGQUERY_API_ENDPOINT: endpoint,
      },
    });
  }, 60_000);

  afterAll(async () => {
    await reportServer?.stop();
    await reportBigQuery?.stop();
  });

  it.each([
    ["GET", undefined, undefined, 405],
    ["PUT", "application/json", "{}", 405],
    ["POST", "text/plain", "{}", 415],
    ["POST", "application/x-www-form-urlencoded", "period=day", 415],
    ["POST", "application/json", "[1,2]", 400],
    ["POST", "application/json", '"month"', 400],
    ["POST", "application/json", '{"from":"0001-01-01","to":"2026-10-31"}', 400],
    ["POST", "application/json", '{"from":"2026-10-01","to":"9999-12-31"}', 400],
    ["POST", "application/json", '{"from":"2020-01-01","to":"2026-10-31"}', 400],
    ["POST", "application/json", `{"period":${"[".repeat(5000)}${"]".repeat(5000)}}`, 400],
  ])("%s %s %s -> %i, and no query runs", async (method, type, body, status) => {
    const before = reportBigQuery.requests.length;
    const response = await fetch(reportServer.url, {
      method,
      headers: type ? { "content-type": type } : {},
      body,
    });
    expect(response.status).toBe(status);
    expect(reportBigQuery.requests.length).toBe(before);
  });
});
