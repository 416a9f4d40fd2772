// Configuration of the Cloud Functions, from environment variables, validated at start: a bad
// value stops the function with a message naming the variable, never a half-working deploy.
import { readFile } from "node:fs/promises";
import {
  isDatasetId,
  isLocation,
  isProjectId,
  LOCATION_EXPECTED,
  PROJECT_ID_EXPECTED,
  quotedTable,
} from "../core/identifiers.ts";
import { DEFAULT_TIME_ZONE, isValidTimeZone } from "../core/period.ts";
import { parseRegistry, type Registry } from "../core/registry.ts";
import { authHeaders, SCOPES } from "./google-auth.ts";

export class CloudConfigError extends Error {}

export interface CloudConfig {
  projectId: string;
  dataset: string;
  registry: string;
  bigqueryEndpoint?: string;
  alertsTopic?: string;
  reportBucket?: string;
  /** Another endpoint speaking the Cloud Storage JSON API (tests); then no credentials are used. */
  storageEndpoint?: string;
  timeZone: string;
  /** The dataset's location (US, EU, europe-west1): where report jobs run. */
  location: string;
  /** Where the organisation keeps data: each is snapshotted by its own jobs, the dataset's first. */
  storageLocations: string[];
  /** The Cloud Billing export table (PROJECT.DATASET.gcp_billing_export_v1_ACCOUNT): the report shares it out too. */
  billingExport?: string;
}

const TOPIC = /^projects\/([^/]+)\/topics\/[A-Za-z][A-Za-z0-9._~+%-]{2,254}$/;

export function readCloudConfig(env: NodeJS.ProcessEnv = process.env): CloudConfig {
  const projectId = env.GOOGLE_CLOUD_PROJECT ?? env.GCLOUD_PROJECT ?? "";
  if (!isProjectId(projectId)) {
    throw new CloudConfigError(`GOOGLE_CLOUD_PROJECT: expected ${PROJECT_ID_EXPECTED}, found "${projectId}"`);
  }
  const dataset = env.BQ_CHARGEBACK_DATASET || "bq_chargeback";
  if (!isDatasetId(dataset)) {
    throw new CloudConfigError(
      `BQ_CHARGEBACK_DATASET: expected letters, digits and underscores, found "${dataset}"`,
    );
  }
  const registry = env.BQ_CHARGEBACK_REGISTRY ?? "";
  if (registry === "")
    throw new CloudConfigError("BQ_CHARGEBACK_REGISTRY: expected a file path or a gs:// URL");
  const endpoint = env.BIGQUERY_API_ENDPOINT || undefined;
  if (endpoint !== undefined && !/^https?:\/\/[^\s/]+/.test(endpoint)) {
    throw new CloudConfigError(`BIGQUERY_API_ENDPOINT: expected http(s)://host[:port], found "${endpoint}"`);
  }
  const alertsTopic = env.BQ_CHARGEBACK_ALERTS_TOPIC || undefined;
  const topicProject = alertsTopic === undefined ? undefined : TOPIC.exec(alertsTopic)?.[1];
  if (alertsTopic !== undefined && !(topicProject !== undefined && isProjectId(topicProject))) {
    throw new CloudConfigError(
      `BQ_CHARGEBACK_ALERTS_TOPIC: expected projects/PROJECT/topics/TOPIC, found "${alertsTopic}"`,
    );
  }
  const reportBucket = env.BQ_CHARGEBACK_REPORT_BUCKET || undefined;
  if (
    reportBucket !== undefined &&
    !/^gs:\/\/[a-z0-9][a-z0-9._-]{1,220}[a-z0-9](\/.*)?$/.test(reportBucket)
  ) {
    throw new CloudConfigError(
      `BQ_CHARGEBACK_REPORT_BUCKET: expected gs://bucket[/prefix], found "${reportBucket}"`,
    );
  }
  const timeZone = env.BQ_CHARGEBACK_TIMEZONE || DEFAULT_TIME_ZONE;
  if (!isValidTimeZone(timeZone))
    throw new CloudConfigError(`BQ_CHARGEBACK_TIMEZONE: unknown time zone "${timeZone}"`);
  const storageEndpoint = env.BQ_CHARGEBACK_STORAGE_ENDPOINT || undefined;
  if (storageEndpoint !== undefined && !/^https?:\/\/[^\s/]+/.test(storageEndpoint)) {
    throw new CloudConfigError(
      `BQ_CHARGEBACK_STORAGE_ENDPOINT: expected http(s)://host[:port], found "${storageEndpoint}"`,
    );
  }
  const location = env.BQ_CHARGEBACK_LOCATION || "US";
  if (!isLocation(location)) {
    throw new CloudConfigError(`BQ_CHARGEBACK_LOCATION: expected ${LOCATION_EXPECTED}, found "${location}"`);
  }
  const storageLocations = (env.BQ_CHARGEBACK_STORAGE_LOCATIONS || location).split(/[\s,]+/).filter(Boolean);
  for (const each of storageLocations) {
    if (!isLocation(each)) {
      throw new CloudConfigError(
        `BQ_CHARGEBACK_STORAGE_LOCATIONS: expected ${LOCATION_EXPECTED}, separated by spaces, found "${each}"`,
      );
    }
  }
  // each location once, the dataset's own first (its snapshot needs no copy between locations)
  const sameAs = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
  const declared = storageLocations.filter(
    (each, i) => storageLocations.findIndex((o) => sameAs(o, each)) === i,
  );
  const ordered = [
    ...declared.filter((each) => sameAs(each, location)),
    ...declared.filter((each) => !sameAs(each, location)),
  ];
  const billingExport = env.BQ_CHARGEBACK_BILLING_EXPORT || undefined;
  if (billingExport !== undefined) {
    try {
      quotedTable(billingExport);
    } catch (error) {
      throw new CloudConfigError(`BQ_CHARGEBACK_BILLING_EXPORT: ${(error as Error).message}`);
    }
  }
  return {
    projectId,
    dataset,
    registry,
    bigqueryEndpoint: endpoint,
    alertsTopic,
    reportBucket,
    storageEndpoint,
    timeZone,
    location,
    storageLocations: ordered,
    billingExport,
  };
}

/** Reads the registry from a deployed file or a Cloud Storage object, and validates it. */
export async function loadRegistry(location: string): Promise<Registry> {
  const match = /^gs:\/\/([^/]+)\/(.+)$/.exec(location);
  if (!match) return parseRegistry(await readFile(location, "utf8"), location);
  const [, bucket, object] = match as unknown as [string, string, string];
  const url = `https://storage.googleapis.com/storage/v1/b/${encodeURIComponent(bucket)}/o/${encodeURIComponent(object)}?alt=media`;
  const response = await fetch(url, { headers: await authHeaders(SCOPES.storageRead) });
  if (!response.ok)
    throw new Error(
      `${location}: Cloud Storage answered ${response.status}: ${(await response.text()).slice(0, 200)}`,
    );
  return parseRegistry(await response.text(), location);
}
