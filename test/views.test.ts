// Issue 11, Beyond: views. A view's data is its project's; the report names which projects' data
// was read through another project's view. Entries: the v2 jobChange fixture
// (test/fixtures/functions/v2-jobchange-done.json) with `jobStats.queryStats.referencedViews`
// (BigQueryAuditMetadata.JobStats.Query `repeated string referenced_views = 7`, googleapis
// google/cloud/audit/bigquery_audit_metadata.proto) and the real v1 capture
// (test/fixtures/entries/v1-jobcompleted.google-cloudevents.json) with
// `jobStatistics.referencedViews[]` (JobStatistics `repeated TableName referenced_views = 11`,
// google/cloud/bigquery/logging/v1/audit_data.proto). The tables read through a view are listed
// in referencedTables too (DataHub's BigQuery lineage from audit logs relies on it:
// datahub-project/datahub pull requests #7408 and #8046).
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { attribute } from "../src/core/attribute.ts";
import { parseEntry } from "../src/core/parse.ts";
import { parseRegistry } from "../src/core/registry.ts";
import type { JobEvent } from "../src/core/types.ts";
import { viewReadsOf } from "../src/core/view-reads.ts";
import { reportOn } from "./support/cli.ts";

const read = (path: string) => readFileSync(new URL(`fixtures/${path}`, import.meta.url), "utf8");
const registry = parseRegistry(read("functions/registry.yaml"), "registry.yaml");

const VIEW = "projects/acme-mkt-bi/datasets/shared/tables/campaign_revenue_v";
const BEHIND = "projects/acme-fin-lake/datasets/ledger/tables/entries";

/** The v2 fixture: carol (finance) in finance's project, through marketing's view over finance's ledger. */
function v2Entry(name = "bquxjob_view", views: string[] = [VIEW], tables: string[] = [BEHIND]) {
  const log = JSON.parse(read("functions/v2-jobchange-done.json"));
  log.protoPayload.authenticationInfo.principalEmail = "carol@acme.example";
  const job = log.protoPayload.metadata.jobChange.job;
  job.jobName = `projects/acme-fin-bi/jobs/${name}`;
  job.jobStats.queryStats.referencedTables = tables;
  job.jobStats.queryStats.referencedViews = views;
  return log;
}

function asJob(entry: unknown): JobEvent {
  const parsed = parseEntry(entry, JSON.stringify(entry), { file: "test", line: 1 });
  if (parsed.kind !== "job") throw new Error(`expected a job, got ${parsed.kind}`);
  return parsed;
}

describe("referenced views", () => {
  it("are read from v2 queryStats.referencedViews and v1 jobStatistics.referencedViews", () => {
    expect(asJob(v2Entry()).referencedViews).toEqual([VIEW]);
    const v1 = JSON.parse(read("entries/v1-jobcompleted.google-cloudevents.json"));
    v1.protoPayload.serviceData.jobCompletedEvent.job.jobStatistics.referencedViews = [
      { projectId: "acme-mkt-bi", datasetId: "shared", tableId: "campaign_revenue_v" },
      { projectId: "acme-mkt-bi", datasetId: "shared", tableId: "campaign_revenue_v" },
    ];
    const job = asJob(v1);
    expect(job.referencedViews).toEqual([VIEW]);
    expect(job.referencedTables).toEqual(["projects/bigquery-samples/datasets/reddit/tables/full"]);
  });

  it("a view's project is among the job's data projects, its department among the data owners", () => {
    const attribution = attribute(asJob(v2Entry()), registry);
    expect(attribution.dataProjects).toEqual(["acme-fin-lake", "acme-mkt-bi"]);
    expect(attribution.dataOwnerDepartments).toEqual(["finance", "marketing"]);
  });

  it("names the projects read through another project's view, not the view's own tables", () => {
    expect(
      viewReadsOf({
        referencedViews: [VIEW, "projects/px-data/datasets/s/tables/v"],
        referencedTables: [BEHIND, "projects/acme-mkt-bi/datasets/shared/tables/campaigns"],
      }),
    ).toEqual([
      { viewProject: "acme-mkt-bi", dataProjects: ["acme-fin-lake"] },
      { viewProject: "px-data", dataProjects: ["acme-fin-lake"] },
    ]);
    expect(viewReadsOf({ referencedViews: [], referencedTables: [BEHIND] })).toEqual([]);
  });

  it("the report says whose data was read through whose view, with jobs and cost", async () => {
    const entries = [
      v2Entry("j1"),
      v2Entry("j2"),
      // a view over its own project's tables only: nothing read through another's view
      v2Entry("j3", [VIEW], ["projects/acme-mkt-bi/datasets/shared/tables/campaigns"]),
      v2Entry("j4", [], [BEHIND]),
    ];
    const result = await reportOn(entries, read("functions/registry.yaml"));
    const out = result.out;
    expect(result.stderr).toBe("");
    const summary = JSON.parse(await readFile(join(out, "summary.json"), "utf8"));
    // each job bills 512 GiB at 6.25 USD/TiB
    expect(summary.views_across_projects).toEqual([
      {
        view_project: "acme-mkt-bi",
        view_owner: "marketing",
        data_project: "acme-fin-lake",
        data_owner: "finance",
        jobs: 2,
        compute_usd: "6.250000",
      },
    ]);
    const markdown = await readFile(join(out, "report.md"), "utf8");
    expect(markdown).toContain("## Data read through another project's view");
    const html = await readFile(join(out, "report.html"), "utf8");
    expect(html).toContain(`<section id="views"><h2>Data read through another project's view</h2>`);
    expect(markdown).toContain("| acme-mkt-bi | marketing | acme-fin-lake | finance | 2 | 6.250000 |");
  }, 60_000);
});
