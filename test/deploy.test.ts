// deploy/: the sink filter selects exactly the entries the parser uses, the dry run prints the
// whole deployment, and the scripts pass shellcheck.
import { execFile } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { parseEntry } from "../src/core/parse.ts";
import { matches, parseFilter } from "../src/deploy/logging-filter.ts";
import { generateEntries } from "../src/sample/generate.ts";

const run = promisify(execFile);
const ROOT = new URL("..", import.meta.url).pathname;
const FILTER = parseFilter(readFileSync(`${ROOT}deploy/sink-filter.txt`, "utf8"));

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

describe("deploy/deploy.sh", () => {
  it("prints every step of the deployment in --dry-run, and runs none", async () => {
    const { stdout } = await run("bash", [
      `${ROOT}deploy/deploy.sh`,
      "--project",
      "acme-chargeback",
      "--region",
      "europe-west1",
      "--organization",
      "123456789",
      "--registry",
      `${ROOT}sample/acme/registry.yaml`,
      "--dry-run",
    ]);
    const steps = [
      /bq --location=US mk --dataset .* acme-chargeback:bq_chargeback/,
      /bq query --use_legacy_sql=false .*--dataset_id=acme-chargeback:bq_chargeback < sql\/ddl\/job_costs.sql/,
      /gcloud pubsub topics create bq-chargeback-audit-logs/,
      /gcloud pubsub topics create bq-chargeback-dead-letter/,
      /bq add-iam-policy-binding --member=serviceAccount:bq-chargeback-fn@acme-chargeback.iam.gserviceaccount.com --role=roles\/bigquery.dataEditor acme-chargeback:bq_chargeback/,
      /gcloud projects add-iam-policy-binding acme-chargeback .*--role=roles\/bigquery.jobUser/,
      /gcloud organizations add-iam-policy-binding 123456789 .*--role=roles\/bigquery.metadataViewer/,
      /gcloud logging sinks create bq-chargeback pubsub.googleapis.com\/projects\/acme-chargeback\/topics\/bq-chargeback-audit-logs --organization=123456789 --include-children --log-filter=/,
      /gcloud pubsub topics add-iam-policy-binding bq-chargeback-audit-logs .*--member=serviceAccount:WRITER_IDENTITY_OF_THE_SINK --role=roles\/pubsub.publisher/,
      /gcloud functions deploy bq-chargeback-ingest --gen2 --runtime=nodejs22 .*--trigger-topic=bq-chargeback-audit-logs --retry/,
      /gcloud functions deploy bq-chargeback-report --gen2 --runtime=nodejs22 .*--trigger-http --no-allow-unauthenticated/,
      /gcloud pubsub subscriptions update .*--dead-letter-topic=bq-chargeback-dead-letter/,
      /gcloud run services add-iam-policy-binding bq-chargeback-report .*--role=roles\/run.invoker/,
      /gcloud scheduler jobs create http bq-chargeback-monthly .*--oidc-service-account-email=bq-chargeback-scheduler@acme-chargeback.iam.gserviceaccount.com/,
      /gcloud logging metrics create bq_chargeback_findings/,
      /gcloud alpha monitoring policies create/,
    ];
    const lines = stdout.split("\n").filter((line) => line.startsWith("+ "));
    let from = 0;
    for (const step of steps) {
      const at = lines.findIndex((line, i) => i >= from && step.test(line));
      expect(at, `step ${step} (in order)`).toBeGreaterThanOrEqual(0);
      from = at;
    }
    // no role broader than needed: never owner, editor or admin roles
    expect(stdout).not.toMatch(/roles\/(owner|editor|[a-z]+\.admin)\b/);
  });

  it("has a teardown that removes the same resources and keeps the data unless asked", async () => {
    const { stdout } = await run("bash", [
      `${ROOT}deploy/teardown.sh`,
      "--project",
      "acme-chargeback",
      "--region",
      "europe-west1",
      "--organization",
      "123456789",
      "--dry-run",
    ]);
    for (const step of [
      /gcloud scheduler jobs delete bq-chargeback-monthly/,
      /gcloud functions delete bq-chargeback-ingest/,
      /gcloud logging sinks delete bq-chargeback --organization=123456789/,
      /gcloud pubsub topics delete bq-chargeback-audit-logs/,
      /gcloud iam service-accounts delete bq-chargeback-fn@acme-chargeback.iam.gserviceaccount.com/,
    ]) {
      expect(stdout).toMatch(step);
    }
    expect(stdout).not.toMatch(/bq rm/);
    const withData = await run("bash", [
      `${ROOT}deploy/teardown.sh`,
      "--project",
      "acme-chargeback",
      "--region",
      "europe-west1",
      "--organization",
      "1",
      "--delete-data",
      "--dry-run",
    ]);
    expect(withData.stdout).toMatch(/bq rm -r -f --dataset acme-chargeback:bq_chargeback/);
  });

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
  const shellcheck = existsSync("/usr/bin/shellcheck");
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
