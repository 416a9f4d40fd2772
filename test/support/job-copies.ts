// Copies of one job as Google writes them, from the v2 jobChange fixture
// (test/fixtures/functions/v2-jobchange-done.json, built to Google's reference field paths):
// - without resource.labels.location, as entries that name no location (JobReference.location is
//   optional: https://cloud.google.com/bigquery/docs/reference/rest/v2/JobReference), and with it
//   in lower case;
// - with an empty authenticationInfo, as Cloud Audit Logs writes for a caller whose identity it
//   withholds (https://cloud.google.com/logging/docs/audit#user-id);
// - without statistics (jobStats holding only its times), as an early copy of a job.
import { readFileSync } from "node:fs";

type Json = Record<string, any>;

const FIXTURE = new URL("../fixtures/functions/v2-jobchange-done.json", import.meta.url);

export function jobCopies() {
  const base = (): Json => JSON.parse(readFileSync(FIXTURE, "utf8"));
  const variant = (change: (entry: Json) => void) => {
    const entry = base();
    change(entry);
    return JSON.stringify(entry);
  };
  return {
    full: JSON.stringify(base()),
    noLocation: variant((entry) => {
      delete entry.resource.labels.location;
    }),
    lowerCaseLocation: variant((entry) => {
      entry.resource.labels.location = "us";
    }),
    emptyAuthentication: variant((entry) => {
      entry.protoPayload.authenticationInfo = {};
    }),
    noStatistics: variant((entry) => {
      const stats = entry.protoPayload.metadata.jobChange.job.jobStats;
      delete stats.queryStats;
      delete stats.totalSlotMs;
    }),
  };
}
