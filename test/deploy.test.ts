// deploy/: the sink filter selects exactly the entries the parser uses, the dry run prints the
// whole deployment, and the scripts pass shellcheck.
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { promisify } from "node:util";
import { beforeEach, describe, expect, it } from "vitest";
import { parseEntry } from "../src/core/parse.ts";
import { sinkScript, sinkSteps } from "../src/deploy/sink-script.ts";
import { generateEntries } from "../src/sample/generate.ts";
import { FakeBigQuery } from "./support/fake-bigquery.ts";
import { type FakeCloud, startFakeCloud } from "./support/fake-gcloud.ts";
import { matches, parseFilter } from "./support/logging-filter.ts";

const run = promisify(execFile);
const ROOT = new URL("..", import.meta.url).pathname;
const FILTER = parseFilter(readFileSync(`${ROOT}deploy/sink-filter.txt`, "utf8"));

/** Whether `command` is found where the tests run it from: on PATH, as execFile looks it up. */
const onPath = (command: string) =>
  (process.env.PATH ?? "").split(delimiter).some((dir) => dir !== "" && existsSync(join(dir, command)));

describe("the logging query subset", () => {
  it("evaluates paths, quoted segments, =, !=, :, AND, OR, NOT and parentheses", () => {
    const entry = {
      a: { "@type": "x.y", b: "DONE" },
      logName: "projects/p/logs/cloudaudit.googleapis.com%2Fdata_access",
    };
    expect(matches(parseFilter('a."@type"="x.y"'), entry)).toBe(true);
    expect(matches(parseFilter('a.b="DONE" AND NOT a.c="z"'), entry)).toBe(true);
    expect(matches(parseFilter('a.b!="DONE" OR (logName:"DATA_ACCESS" AND a.b="DONE")'), entry)).toBe(true);
    expect(matches(parseFilter('a.b="RUNNING" OR a.missing="x"'), entry)).toBe(false);
    expect(() => parseFilter('a.b "DONE"')).toThrow(SyntaxError);
  });
});

describe("the Log Router sink filter and the parser agree", () => {
  it("on every entry of the sample month and the real captures", () => {
    const entries: unknown[] = [];
    for (const line of generateEntries({ month: "2026-10", seed: 3, jobs: 400 })) {
      try {
        entries.push(JSON.parse(line));
      } catch {
        // a truncated line: no filter can judge it
      }
    }
    for (const folder of ["fixtures/entries", "fixtures/functions"]) {
      for (const file of readdirSync(`${ROOT}test/${folder}`).filter((name) => name.endsWith(".json"))) {
        entries.push(JSON.parse(readFileSync(`${ROOT}test/${folder}/${file}`, "utf8")));
      }
    }
    let used = 0;
    let skipped = 0;
    for (const entry of entries) {
      const parsed = parseEntry(entry, "", { file: "t", line: 1 });
      if (parsed.kind === "rejected") continue;
      const wanted = parsed.kind === "job" || (parsed.kind === "table_read" && parsed.reason === "JOB");
      // the real captures of 2021 lack logName in two of them: a sink always sees one
      const withLog = {
        logName: "projects/p/logs/cloudaudit.googleapis.com%2Fdata_access",
        ...(entry as object),
      };
      expect(matches(FILTER, withLog), JSON.stringify(entry).slice(0, 200)).toBe(wanted);
      if (wanted) used++;
      else skipped++;
    }
    // both sides of the rule were exercised
    expect(used).toBeGreaterThan(300);
    expect(skipped).toBeGreaterThan(300);
  });
});

// deploy.sh and teardown.sh run against a recorded Google Cloud (test/support/fake-gcloud.ts):
// look-ups are answered from what earlier runs created, so a second run must change nothing.
async function cloudRun(
  script: "deploy" | "teardown",
  args: string[],
  cloud: FakeCloud,
  env: Record<string, string> = {},
) {
  const before = cloud.state.calls.length;
  const { stdout } = await run("bash", [`${ROOT}deploy/${script}.sh`, ...args], {
    env: {
      ...process.env,
      PATH: `${cloud.bin}:${process.env.PATH}`,
      BQ_CHARGEBACK_DEPLOY_RETRY_SECONDS: "0",
      ...env,
    },
  });
  return {
    stdout,
    changes: stdout.split("\n").filter((line) => line.startsWith("+ ")),
    mutatingCalls: cloud.state.calls.slice(before).filter((call) => call.mutating),
    state: cloud.state,
  };
}

