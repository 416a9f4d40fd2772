// Issue 11, Beyond: job labels decide the consumer (registry label_keys and departments' labels).
// Entries: the v2 jobChange fixture (test/fixtures/functions/v2-jobchange-done.json, Google's
// reference field paths) with `jobConfig.labels` added where BigQueryAuditMetadata.JobConfig puts
// them (google/cloud/audit/bigquery_audit_metadata.proto, `map<string, string> labels = 3`), and
// the real v1 capture (test/fixtures/entries/v1-jobcompleted.google-cloudevents.json) with
// `jobConfiguration.labels` (google/cloud/bigquery/logging/v1/audit_data.proto, JobConfiguration
// `map<string, string> labels = 3`). Proto3 JSON writes a map as an object of strings.
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { attribute } from "../src/core/attribute.ts";
import { detectJobFindings } from "../src/core/detect.ts";
import { parseEntry } from "../src/core/parse.ts";
import { costJob, entryContext } from "../src/core/pipeline.ts";
import { parseRegistry } from "../src/core/registry.ts";
import type { JobEvent } from "../src/core/types.ts";
import { sinkRowEntry } from "../src/io/sink-rows.ts";
import { reportOn, table } from "./support/cli.ts";
import { configError } from "./support/config-error.ts";

const fixture = (path: string) =>
  JSON.parse(readFileSync(new URL(`fixtures/${path}`, import.meta.url), "utf8")) as Record<string, any>;

const yaml = (...lines: string[]) => `${lines.join("\n")}\n`;

const REGISTRY = yaml(
  "organization:",
  "  domains: [acme.example]",
  "label_keys: [cost-center, team]",
  "departments:",
  "  - id: finance",
  "    projects: [acme-fin-bi]",
  "    principals: [carol@acme.example]",
  '    labels: ["cost-center:cc-100", "team:ledger"]',
  "  - id: marketing",
  "    projects: [acme-mkt-bi]",
  '    principals: ["*@mkt.acme.example"]',
  "    labels:",
  "      - team:growth",
  "      - cost-center:cc-200",
  "shared_projects:",
  "  - { project: acme-etl, owner: finance }",
  "partners:",
  "  - id: partner-x",
  "    domains: [partner-x.example]",
);
const registry = parseRegistry(REGISTRY, "registry.yaml");

/** The v2 fixture's entry, run by `principal` in `project`, with job labels. */
function v2Entry(
  principal: string,
  project: string,
  labels?: Record<string, string>,
  name = "bquxjob_labelled",
) {
  const log = fixture("functions/v2-jobchange-done.json");
  log.protoPayload.authenticationInfo.principalEmail = principal;
  const job = log.protoPayload.metadata.jobChange.job;
  job.jobName = `projects/${project}/jobs/${name}`;
  log.resource.labels.project_id = project;
  if (labels) job.jobConfig.labels = labels;
  return log;
}

function v2Job(principal: string, project: string, labels?: Record<string, string>): JobEvent {
  const log = v2Entry(principal, project, labels);
  const parsed = parseEntry(log, JSON.stringify(log), { file: "v2", line: 1 });
  if (parsed.kind !== "job") throw new Error(`expected a job, got ${parsed.kind}`);
  return parsed;
}

