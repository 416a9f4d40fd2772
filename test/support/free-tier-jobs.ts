// On-demand queries of one month for the free-tier tests (issue 11 B.8): the repository's v2
// jobChange fixture (test/fixtures/functions/v2-jobchange-done.json, BigQueryAuditMetadata as
// Google writes it, int64 as strings) with the billing project, principal, billed bytes and end
// time changed.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./cli.ts";

const TIB = 1n << 40n;

/** An on-demand query billed to `project`, run by `principal`, of `billed` bytes, ending at `endTime`. */
function query(name: string, project: string, principal: string, billed: bigint, endTime: string): string {
  const entry = JSON.parse(
    readFileSync(join(ROOT, "test/fixtures/functions/v2-jobchange-done.json"), "utf8"),
  );
  entry.insertId = name;
  entry.timestamp = endTime;
  entry.receiveTimestamp = endTime;
  entry.protoPayload.authenticationInfo.principalEmail = principal;
  const job = entry.protoPayload.metadata.jobChange.job;
  job.jobName = `projects/${project}/jobs/${name}`;
  entry.protoPayload.resourceName = job.jobName;
  entry.resource.labels.project_id = project;
  job.jobStats.endTime = endTime;
  job.jobStats.queryStats.totalProcessedBytes = String(billed);
  job.jobStats.queryStats.totalBilledBytes = String(billed);
  job.jobStats.queryStats.referencedTables = [`projects/${project}/datasets/d/tables/t`];
  return JSON.stringify(entry);
}

export const FOUR_TENTHS = (TIB * 4n) / 10n;
// October: finance's two queries on the 2nd and 5th, marketing's on the 9th fills the TiB (0.2 of
// its 0.4 TiB), finance's on the 20th pays in full; November starts a new TiB.
export const MONTH = [
  query("bquxjob_fin_20", "acme-fin-bi", "carol@acme.example", FOUR_TENTHS, "2026-10-20T18:00:00Z"),
  query("bquxjob_mkt_09", "acme-mkt-bi", "dan@mkt.acme.example", FOUR_TENTHS, "2026-10-09T18:00:00Z"),
  query("bquxjob_fin_05", "acme-fin-bi", "carol@acme.example", FOUR_TENTHS, "2026-10-05T18:00:00Z"),
  query("bquxjob_fin_02", "acme-fin-bi", "carol@acme.example", FOUR_TENTHS, "2026-10-02T18:00:00Z"),
  query("bquxjob_fin_nov", "acme-fin-bi", "carol@acme.example", FOUR_TENTHS, "2026-11-03T18:00:00Z"),
];