const DEPLOY_ARGS = [
  "--project",
  "acme-chargeback",
  "--region",
  "europe-west1",
  "--organization",
  "123456789",
  "--registry",
  `${ROOT}sample/acme/registry.yaml`,
  "--report-bucket",
  "gs://acme-chargeback-reports/monthly",
];
/** Nothing left but the data (the dataset, and the report bucket's published pages), and no binding. */
function expectTornDown(state: FakeCloud["state"]) {
  const left = Object.keys(state.resources).filter((k) => !k.startsWith("bq acme-chargeback:bq_chargeback"));
  expect(left).toEqual(["gcloud storage buckets gs://acme-chargeback-reports project=acme-chargeback"]);
  const bindings = Object.entries(state.policies).flatMap(([resource, list]) =>
    list.map((b) => `${resource}: ${b.role} ${b.member}`),
  );
  expect(bindings).toEqual([]);
}

/**
 * Sink mode's `registry push` writes through the BigQuery client: to a local endpoint, which
 * answers its look-up of the version from the rows it holds.
 */
async function registryEndpoint() {
  const bigquery = new FakeBigQuery();
  bigquery.queryHandler = async (request) => {
    const [version] = (request.queryParameters as { parameterValue: { value: string } }[]).map(
      (p) => p.parameterValue.value,
    );
    const pushed = bigquery.rows("registry_versions").filter((row) => row.registry_version === version);
    return { fields: [{ name: "pushed", type: "INTEGER" }], rows: [{ f: [{ v: String(pushed.length) }] }] };
  };
  return { bigquery, endpoint: { BIGQUERY_API_ENDPOINT: await bigquery.start() } };
}

const SA = (name: string) => `serviceAccount:bq-chargeback-${name}@acme-chargeback.iam.gserviceaccount.com`;

