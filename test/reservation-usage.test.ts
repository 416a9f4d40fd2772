// Jobs that ran on reservations, as older entries log them (issue 11 B.4): reservationUsage[]
// {name, slotMs} in v2 jobStats and v1 jobStatistics, in the core and in the sink pipeline
// (sql/sink on ZetaSQL). Google deprecated the field in both formats: "This field reported
// misleading information and will no longer be populated" (googleapis
// google/cloud/audit/bigquery_audit_metadata.proto JobStats.reservation_usage, "Reservation usage
// attributed from each tier of a reservation hierarchy"; google/cloud/bigquery/logging/v1/
// audit_data.proto JobStatistics.reservation_usage). jobStats.reservation ("Reservation name or
// "unreserved"") decides where present; the list is priced only where it cannot double count
// (src/core/pricebook.ts reservationSplitCost). No public capture holds the field, so the entries
// are the repository's fixtures with it added as the protos' JSON mapping writes it (int64 as
// strings): test/fixtures/functions/v2-jobchange-done.json (v2 jobChange) and
// test/fixtures/entries/v1-jobcompleted.google-cloudevents.json (v1 jobCompletedEvent).
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parseEntry } from "../src/core/parse.ts";
import { parseRegistry } from "../src/core/registry.ts";
import type { JobCost } from "../src/core/types.ts";
import { coreJobCost, pricedFromCore, pricedFromSink, sinkTablesForSuite } from "./support/sink-parity.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const PROD = "projects/acme-platform/locations/US/reservations/prod";
const BATCH = "projects/acme-platform/locations/US/reservations/batch";
const sample = readFileSync(`${ROOT}sample/acme/registry.yaml`, "utf8");
const registry = parseRegistry(
  sample.replace(
    `  - { name: ${PROD}, edition: enterprise }`,
    `  - { name: ${PROD}, edition: enterprise }\n  - { name: ${BATCH}, edition: standard }`,
  ),
  "registry.yaml",
);
const TIME_ZONE = "America/Los_Angeles";
type Json = Record<string, any>;
type Usage = { name: string; slotMs: unknown }[];

const fixture = (path: string): Json => JSON.parse(readFileSync(`${ROOT}test/fixtures/${path}`, "utf8"));

/** The v2 fixture (totalSlotMs "48211"), its reservation replaced by `reservation` and `usage`. */
function v2(insertId: string, usage: Usage, reservation?: string): Json {
  const entry = fixture("functions/v2-jobchange-done.json");
  entry.insertId = insertId;
  entry.protoPayload.authenticationInfo.principalEmail = "carol@acme.example";
  const job = entry.protoPayload.metadata.jobChange.job;
  job.jobName = `projects/acme-fin-bi/jobs/bquxjob_${insertId}`;
  entry.protoPayload.resourceName = job.jobName;
  delete job.jobStats.reservation;
  if (reservation) job.jobStats.reservation = reservation;
  job.jobStats.reservationUsage = usage;
  return entry;
}

/** The v1 capture (totalSlotMs "46"), with `usage` and no reservation, as a 2026 job of acme-fin-bi. */
function v1(insertId: string, usage: Usage): Json {
  const entry = fixture("entries/v1-jobcompleted.google-cloudevents.json");
  entry.insertId = insertId;
  entry.timestamp = "2026-10-14T17:02:20.276607Z";
  entry.resource.labels.project_id = "acme-fin-bi";
  entry.protoPayload.authenticationInfo.principalEmail = "carol@acme.example";
  const job = entry.protoPayload.serviceData.jobCompletedEvent.job;
  job.jobName = { jobId: `bqjob_${insertId}`, location: "US", projectId: "acme-fin-bi" };
  entry.protoPayload.resourceName = `projects/acme-fin-bi/jobs/bqjob_${insertId}`;
  const stats = job.jobStatistics;
  stats.createTime = "2026-10-14T17:01:59.872Z";
  stats.startTime = "2026-10-14T17:01:59.956Z";
  stats.endTime = "2026-10-14T17:02:00.236Z";
  stats.reservationUsage = usage;
  return entry;
}

const entries = {
  single: v2("single", [{ name: PROD, slotMs: "48211" }]),
  split: v2("split", [
    { name: PROD, slotMs: "30000" },
    { name: BATCH, slotMs: "18211" },
  ]),
  tiers: v2("tiers", [
    { name: PROD, slotMs: "48211" },
    { name: BATCH, slotMs: "48211" },
  ]),
  mixed: v2("mixed", [
    { name: "unreserved", slotMs: "20000" },
    { name: PROD, slotMs: "28211" },
  ]),
  named: v2("named", [{ name: BATCH, slotMs: "48211" }], PROD),
  unregistered: v2("unregistered", [
    { name: PROD, slotMs: "30000" },
    { name: "projects/acme-platform/locations/US/reservations/adhoc", slotMs: "18211" },
  ]),
  v1Single: v1("v1single", [{ name: PROD, slotMs: "46" }]),
  v1Split: v1("v1split", [
    { name: PROD, slotMs: "40" },
    { name: BATCH, slotMs: "6" },
  ]),
};