describe("registry: label_keys and departments' labels", () => {
  it("reads the keys in order and each department's labels", () => {
    expect(registry.labelKeys).toEqual(["cost-center", "team"]);
    expect(registry.departments.map((d) => [d.id, d.labels])).toEqual([
      ["finance", ["cost-center:cc-100", "team:ledger"]],
      ["marketing", ["team:growth", "cost-center:cc-200"]],
    ]);
  });

  it("refuses a label whose key is not in label_keys, at its line", () => {
    const error = configError(REGISTRY.replace("      - team:growth", "      - squad:growth"));
    expect(error.message).toBe(
      "registry.yaml:13: departments[1].labels[0]: the key squad is not in label_keys (label_keys lists cost-center, team): add it there, at the place that sets its precedence",
    );
  });

  it("refuses labels without label_keys", () => {
    const error = configError(REGISTRY.replace("label_keys: [cost-center, team]\n", ""));
    expect(error.message).toMatch(
      /^registry\.yaml:7: departments\[0\]\.labels\[0\]: the key cost-center is not in label_keys \(no label_keys\)/,
    );
  });

  it("refuses one label in two departments", () => {
    const error = configError(REGISTRY.replace("team:growth", "team:ledger"));
    expect(error.message).toBe(
      "registry.yaml:13: departments[1].labels[0]: team:ledger is already a label of department finance",
    );
  });

  it("refuses what BigQuery would not accept as a label, and a YAML mapping written for one", () => {
    expect(configError(REGISTRY.replace("team:growth", "Team:Growth")).message).toMatch(
      /^registry\.yaml:13: departments\[1\]\.labels\[0\]: expected a job label key:value as bq query --label writes it, such as team:growth .*, found "Team:Growth"$/,
    );
    expect(configError(REGISTRY.replace("team:growth", "team: growth")).message).toMatch(
      /^registry\.yaml:13: departments\[1\]\.labels\[0\]: expected a job label key:value .*, found a mapping$/,
    );
    expect(configError(REGISTRY.replace("[cost-center, team]", "[cost-center, cost-center]")).message).toBe(
      "registry.yaml:3: label_keys[1]: label key cost-center is listed twice",
    );
    expect(configError(REGISTRY.replace("[cost-center, team]", "[1team]")).message).toMatch(
      /^registry\.yaml:3: label_keys\[0\]: expected a BigQuery label key/,
    );
  });
});

describe("a job label decides the consumer (who benefits), never the payer", () => {
  it("reads labels from v2 jobConfig.labels and v1 jobConfiguration.labels", () => {
    expect(v2Job("carol@acme.example", "acme-fin-bi", { team: "growth", env: "prod" }).labels).toEqual({
      team: "growth",
      env: "prod",
    });
    const v1 = fixture("entries/v1-jobcompleted.google-cloudevents.json");
    v1.protoPayload.serviceData.jobCompletedEvent.job.jobConfiguration.labels = { "cost-center": "cc-200" };
    const parsed = parseEntry(v1, JSON.stringify(v1), { file: "v1", line: 1 });
    expect(parsed.kind === "job" && parsed.labels).toEqual({ "cost-center": "cc-200" });
  });

  it("reads a sink table's v1 row, whose labels map is exported as repeated key/value", () => {
    // the real v1 capture as `bq extract` writes its sink row (test/fixtures/sink/bq-extract.ndjson)
    const line = readFileSync(new URL("fixtures/sink/bq-extract.ndjson", import.meta.url), "utf8").split(
      "\n",
    )[1] as string;
    const row = JSON.parse(line);
    row.protopayload_auditlog.servicedata_v1_bigquery.jobCompletedEvent.job.jobConfiguration.labels = [
      { key: "team", value: "growth" },
      { key: "env", value: "prod" },
    ];
    const entry = sinkRowEntry(row);
    const parsed = parseEntry(entry, line, { file: "bq-extract.ndjson", line: 2 });
    expect(parsed.kind === "job" && parsed.labels).toEqual({ team: "growth", env: "prod" });
  });

  it("a shared service account's job labelled team:growth is marketing's, paid by the billing project", () => {
    const job = v2Job("airflow@acme-etl.iam.gserviceaccount.com", "acme-etl", { team: "growth" });
    const attribution = attribute(job, registry);
    expect(attribution).toMatchObject({
      payerDepartment: "finance",
      consumerDepartment: "marketing",
      principalKind: "service_account",
      principalDepartment: "finance",
      label: { label: "team:growth", use: "consumer" },
    });
  });

  it("label_keys sets precedence: cost-center before team, whatever order the job writes them", () => {
    const job = v2Job("carol@acme.example", "acme-fin-bi", { team: "ledger", "cost-center": "cc-200" });
    expect(attribute(job, registry)).toMatchObject({
      consumerDepartment: "marketing",
      label: { label: "cost-center:cc-200", use: "consumer" },
    });
  });

  it("a value no department lists falls back to the principal, and says which label it was", () => {
    const job = v2Job("carol@acme.example", "acme-fin-bi", { team: "unheard-of" });
    const attribution = attribute(job, registry);
    expect(attribution.consumerDepartment).toBe("finance");
    expect(attribution.label).toEqual({ label: "team:unheard-of", use: "unknown_value" });
    expect(attribution.principalDepartment).toBeUndefined();
    // an unknown cost-center does not hide a known team
    expect(
      attribute(
        v2Job("carol@acme.example", "acme-fin-bi", { "cost-center": "cc-9", team: "growth" }),
        registry,
      ).label,
    ).toEqual({ label: "team:growth", use: "consumer" });
  });

  it("an outsider's label decides nothing: their job stays external and a free ride", () => {
    const job = v2Job("pat@partner-x.example", "acme-fin-bi", { team: "ledger" });
    const cost = costJob(job, entryContext(registry, { timeZone: "UTC" }));
    expect(cost.attribution.consumerDepartment).toBe("external:partner-x.example");
    expect(cost.attribution.label).toEqual({ label: "team:ledger", use: "outsider" });
    expect(cost.findings.map((finding) => finding.kind)).toEqual(["external_free_ride"]);
  });

  it("findings judge the principal's grant: finance's account labelling marketing's work in finance's project is no free ride", () => {
    const own = costJob(
      v2Job("carol@acme.example", "acme-fin-bi", { team: "growth" }),
      entryContext(registry, { timeZone: "UTC" }),
    );
    expect(own.attribution.consumerDepartment).toBe("marketing");
    expect(own.findings).toEqual([]);
    // a marketing user in finance's project is one, whatever label it writes
    const borrowed = costJob(
      v2Job("joe@mkt.acme.example", "acme-fin-bi", { team: "ledger" }),
      entryContext(registry, { timeZone: "UTC" }),
    );
    expect(borrowed.attribution.consumerDepartment).toBe("finance");
    const [finding] = borrowed.findings;
    expect(finding?.kind).toBe("cross_department_free_ride");
    expect(finding?.remediation).toContain("marketing should run its jobs in its own project");
  });

  it("without label_keys, labels change nothing", () => {
    const plain = parseRegistry(
      REGISTRY.replace("label_keys: [cost-center, team]\n", "").replace(/ {4}labels:.*\n( {6}- .*\n)*/g, ""),
      "registry.yaml",
    );
    const job = v2Job("carol@acme.example", "acme-fin-bi", { team: "growth" });
    const attribution = attribute(job, plain);
    expect(attribution.consumerDepartment).toBe("finance");
    expect(attribution.label).toBeUndefined();
    expect(
      detectJobFindings(
        job,
        attribution,
        { pricingModel: "on_demand", computeCost: 1n, basis: "" },
        "2026-10-14",
      ),
    ).toEqual([]);
  });
});

