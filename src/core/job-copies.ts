// One job reaches us in several copies: v2 jobChange and v1 jobcompleted entries of the same job,
// Pub/Sub redeliveries, an export read twice. Which copies are one job (the key) and which copy
// tells the most (the completeness), the same rule in TypeScript and in sql/ (JOB_KEY_SQL).

/**
 * The de-duplication key of a job id: `PROJECT:JOB`, without the location. Google's entries name
 * one job with and without its location (v1 jobName.location is often absent, v2 takes it from
 * resource.labels.location, tableDataRead.jobName has none) and in either case (`US`, `us`); a job id
 * is unique in its project (JobReference: "the ID of the job", letters, digits, `_` and `-` only,
 * https://cloud.google.com/bigquery/docs/reference/rest/v2/JobReference), so neither dots nor colons
 * occur in it, and the location is the text between the last colon and the dot.
 */
export function jobKey(jobId: string): string {
  const colon = jobId.lastIndexOf(":");
  if (colon < 0) return jobId;
  const dot = jobId.indexOf(".", colon + 1);
  return dot < 0 ? jobId : `${jobId.slice(0, colon + 1)}${jobId.slice(dot + 1)}`;
}

/** jobKey in BigQuery SQL, on job_costs.job_id: keep in step with jobKey (tested on the same ids). */
export const JOB_KEY_SQL = String.raw`REGEXP_REPLACE(job_id, r'^(.*):[^:.]*\.([^:.]*)$', r'\1:\2')`;

/** The facts of a copy that tell how complete it is (a JobEvent, a JobSummary, a job_costs row all have them). */
export interface JobCopyFacts {
  principal: string;
  location: string;
  billedBytes: bigint;
  processedBytes: bigint;
  slotMs: bigint;
  format: string;
}

/**
 * How much a copy of a job tells, to keep the best of several: who ran it (8) outweighs its
 * statistics (4), which outweigh its location (2); v2 wins a tie with v1 (1), since v1 lacks
 * cacheHit and the reservation. An entry with an empty authenticationInfo or without statistics
 * never wins over one that has them. The same sum in SQL: COPY_COMPLETENESS_SQL.
 */
export function copyCompleteness(copy: JobCopyFacts): number {
  return (
    (copy.principal !== "" ? 8 : 0) +
    (copy.billedBytes > 0n || copy.processedBytes > 0n || copy.slotMs > 0n ? 4 : 0) +
    (copy.location !== "" ? 2 : 0) +
    (copy.format === "v2" ? 1 : 0)
  );
}

/** No copy can tell more than this: one that does is counted at once, never replaced. */
export const COMPLETE_COPY = 15;

/** copyCompleteness over the columns of job_costs. */
export const COPY_COMPLETENESS_SQL =
  "IF(principal != '', 8, 0) + IF(billed_bytes > 0 OR processed_bytes > 0 OR slot_ms > 0, 4, 0)" +
  " + IF(location != '', 2, 0) + IF(audit_format = 'v2', 1, 0)";