describe("deploy/deploy.sh", { timeout: 120_000 }, () => {
  let cloud: FakeCloud;
  beforeEach(async () => {
    cloud = await startFakeCloud(mkdtempSync(join(tmpdir(), "bq-chargeback-cloud-")));
    // a policy on the new log-based metric is refused twice before the metric is visible
    cloud.metricVisibleAfter = 2;
    return () => cloud.close();
  });

  it("prints every step of a first deployment in --dry-run, and changes nothing", async () => {
    const { changes, mutatingCalls } = await cloudRun("deploy", [...DEPLOY_ARGS, "--dry-run"], cloud);
    expect(mutatingCalls).toEqual([]);
    const steps = [
      /bq --location=US mk --dataset .* acme-chargeback:bq_chargeback/,
      /bq query --use_legacy_sql=false .*--dataset_id=acme-chargeback:bq_chargeback < sql\/ddl\/job_costs.sql/,
      /gcloud pubsub topics create bq-chargeback-audit-logs/,
      /gcloud pubsub topics create bq-chargeback-dead-letter/,
      // 4. dead letters and alerts are kept: a topic without a subscription drops its messages
      /gcloud pubsub subscriptions create bq-chargeback-dead-letter-hold --topic=bq-chargeback-dead-letter /,
      /gcloud pubsub subscriptions create bq-chargeback-alerts-hold --topic=bq-chargeback-alerts /,
      /gcloud storage buckets create gs:\/\/acme-chargeback-reports /,
      /gcloud iam service-accounts create bq-chargeback-trigger /,
      /bq add-iam-policy-binding --member=serviceAccount:bq-chargeback-ingest@acme-chargeback.iam.gserviceaccount.com --role=roles\/bigquery.dataEditor acme-chargeback:bq_chargeback/,
      /gcloud projects add-iam-policy-binding acme-chargeback .*bq-chargeback-report@.*--role=roles\/bigquery.jobUser/,
      // 12. the report may write its page to the bucket (and replace it on a re-run)
      /gcloud storage buckets add-iam-policy-binding gs:\/\/acme-chargeback-reports .*bq-chargeback-report@.*--role=roles\/storage.objectUser/,
      /gcloud logging sinks create bq-chargeback pubsub.googleapis.com\/projects\/acme-chargeback\/topics\/bq-chargeback-audit-logs --organization=123456789 --include-children --log-filter=/,
      /gcloud pubsub topics add-iam-policy-binding bq-chargeback-audit-logs .*--member=serviceAccount:WRITER_IDENTITY_OF_THE_SINK --role=roles\/pubsub.publisher/,
      // 3. the trigger pushes with an identity of its own, allowed to invoke the ingest service only
      /gcloud functions deploy bq-chargeback-ingest --gen2 --runtime=nodejs22 .*--build-service-account=projects\/acme-chargeback\/serviceAccounts\/bq-chargeback-build@.*--trigger-topic=bq-chargeback-audit-logs --retry --trigger-service-account=bq-chargeback-trigger@acme-chargeback.iam.gserviceaccount.com --service-account=bq-chargeback-ingest@/,
      /gcloud functions deploy bq-chargeback-report --gen2 --runtime=nodejs22 .*--trigger-http --no-allow-unauthenticated --service-account=bq-chargeback-report@.*BQ_CHARGEBACK_LOCATION=US\\?,BQ_CHARGEBACK_STORAGE_LOCATIONS=US\\?,.*BQ_CHARGEBACK_REPORT_BUCKET=gs:\/\/acme-chargeback-reports\/monthly/,
      /gcloud run services add-iam-policy-binding bq-chargeback-ingest .*--member=serviceAccount:bq-chargeback-trigger@.*--role=roles\/run.invoker/,
      /gcloud pubsub subscriptions update .*--dead-letter-topic=bq-chargeback-dead-letter/,
      /gcloud run services add-iam-policy-binding bq-chargeback-report .*bq-chargeback-scheduler@.*--role=roles\/run.invoker/,
      /gcloud scheduler jobs create http bq-chargeback-monthly .*--attempt-deadline=1800s --max-retry-attempts=2 .*--oidc-service-account-email=bq-chargeback-scheduler@acme-chargeback.iam.gserviceaccount.com/,
      /gcloud logging metrics create bq_chargeback_findings/,
      /gcloud alpha monitoring policies create .*--policy-from-file=.*deploy\/alert-policy.json/,
      /gcloud alpha monitoring policies create .*--policy-from-file=.*deploy\/dead-letter-alert-policy.json/,
    ];
    let from = 0;
    for (const step of steps) {
      const at = changes.findIndex((line, i) => i >= from && step.test(line));
      expect(at, `step ${step} (in order)`).toBeGreaterThanOrEqual(0);
      from = at;
    }
    const text = changes.join("\n");
    // no role broader than needed: never owner, editor or admin roles
    expect(text).not.toMatch(/roles\/(owner|editor|[a-z]+\.admin)\b/);
    // 8. metadataViewer on each registered project, not on the organisation, and only for the report
    const viewers = changes.filter((line) => line.includes("roles/bigquery.metadataViewer"));
    expect(viewers.map((line) => /add-iam-policy-binding (\S+)/.exec(line)?.[1]).sort()).toEqual([
      "acme-ds-bi",
      "acme-ds-lake",
      "acme-etl",
      "acme-fin-bi",
      "acme-fin-lake",
      "acme-mkt-bi",
      "acme-mkt-lake",
      "acme-platform",
      "acme-platform-lake",
      "acme-sales-bi",
    ]);
    expect(viewers.every((line) => line.includes(SA("report")))).toBe(true);
    expect(text).not.toMatch(/organizations add-iam-policy-binding/);
    const ingestGrants = changes.filter((line) => line.includes(SA("ingest")) && /--role=/.test(line));
    expect(ingestGrants.map((line) => /--role=(\S+)/.exec(line)?.[1]).sort()).toEqual([
      "roles/bigquery.dataEditor",
      "roles/pubsub.publisher",
    ]);
    // 7. Scheduler waits as long as the report function may run
    const timeout = /bq-chargeback-report .*--timeout=(\d+)s/.exec(text)?.[1];
    const deadline = /--attempt-deadline=(\d+)s/.exec(text)?.[1];
    expect(Number(deadline)).toBeGreaterThanOrEqual(Number(timeout));
  });

  it("--mode sink --dry-run prints every step of the sink mode, and changes nothing", async () => {
    const { changes, mutatingCalls, stdout } = await cloudRun(
      "deploy",
      [...DEPLOY_ARGS, "--mode", "sink", "--dry-run"],
      cloud,
    );
    expect(mutatingCalls).toEqual([]);
    const steps = [
      /gcloud services enable .*bigquerydatatransfer.googleapis.com/,
      /bq --location=US mk --dataset .* acme-chargeback:bq_chargeback/,
      /bq query .*< sql\/ddl\/job_costs.sql/,
      /bq query .*< sql\/sink\/ddl\/registry_versions.sql/,
      /gcloud logging sinks create bq-chargeback-bigquery bigquery.googleapis.com\/projects\/acme-chargeback\/datasets\/bq_chargeback --organization=123456789 --include-children --use-partitioned-tables --log-filter=/,
      /bq add-iam-policy-binding --member=serviceAccount:WRITER_IDENTITY_OF_THE_SINK --role=roles\/bigquery.dataEditor acme-chargeback:bq_chargeback/,
      /env GOOGLE_CLOUD_PROJECT=acme-chargeback BQ_CHARGEBACK_DATASET=bq_chargeback .*registry push --registry .*registry.yaml$/,
      /gcloud iam service-accounts create bq-chargeback-pipeline /,
      /gcloud iam service-accounts create bq-chargeback-sink-alerts /,
      /bq add-iam-policy-binding --member=serviceAccount:bq-chargeback-pipeline@acme-chargeback.iam.gserviceaccount.com --role=roles\/bigquery.dataEditor acme-chargeback:bq_chargeback/,
      /gcloud projects add-iam-policy-binding acme-chargeback .*bq-chargeback-pipeline@.*--role=roles\/bigquery.jobUser/,
      /gcloud iam service-accounts add-iam-policy-binding bq-chargeback-pipeline@.*gcp-sa-bigquerydatatransfer.*--role=roles\/iam.serviceAccountTokenCreator/,
      /bq add-iam-policy-binding --member=serviceAccount:bq-chargeback-sink-alerts@acme-chargeback.iam.gserviceaccount.com --role=roles\/bigquery.dataEditor acme-chargeback:bq_chargeback/,
      /gcloud projects add-iam-policy-binding acme-chargeback .*bq-chargeback-sink-alerts@.*--role=roles\/bigquery.jobUser/,
      // the monthly report: function mode's grants
      /gcloud projects add-iam-policy-binding acme-chargeback .*bq-chargeback-report@.*--role=roles\/bigquery.jobUser/,
      /gcloud storage buckets add-iam-policy-binding gs:\/\/acme-chargeback-reports .*bq-chargeback-report@.*--role=roles\/storage.objectUser/,
      // the run notifications: a topic only the Data Transfer Service's agent publishes to
      /gcloud pubsub topics create bq-chargeback-sink-runs /,
      /gcloud pubsub topics add-iam-policy-binding bq-chargeback-sink-runs .*--member=serviceAccount:service-123456789012@gcp-sa-bigquerydatatransfer.iam.gserviceaccount.com --role=roles\/pubsub.publisher/,
      /bq mk --transfer_config --project_id=acme-chargeback --location=US --data_source=scheduled_query .*--schedule=every\\ 6\\ hours --service_account_name=bq-chargeback-pipeline@acme-chargeback.iam.gserviceaccount.com --notification_pubsub_topic=projects\/acme-chargeback\/topics\/bq-chargeback-sink-runs --params=/,
      /gcloud functions deploy bq-chargeback-sink-alerts --gen2 --runtime=nodejs22 .*--entry-point=raiseSinkAlerts --trigger-topic=bq-chargeback-sink-runs --retry --trigger-service-account=bq-chargeback-trigger@acme-chargeback.iam.gserviceaccount.com --service-account=bq-chargeback-sink-alerts@.*BQ_CHARGEBACK_LOCATION=US/,
      /gcloud functions deploy bq-chargeback-report --gen2 .*--entry-point=buildChargebackReport --trigger-http --no-allow-unauthenticated --service-account=bq-chargeback-report@/,
      /gcloud run services add-iam-policy-binding bq-chargeback-sink-alerts .*--member=serviceAccount:bq-chargeback-trigger@.*--role=roles\/run.invoker/,
      /gcloud run services add-iam-policy-binding bq-chargeback-report .*bq-chargeback-scheduler@.*--role=roles\/run.invoker/,
      /gcloud scheduler jobs create http bq-chargeback-monthly .*--attempt-deadline=1800s .*--oidc-service-account-email=bq-chargeback-scheduler@/,
      /gcloud logging metrics create bq_chargeback_findings/,
      /gcloud alpha monitoring policies create .*--policy-from-file=.*deploy\/alert-policy.json/,
    ];
    let from = 0;
    for (const step of steps) {
      const at = changes.findIndex((line, i) => i >= from && step.test(line));
      expect(at, `step ${step} (in order)\n${stdout}`).toBeGreaterThanOrEqual(0);
      from = at;
    }
    // the scheduled query is the whole of sql/sink, on this dataset
    const transfer = changes.find((line) => line.includes("--transfer_config")) ?? "";
    for (const statement of [
      "CREATE TEMP TABLE sink_entries",
      "MERGE job_costs",
      "MERGE findings",
      "INSERT INTO sink_runs",
    ])
      expect(transfer).toContain(statement.replaceAll(" ", "\\ "));
    expect(transfer).toContain("@@dataset_id\\ =\\ \\'bq_chargeback\\'");
    // nothing of the function mode's ingest: no audit-log topic, no ingest function, no dead letters
    expect(changes.join("\n")).not.toMatch(/bq-chargeback-audit-logs|bq-chargeback-ingest|dead-letter/);
    expect(changes.join("\n")).not.toMatch(/roles\/(owner|editor|[a-z]+\.admin)\b/);
    // the alerts function's account: what test/sink-alerts.test.ts runs it with, and nothing more
    const alertsGrants = changes.filter((line) => line.includes(SA("sink-alerts")) && /--role=/.test(line));
    expect(alertsGrants.map((line) => /--role=(\S+)/.exec(line)?.[1]).sort()).toEqual([
      "roles/bigquery.dataEditor",
      "roles/bigquery.jobUser",
    ]);
  });

  it("--mode sink deploys once, adds the notification to a scheduled query that lacks it, and tears down to the data", async () => {
    const args = [...DEPLOY_ARGS, "--mode", "sink"];
    const { bigquery, endpoint } = await registryEndpoint();
    const first = await cloudRun("deploy", args, cloud, endpoint);
    expect(first.mutatingCalls.length).toBeGreaterThan(30);
    expect(bigquery.rows("registry_versions")).toHaveLength(1);
    const again = await cloudRun("deploy", args, cloud, endpoint);
    await bigquery.stop();
    // the push is run again and writes nothing: its version is there
    expect(again.changes, again.stdout).toEqual([expect.stringMatching(/ registry push --registry /)]);
    expect(again.stdout).toMatch(
      /registry version \S+ is already in acme-chargeback.bq_chargeback: nothing written/,
    );
    expect(again.mutatingCalls).toEqual([]);
    expect(again.stdout).toMatch(
      /= exists: scheduled query 'bq-chargeback sink pipeline', notifying bq-chargeback-sink-runs/,
    );
    // a scheduled query of an earlier deployment, without the notification, is given it
    const [configKey] = Object.keys(cloud.state.resources).filter((k) => k.startsWith("bq transfer_config "));
    (cloud.state.resources[configKey as string] as Record<string, string>).notificationPubsubTopic = "";
    const update = await cloudRun("deploy", [...args, "--dry-run"], cloud);
    expect(update.changes.filter((line) => !line.includes("registry push"))).toEqual([
      expect.stringMatching(
        /^\+ bq update --transfer_config --notification_pubsub_topic=projects\/acme-chargeback\/topics\/bq-chargeback-sink-runs projects\/123456789012\/locations\/us\/transferConfigs\//,
      ),
    ]);
    const { state } = await cloudRun("teardown", args, cloud);
    expectTornDown(state);
  });

  it("the sink mode's scheduled query is sql/sink in order, on a checked dataset", () => {
    const script = sinkScript("acme-chargeback", "bq_chargeback");
    expect(
      script.startsWith(
        "SET @@dataset_project_id = 'acme-chargeback';\n\nSET @@dataset_id = 'bq_chargeback';",
      ),
    ).toBe(true);
    const order = sinkSteps().map((step) => script.indexOf(step.sql.trim()));
    expect(order.every((at, i) => at > 0 && (i === 0 || at > (order[i - 1] as number)))).toBe(true);
    expect(() => sinkScript("acme-chargeback", "x'; DROP TABLE job_costs; --")).toThrow(/not a dataset id/);
  });

  it("deploys once: a second run, dry or not, creates and grants nothing", async () => {
    const first = await cloudRun("deploy", DEPLOY_ARGS, cloud);
    expect(first.mutatingCalls.length).toBeGreaterThan(40);
    // 6. the policy on the new log-based metric was refused twice (NOT_FOUND), then created
    expect(first.stdout).toMatch(/not accepted yet; attempt 3 of 30/);
    const policies = Object.values(first.state.resources).filter((r) => r.name?.includes("/alertPolicies/"));
    expect(policies.map((p) => p.displayName).sort()).toEqual([
      "bq-chargeback: audit-log entries dead-lettered",
      "bq-chargeback: free ride or unexpected billing project",
    ]);
    // 4. the trigger's subscription dead-letters to a topic that has a subscription
    const triggerSub = Object.entries(first.state.resources).find(([k]) =>
      k.includes("eventarc-bq-chargeback-ingest-sub"),
    );
    expect(triggerSub?.[1]["dead-letter-topic"]).toBe("bq-chargeback-dead-letter");
    expect(Object.values(first.state.resources).some((r) => r.topic === "bq-chargeback-dead-letter")).toBe(
      true,
    );

    for (const dry of [true, true, false]) {
      const again = await cloudRun("deploy", [...DEPLOY_ARGS, ...(dry ? ["--dry-run"] : [])], cloud);
      expect(again.changes, again.stdout).toEqual([]);
      expect(again.mutatingCalls).toEqual([]);
      expect(again.stdout).toMatch(/= up to date: bq-chargeback-ingest/);
      expect(again.stdout).toMatch(
        /= exists: alert policy 'bq-chargeback: free ride or unexpected billing project'/,
      );
    }
  });

  it("tears down everything it created, grants and alert policies included, and keeps the data unless asked", async () => {
    await cloudRun("deploy", DEPLOY_ARGS, cloud);
    const teardownArgs = DEPLOY_ARGS.filter((_, i) => !["--schedule"].includes(DEPLOY_ARGS[i] ?? ""));
    const { state } = await cloudRun("teardown", teardownArgs, cloud);
    expectTornDown(state);
    const withData = await cloudRun("teardown", [...teardownArgs, "--delete-data"], cloud);
    expect(withData.changes).toEqual([
      expect.stringMatching(/bq rm -r -f --dataset acme-chargeback:bq_chargeback/),
    ]);
    expect(Object.keys(withData.state.resources)).toEqual([
      "gcloud storage buckets gs://acme-chargeback-reports project=acme-chargeback",
    ]);
  });

  it("with --iam-audit adds the daily IAM audit, its one organisation grant, and takes them all down again", async () => {
    const args = [...DEPLOY_ARGS, "--iam-audit"];
    const dry = await cloudRun("deploy", [...args, "--dry-run"], cloud);
    expect(dry.mutatingCalls).toEqual([]);
    const steps = [
      /gcloud services enable .*cloudasset.googleapis.com/,
      /gcloud iam service-accounts create bq-chargeback-iam /,
      /bq add-iam-policy-binding --member=serviceAccount:bq-chargeback-iam@acme-chargeback.iam.gserviceaccount.com --role=roles\/bigquery.dataEditor acme-chargeback:bq_chargeback/,
      /gcloud organizations add-iam-policy-binding 123456789 --condition=None --member=serviceAccount:bq-chargeback-iam@.* --role=roles\/cloudasset.viewer/,
      /gcloud functions deploy bq-chargeback-iam .*--entry-point=auditIamPolicies --trigger-http --no-allow-unauthenticated --service-account=bq-chargeback-iam@.*BQ_CHARGEBACK_IAM_SCOPE=organizations\/123456789/,
      /gcloud run services add-iam-policy-binding bq-chargeback-iam .*bq-chargeback-scheduler@.*--role=roles\/run.invoker/,
      /gcloud scheduler jobs create http bq-chargeback-iam-daily .*--http-method=POST .*--oidc-service-account-email=bq-chargeback-scheduler@/,
    ];
    let from = 0;
    for (const step of steps) {
      const at = dry.changes.findIndex((line, i) => i >= from && step.test(line));
      expect(at, `step ${step} (in order)`).toBeGreaterThanOrEqual(0);
      from = at;
    }
    // The organisation grant is the audit account's alone, and read-only.
    const organisation = dry.changes.filter((line) => /organizations add-iam-policy-binding/.test(line));
    expect(organisation).toHaveLength(1);
    expect(organisation[0]).toContain(SA("iam"));
    expect(dry.changes.join("\n")).not.toMatch(/roles\/(owner|editor|[a-z]+\.admin)\b/);

    await cloudRun("deploy", args, cloud);
    const again = await cloudRun("deploy", args, cloud);
    expect(again.changes, again.stdout).toEqual([]);
    const { state } = await cloudRun("teardown", DEPLOY_ARGS, cloud);
    expectTornDown(state);
  });

  // The installed Google Cloud CLI is the reference for command names and flags: without an
  // account it parses a command fully, then stops before any request ("no active account"); a
  // wrong flag or a command missing from the GA track stops it earlier with another message.
  const gcloud = onPath("gcloud");
  it.skipIf(!gcloud)(
    gcloud
      ? "runs only commands and flags the installed Google Cloud CLI accepts"
      : "runs only commands and flags the installed Google Cloud CLI accepts (SKIPPED: no Google Cloud CLI installed)",
    async () => {
      // --iam-audit: its grant on the organisation, its function and daily job are checked too
      await cloudRun("deploy", [...DEPLOY_ARGS, "--iam-audit"], cloud);
      await cloudRun("deploy", [...DEPLOY_ARGS, "--schedule", "0 7 2 * *"], cloud);
      cloud.state.resources["gcloud scheduler jobs bq-chargeback-monthly project=acme-chargeback"] = {};
      await cloudRun("deploy", DEPLOY_ARGS, cloud); // a job with the old deadline is updated
      await cloudRun("teardown", [...DEPLOY_ARGS, "--delete-data"], cloud);
      // the sink mode's commands too
      const { bigquery, endpoint } = await registryEndpoint();
      await cloudRun("deploy", [...DEPLOY_ARGS, "--mode", "sink"], cloud, endpoint);
      await cloudRun("teardown", [...DEPLOY_ARGS, "--mode", "sink"], cloud);
      await bigquery.stop();
      // one call of each shape: the command, then the names of its flags
      const shapes = new Map<string, string[]>();
      for (const { argv } of cloud.state.calls) {
        if (argv[0] !== "gcloud") continue;
        const words = argv.filter((arg) => !arg.startsWith("-"));
        const verb = words.findIndex((word) =>
          /^(create|describe|delete|deploy|update|list|enable|cp|[a-z-]+-iam-policy(-binding)?)$/.test(word),
        );
        const command = words.slice(0, verb + (words[verb + 1] === "http" ? 2 : 1));
        const flags = argv.filter((arg) => arg.startsWith("-")).map((arg) => arg.split("=")[0]);
        shapes.set([...command, ...flags].join(" "), argv);
      }
      expect(shapes.size).toBeGreaterThan(30);
      const config = mkdtempSync(join(tmpdir(), "gcloud-config-"));
      const verdicts: string[] = [];
      const queue = [...shapes.values()];
      const worker = async () => {
        for (let argv = queue.shift(); argv; argv = queue.shift()) {
          const answer = await run("gcloud", argv.slice(1), {
            env: { ...process.env, CLOUDSDK_CONFIG: config, CLOUDSDK_CORE_DISABLE_PROMPTS: "1" },
          }).then(
            () => "ran",
            (error: { stderr: string }) => error.stderr,
          );
          if (!answer.includes("You do not currently have an active account selected")) {
            verdicts.push(`${argv.join(" ")}\n  -> ${answer.split("\n").slice(0, 3).join(" ")}`);
          }
        }
      };
      await Promise.all([worker(), worker(), worker()]);
      expect(verdicts).toEqual([]);
    },
    600_000,
  );

  it("stages plain JavaScript with a lockfile of the runtime dependencies, for Node 22", async () => {
    const stage = mkdtempSync(join(tmpdir(), "bq-chargeback-stage-"));
    await run("bash", [`${ROOT}deploy/stage-source.sh`, stage, `${ROOT}sample/acme/registry.yaml`]);
    const files = (await run("find", [stage, "-type", "f", "-not", "-path", "*/sql/*"])).stdout.split("\n");
    expect(files.filter((file) => file.endsWith(".ts"))).toEqual([]);
    const pkg = JSON.parse(readFileSync(join(stage, "package.json"), "utf8"));
    const root = JSON.parse(readFileSync(`${ROOT}package.json`, "utf8"));
    expect(pkg.main).toBe("functions/index.js");
    expect(pkg.engines).toEqual({ node: "22.x" });
    expect(pkg.dependencies).toEqual(root.dependencies);
    expect(pkg.devDependencies).toBeUndefined();
    const lock = JSON.parse(readFileSync(join(stage, "package-lock.json"), "utf8"));
    const rootLock = JSON.parse(readFileSync(`${ROOT}package-lock.json`, "utf8"));
    expect(lock.packages[""].dependencies).toEqual(root.dependencies);
    expect(Object.keys(lock.packages)).toContain("node_modules/@google-cloud/functions-framework");
    expect(Object.keys(lock.packages)).not.toContain("node_modules/vitest");
    expect(Object.keys(lock.packages)).not.toContain("node_modules/typescript");
    // every staged package is the version tested here
    for (const [path, entry] of Object.entries(lock.packages as Record<string, { version?: string }>)) {
      if (path) expect(entry.version, path).toBe(rootLock.packages[path]?.version);
    }
    // The staged entry point loads with type stripping turned off, as a Node without it would.
    await run("ln", ["-s", `${ROOT}node_modules`, join(stage, "node_modules")]);
    const loaded = await run(
      process.execPath,
      [
        "--no-experimental-strip-types",
        "--input-type=module",
        "-e",
        'await import("./functions/index.js"); await import("./src/cloud/report.js"); console.log("loaded")',
      ],
      {
        cwd: stage,
        env: {
          ...process.env,
          GOOGLE_CLOUD_PROJECT: "acme-chargeback",
          BQ_CHARGEBACK_REGISTRY: "registry.yaml",
        },
      },
    );
    expect(loaded.stdout.trim()).toBe("loaded");
  }, 120_000);

  it("refuses bad input before doing anything", async () => {
    const attempt = (args: string[]) =>
      run("bash", [`${ROOT}deploy/deploy.sh`, ...args, "--dry-run"]).then(
        () => "ran",
        (error: { code: number; stderr: string }) => `${error.code}: ${error.stderr.trim()}`,
      );
    const base = [
      "--region",
      "europe-west1",
      "--organization",
      "1",
      "--registry",
      `${ROOT}sample/acme/registry.yaml`,
    ];
    expect(await attempt(["--project", "Acme Project", ...base])).toMatch(
      /^2: deploy.sh: --project: expected a project id/,
    );
    expect(await attempt(["--project", "acme-chargeback", ...base, "--folder", "2"])).toMatch(
      /exactly one of/,
    );
    expect(
      await attempt([
        "--project",
        "acme-chargeback",
        "--region",
        "europe-west1",
        "--organization",
        "1",
        "--registry",
        "/nope.yaml",
      ]),
    ).toMatch(/no such file/);
  });

  // shellcheck ships on no npm package: `bash .ci/run` installs Debian's and this lint runs there;
  // on a machine without it the test is skipped under a name that says so.
  const shellcheck = onPath("shellcheck");
  it.skipIf(!shellcheck)(
    shellcheck
      ? "passes shellcheck"
      : "passes shellcheck (SKIPPED: shellcheck not installed; apt-get install shellcheck, or run bash .ci/run)",
    async () => {
      const scripts = readdirSync(`${ROOT}deploy`)
        .filter((name) => name.endsWith(".sh"))
        .map((name) => `${ROOT}deploy/${name}`);
      expect(scripts.length).toBeGreaterThanOrEqual(2);
      await expect(run("shellcheck", scripts)).resolves.toBeDefined();
    },
  );
});
