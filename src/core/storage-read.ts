// The Storage Read API (bigquerystorage.googleapis.com): what a read session's reads cost, and
// the free ride it allows. A session is billed to the project that creates it (CreateReadSession
// `parent`: "The request project that owns the session"; v1beta1: "the project that will be
// billed for usage", cloud.google.com/bigquery/docs/reference/storage/rpc), per TiB of the logical
// bytes its ReadRows calls scan (`scannedBytes`, "used to calculate the analysis cost of the read
// operation": cloud.google.com/bigquery/docs/reference/storage#monitor_storage_read_api_use). So
// whoever holds bigquery.readsessions.create (roles/bigquery.readSessionUser) on our project can
// read any table they may see and bill it to us, as roles/bigquery.jobUser allows for queries.
import type { RegistryView } from "./detect.ts";
import { iamMember } from "./detect.ts";
import { mulDivRound, type Nanos } from "./money.ts";
import { BYTES_PER_TIB } from "./pricebook.ts";
import type { Finding, Severity, TableReadEvent } from "./types.ts";

/**
 * USD per TiB read, in nano-dollars, by multi-region: "Streaming reads ... Starting at $1.10 per
 * TiB read" (https://cloud.google.com/bigquery, pricing table, mirror 2026-08-22), in force since
 * the Storage Read API moved to regional SKUs for bytes scanned (release note 2021-10-04,
 * https://cloud.google.com/bigquery/docs/release-notes). The US and EU multi-regions are the
 * "starting at" price; other regions differ and are not priced here. The first 300 TB a month per
 * billing account are free: not deducted, as the on-demand free tier is not. The sink pipeline
 * reads the same figures from price_book (registry-tables.ts).
 */
export const STORAGE_READ_PRICES: readonly {
  location: string;
  from: string;
  nanosPerTib: Nanos;
  source: string;
}[] = [
  {
    location: "us",
    from: "2021-10-04",
    nanosPerTib: 1_100_000_000n,
    source: "https://cloud.google.com/bigquery/pricing#data_extraction_pricing",
  },
  {
    location: "eu",
    from: "2021-10-04",
    nanosPerTib: 1_100_000_000n,
    source: "https://cloud.google.com/bigquery/pricing#data_extraction_pricing",
  },
];

/**
 * The cost of bytes read in a location on a billing day, rounded half-up to the nano-dollar;
 * undefined where no price is known.
 */
export function storageReadCost(scannedBytes: bigint, location: string, day: string): Nanos | undefined {
  const where = location.toLowerCase().replace(/^region-/, "");
  const price = STORAGE_READ_PRICES.filter((p) => p.location === where && p.from <= day).sort((a, b) =>
    a.from < b.from ? 1 : -1,
  )[0];
  return price === undefined ? undefined : mulDivRound(scannedBytes, price.nanosPerTib, BYTES_PER_TIB);
}

/**
 * The free ride of one Storage Read API entry of our table, if it is one: a read session billed to
 * one of our department projects by an outsider (high), or by a principal of another department
 * (medium). The finding's job id is the session; its cost, the bytes this entry scanned.
 */
export function storageReadFinding(
  read: TableReadEvent,
  view: RegistryView,
  usageDate: string,
): Finding | undefined {
  const session = read.readSession;
  if (!session || view.projectKind(session.project) !== "department") return undefined;
  const payer = view.projectDepartment(session.project);
  const kind = view.principalKind(read.principal);
  const member = iamMember(read.principal);
  let severity: Severity;
  let who: string;
  if (kind === "external" || kind === "partner") {
    severity = "high";
    who = "a principal outside the organisation";
  } else {
    const department = view.principalDepartment(read.principal);
    if ((kind !== "registered" && kind !== "service_account") || department === payer) return undefined;
    severity = "medium";
    who = `a principal of ${department}`;
  }
  const cost = storageReadCost(read.scannedBytes, session.location, usageDate);
  const priced =
    cost === undefined
      ? ` (its bytes are not priced: no Storage Read API price for ${session.location} on ${usageDate})`
      : "";
  return {
    kind: "storage_read_free_ride",
    severity,
    jobId: session.name,
    billingProject: session.project,
    principal: read.principal,
    dataProjects: [read.dataProject],
    cost: cost ?? 0n,
    remediation: `${who} read ${read.dataProject} through a Storage Read API session billed to ${session.project} (department ${payer})${priced}: remove roles/bigquery.readSessionUser (bigquery.readsessions.create) for ${member} on project ${session.project}, and let them create read sessions in their own project`,
    time: read.timestamp,
    usageDate,
  };
}
