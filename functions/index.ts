// Cloud Functions entry points, kept thin: decode the trigger, call src/, write the sinks.
// The registry is loaded and validated when the instance starts, so a bad registry fails the
// deployment's first request loudly instead of mis-attributing jobs.
import { type CloudEvent, cloudEvent, http } from "@google-cloud/functions-framework";
import { LogAlertSink } from "../src/cloud/alerts.ts";
import { BigQueryRowSink, createBigQuery } from "../src/cloud/bigquery.ts";
import { loadRegistry, readCloudConfig } from "../src/cloud/config.ts";
import { createIngestContext, ingestEntry, insertRejected } from "../src/cloud/ingest.ts";
import { EnvelopeError, envelopeText, unwrapCloudEvent } from "../src/cloud/pubsub-message.ts";
import { RestPublisher } from "../src/cloud/pubsub-publisher.ts";

const config = readCloudConfig();
const registry = await loadRegistry(config.registry);
const bigquery = createBigQuery({ projectId: config.projectId, apiEndpoint: config.bigqueryEndpoint });
const sink = new BigQueryRowSink(bigquery, config.dataset);

const context = createIngestContext({
  registry,
  timeZone: config.timeZone,
  sink,
  alerts: new LogAlertSink(
    config.alertsTopic ? { publisher: new RestPublisher(), topic: config.alertsTopic } : {},
  ),
});

/**
 * Pub/Sub (Log Router sink) -> one job_costs row per job, findings, alerts. A transient BigQuery
 * error throws, so Pub/Sub redelivers; an entry that cannot be used is kept in rejected_entries
 * and acknowledged.
 */
cloudEvent("ingestAuditLog", async (event: CloudEvent<unknown>) => {
  let entry: ReturnType<typeof unwrapCloudEvent>;
  try {
    entry = unwrapCloudEvent(event);
  } catch (error) {
    // unwrapCloudEvent throws nothing else: an envelope that cannot be read is kept and acknowledged.
    if (!(error instanceof EnvelopeError)) throw error;
    await insertRejected(
      sink,
      {
        kind: "rejected",
        reason: "invalid_envelope",
        detail: error.message,
        source: { file: `cloudevent:${event.id ?? "?"}`, line: 1 },
        raw: envelopeText(event),
      },
      new Date(),
    );
    return;
  }
  await ingestEntry(entry.text, entry.source, context);
});

/**
 * Scheduled report, called by Cloud Scheduler with an OIDC token (deployed without public
 * access): body `{}` (last month), `{"period":"day"}` (yesterday) or `{"from","to","period"}`.
 */
http("buildChargebackReport", async (request, response) => {
  // Loaded on first use: the ingest path, which runs far more often, never pays for it.
  // Cloud Scheduler POSTs a JSON object; nothing else starts a report.
  if (request.method !== "POST") {
    response
      .status(405)
      .set("allow", "POST")
      .json({ error: `expected POST, found ${request.method}` });
    return;
  }
  if (!request.is("application/json")) {
    response.status(415).json({ error: "expected a JSON body (content-type: application/json)" });
    return;
  }
  const { handleReportRequest } = await import("../src/cloud/report.ts");
  const result = await handleReportRequest(request.body, { config, registry, bigquery });
  response.status(result.status).json(result.body);
});

/**
 * Sink mode's alerts: the Data Transfer Service's notification of a finished run of the sink
 * pipeline (Pub/Sub, a TransferRun as JSON) -> the alert lines of the findings that run wrote,
 * at most once per run. A notification that is no TransferRun is logged and acknowledged; a
 * BigQuery error throws, so Pub/Sub redelivers.
 */
cloudEvent("raiseSinkAlerts", async (event: CloudEvent<unknown>) => {
  const { parseTransferRun, raiseRunAlerts, TransferRunError } = await import("../src/cloud/sink-alerts.ts");
  const log = (severity: string, message: string, fields: Record<string, unknown> = {}) =>
    process.stdout.write(`${JSON.stringify({ severity, message, ...fields })}\n`);
  let run: ReturnType<typeof parseTransferRun>;
  try {
    const message = unwrapCloudEvent(event);
    run = parseTransferRun(message.text, message.source.file);
  } catch (error) {
    if (!(error instanceof EnvelopeError || error instanceof TransferRunError)) throw error;
    log("ERROR", `not a transfer run notification, acknowledged: ${error.message}`);
    return;
  }
  const result = await raiseRunAlerts(run, {
    alerts: new LogAlertSink(),
    timestamp: (text) => bigquery.timestamp(text),
    query: async (query, params, types) => {
      const [rows] = await bigquery.query({
        query,
        params,
        types,
        defaultDataset: { projectId: config.projectId, datasetId: config.dataset },
        location: config.location,
      });
      return rows as Record<string, unknown>[];
    },
  });
  const severity = result.kind === "raised" || result.kind === "already_raised" ? "INFO" : "ERROR";
  log(severity, `sink pipeline run ${run.name} (run time ${run.runTime}): ${result.kind}`, {
    sink_run: { ...result, run: run.name, run_time: run.runTime, error: run.errorMessage },
  });
});

/** BQ_CHARGEBACK_IAM_ROLES: a file of custom role definitions in the deployed source, if given. */
async function iamRoleFiles(): Promise<{ file: string; text: string }[]> {
  const file = process.env.BQ_CHARGEBACK_IAM_ROLES;
  if (!file) return [];
  const { readFile } = await import("node:fs/promises");
  return [{ file, text: await readFile(file, "utf8") }];
}

/**
 * Scheduled IAM audit (Cloud Scheduler with OIDC, deployed without public access): who may bill
 * which project, from the Cloud Asset Inventory API for BQ_CHARGEBACK_IAM_SCOPE, into iam_findings.
 */
http("auditIamPolicies", async (request, response) => {
  // Cloud Scheduler POSTs; anything else (a probe, a browser) must not start an audit.
  if (request.method !== "POST") {
    response.status(405).set("allow", "POST").json({ error: "POST to run the audit" });
    return;
  }
  const { assetInventorySearch, bigQueryUsage, iamScope, runScheduledIamAudit } = await import(
    "../src/cloud/iam-audit.ts"
  );
  const result = await runScheduledIamAudit({
    scope: iamScope(process.env.BQ_CHARGEBACK_IAM_SCOPE),
    registry,
    search: assetInventorySearch({ apiEndpoint: process.env.CLOUD_ASSET_API_ENDPOINT }),
    sink,
    usage: bigQueryUsage(bigquery, config.projectId, config.dataset),
    body: request.body,
    roles: await iamRoleFiles(),
  });
  response.status(result.status).json(result.body);
});