describe("label coverage in the report", () => {
  it("says which share of jobs and compute carry the keys, which a label attributed, and the values to register", async () => {
    // each job bills 512 GiB (the fixture's totalBilledBytes) at the same price: equal costs
    const entries = [
      v2Entry("airflow@acme-etl.iam.gserviceaccount.com", "acme-etl", { team: "growth" }, "j1"),
      v2Entry("carol@acme.example", "acme-fin-bi", { team: "unheard-of" }, "j2"),
      v2Entry("pat@partner-x.example", "acme-fin-bi", { team: "ledger" }, "j3"),
      v2Entry("carol@acme.example", "acme-fin-bi", { env: "prod" }, "j4"),
    ];
    const result = await reportOn(entries, REGISTRY);
    const out = result.out;
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      "labels        cost-center, team: on 75% of jobs (75% of compute), attributing 25% (25%); 1 label value no department lists",
    );
    const summary = JSON.parse(await readFile(join(out, "summary.json"), "utf8"));
    expect(summary.label_coverage).toMatchObject({
      keys: ["cost-center", "team"],
      jobs: 4,
      labelled: { jobs: 3, jobs_percent: 75, cost_percent: 75 },
      attributed_by_label: { jobs: 1, jobs_percent: 25 },
      outsiders_labels_ignored: { jobs: 1 },
      unknown_values: [{ label: "team:unheard-of", jobs: 1, compute_usd: "3.125000" }],
    });
    const markdown = await readFile(join(out, "report.md"), "utf8");
    expect(markdown).toContain("## Job labels");
    const html = await readFile(join(out, "report.html"), "utf8");
    expect(html).toContain('<section id="labels"><h2>Job labels</h2>');
    expect(html).toContain("<td>team:unheard-of</td>");
    expect(markdown).toContain("| team:unheard-of | 1 | 3.125000 |");
    // the labelled job of the shared account is marketing's in the matrix; the etl project's owner pays
    const matrix = await table(out, "chargeback_matrix.csv");
    expect(
      matrix.find((row) => row.payer_department === "finance" && row.consumer_department === "marketing")
        ?.jobs,
    ).toBe("1");
  }, 60_000);
});