const costOf = (entry: Json): JobCost => coreJobCost(entry, registry);
/** slot-ms x nano-dollars per slot-hour, summed, one half-up rounding. */
const slotCost = (...parts: [bigint, bigint][]) => {
  const weighted = parts.reduce((sum, [ms, price]) => sum + ms * price, 0n);
  return (weighted * 2n + 3_600_000n) / 7_200_000n;
};
const ENTERPRISE = 60_000_000n; // 0.06 USD per slot-hour
const STANDARD = 40_000_000n; // 0.04

describe("reservationUsage in the core", () => {
  it("an older entry naming one reservation only there is priced on that reservation, not on demand", () => {
    const cost = costOf(entries.single);
    expect(cost.job.reservation).toBe(PROD);
    expect(cost.pricing).toMatchObject({
      pricingModel: "reservation",
      computeCost: slotCost([48211n, ENTERPRISE]),
    });
  });

  it("slot-ms split across reservations that add up to totalSlotMs are priced each at its edition", () => {
    const cost = costOf(entries.split);
    expect(cost.job.reservationUsage).toEqual([
      { name: PROD, slotMs: 30000n },
      { name: BATCH, slotMs: 18211n },
    ]);
    expect(cost.pricing).toMatchObject({
      pricingModel: "reservation",
      computeCost: slotCost([30000n, ENTERPRISE], [18211n, STANDARD]),
    });
    expect(cost.pricing.basis).toMatch(/^split as reservationUsage logged it: standard .* \+ enterprise /);
  });

  it("tiers that repeat the same slot-ms are never counted twice: unpriced, with the sums", () => {
    const cost = costOf(entries.tiers);
    expect(cost.pricing).toMatchObject({
      pricingModel: "unpriced",
      unpricedReason: "reservation_usage_unsplittable",
    });
    expect(cost.pricing.basis).toMatch(/add up to 96422, totalSlotMs is 48211/);
  });

  it("on-demand and reservation slots mixed cannot be split: unpriced", () => {
    expect(costOf(entries.mixed).pricing.unpricedReason).toBe("reservation_usage_unsplittable");
  });

  it("jobStats.reservation decides where it is logged", () => {
    expect(costOf(entries.named).pricing.computeCost).toBe(slotCost([48211n, ENTERPRISE]));
  });

  it("a reservation of the split missing from the registry is named", () => {
    const cost = costOf(entries.unregistered);
    expect(cost.pricing).toMatchObject({
      pricingModel: "unpriced",
      unpricedReason: "reservation_not_in_registry",
    });
    expect(cost.pricing.basis).toContain("reservations/adhoc");
  });

  it("v1 jobStatistics.reservationUsage the same way", () => {
    expect(costOf(entries.v1Single).pricing.computeCost).toBe(slotCost([46n, ENTERPRISE]));
    expect(costOf(entries.v1Split).pricing.computeCost).toBe(slotCost([40n, ENTERPRISE], [6n, STANDARD]));
  });

  it("a slotMs that is not an int64 rejects the entry, naming the field", () => {
    for (const [entry, path] of [
      [
        v2("bad", [{ name: PROD, slotMs: "48k" }]),
        "protoPayload.metadata.jobChange.job.jobStats.reservationUsage[0].slotMs",
      ],
      [
        v1("v1bad", [{ name: PROD, slotMs: 4.5 }]),
        "protoPayload.serviceData.jobCompletedEvent.job.jobStatistics.reservationUsage[0].slotMs",
      ],
    ] as const) {
      const parsed = parseEntry(entry, JSON.stringify(entry), { file: "t", line: 1 });
      expect(parsed).toMatchObject({ kind: "rejected", reason: "invalid_field" });
      expect(parsed.kind === "rejected" && parsed.detail).toMatch(
        new RegExp(`^${path.replace(/[.[\]]/g, "\\$&")}: expected an int64`),
      );
    }
  });
});

describe("reservationUsage names", () => {
  it("a name that is not Unicode text (an unpaired surrogate) rejects the entry: it would reach pricing_basis", () => {
    const entry = v2("surrogate", [
      { name: PROD, slotMs: "30000" },
      { name: "projects/acme-platform/locations/US/reservations/\ud800", slotMs: "18211" },
    ]);
    const parsed = parseEntry(entry, JSON.stringify(entry), { file: "t", line: 1 });
    expect(parsed).toMatchObject({ kind: "rejected", reason: "invalid_field" });
    expect(parsed.kind === "rejected" && parsed.detail).toMatch(
      /^protoPayload\.metadata\.jobChange\.job\.jobStats\.reservationUsage\[1\]\.name: expected Unicode text/,
    );
  });
});

describe("reservationUsage in the sink pipeline (sql/sink)", () => {
  const bad = v2("bad", [{ name: PROD, slotMs: "48k" }]);
  const tables = sinkTablesForSuite(registry, TIME_ZONE, [
    ["2026-10-16T00:00:00Z", [...Object.values(entries), bad]],
  ]);

  it("gives each job the core's pricing model and cost", () => {
    expect(pricedFromSink(tables().job_costs ?? [])).toEqual(
      pricedFromCore(Object.values(entries).map(costOf)),
    );
  });

  it("rejects the bad slotMs with the core's reason and words", () => {
    const parsed = parseEntry(bad, JSON.stringify(bad), { file: "t", line: 1 });
    const rejected = (tables().rejected_entries ?? []).map((row) => [row.reason, row.detail]);
    expect(rejected).toEqual([
      [parsed.kind === "rejected" && parsed.reason, parsed.kind === "rejected" && parsed.detail],
    ]);
  });
});
