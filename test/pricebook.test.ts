import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { formatUsd, parseUsd } from "../src/core/money.ts";
import { parseEntry } from "../src/core/parse.ts";
import { DayClock } from "../src/core/period.ts";
import {
  BUILT_IN_PRICE_BOOK,
  type PricingContext,
  priceJob,
  priceStorageMonth,
  prorate,
  storageMonthWeightedBytes,
} from "../src/core/pricebook.ts";
import { parseRegistry } from "../src/core/registry.ts";
import type { JobEvent, TableStorage } from "../src/core/types.ts";
import { jobEvent } from "./support/jobs.ts";

const REGISTRY_HEAD = `organization: { domains: [acme.example] }
departments:
  - { id: platform, projects: [acme-platform] }
reservations:
  - { name: projects/acme-platform/locations/US/reservations/prod, edition: enterprise }
  - { name: acme-platform:EU.batch, edition: standard }
`;
const registry = parseRegistry(REGISTRY_HEAD, "registry.yaml");

/** Prices a job on its billing day in Los Angeles, as the pipeline does. */
const LOS_ANGELES = new DayClock();
const price = (job: JobEvent, context: PricingContext = registry) =>
  priceJob(job, context, LOS_ANGELES.dayOf(job.endTimeMs));

const TIB = 2n ** 40n;
const MIB = 2n ** 20n;
const GIB = 2n ** 30n;
const SLOT_HOUR_MS = 3_600_000n;

/** A job that ended at `endTime` (UTC) with `billedBytes`, on demand in the US unless overridden. */
const query = (billedBytes: bigint, endTime = "2026-10-15T12:00:00Z", more: Partial<JobEvent> = {}) =>
  price(jobEvent({ billedBytes, endTime, ...more }), registry);

describe("on-demand jobs", () => {
  it("prices Google's v1 capture (1450180608 B in 2021) at 5 USD/TiB", () => {
    const text = readFileSync(
      new URL("./fixtures/entries/v1-jobcompleted.google-cloudevents.json", import.meta.url),
      "utf8",
    );
    const job = parseEntry(JSON.parse(text), text, { file: "capture", line: 1 });
    if (job.kind !== "job") throw new Error("the capture did not parse as a job");
    const priced = price(job, registry);
    // 1450180608 B = 1383 MiB; 1383 x 5 / 2^20 USD = 0.00659465789794921875 USD -> 6594658 nanos (half-up)
    expect(priced).toEqual({
      pricingModel: "on_demand",
      computeCost: 6_594_658n,
      basis: "on-demand US 5 USD/TiB (from 2000-01-01) x 1450180608 B",
    });
    expect(formatUsd(priced.computeCost)).toBe("0.006595");
  });

  it("charges the price in force on the Pacific day the job ended (Google bills by PST8PDT days)", () => {
    // 00:00 UTC on the 5th is 17:00 on the 4th in Los Angeles: the old price
    expect(query(TIB, "2023-07-05T00:00:00Z").computeCost).toBe(parseUsd("5"));
    // 20:00 at UTC-7 on the 4th is 03:00 UTC on the 5th, still the 4th in Los Angeles
    expect(query(TIB, "2023-07-04T20:00:00-07:00").computeCost).toBe(parseUsd("5"));
    expect(query(TIB, "2023-07-05T06:59:59.999Z").computeCost).toBe(parseUsd("5"));
    expect(query(TIB, "2023-07-05T07:00:00Z").computeCost).toBe(parseUsd("6.25"));
    expect(query(TIB, "2023-07-05T07:00:00Z").basis).toBe(
      `on-demand US 6.25 USD/TiB (from 2023-07-05) x ${TIB} B`,
    );
  });

  it("takes billed bytes as logged: BigQuery already applied the 10 MiB minimum and MiB rounding", () => {
    // 10 MiB x 6.25 / 2^20 USD = 0.000059604644775390625 USD -> 59605 nanos
    expect(query(10n * MIB).computeCost).toBe(59_605n);
    // were the minimum applied again, 1 B would cost as much as 10 MiB
    expect(query(1n).computeCost).toBe(0n);
  });

  it("rounds once per job, half up, to the nano-dollar", () => {
    // 2^32 B = 4 GiB = 1/256 TiB: 6.25 / 256 USD = 0.0244140625 USD = 24414062.5 nanos
    expect(query(2n ** 32n).computeCost).toBe(24_414_063n);
    // 2^32 - 2^8 B: 24414062.5 - (2^8 x 6.25e9 / 2^40 = 1.455...) = 24414061.04... nanos
    expect(query(2n ** 32n - 256n).computeCost).toBe(24_414_061n);
  });

  it("prices each location at its own rate, case-insensitively", () => {
    const after = "2026-10-15T12:00:00Z";
    expect(query(TIB, after, { location: "us" }).computeCost).toBe(parseUsd("6.25"));
    expect(query(TIB, after, { location: "EU" }).computeCost).toBe(parseUsd("6.25"));
    expect(query(TIB, after, { location: "asia-northeast1" }).computeCost).toBe(parseUsd("7.5"));
    expect(query(TIB, after, { location: "europe-west1" }).computeCost).toBe(parseUsd("7.5"));
    expect(query(TIB, after, { location: "europe-west2" }).computeCost).toBe(parseUsd("7.8125"));
    expect(query(TIB, after, { location: "asia-southeast1" }).computeCost).toBe(parseUsd("8.4375"));
    expect(query(TIB, after, { location: "southamerica-east1" }).computeCost).toBe(parseUsd("11.25"));
    expect(query(TIB, after, { location: "Europe-West1" }).basis).toContain(
      "on-demand europe-west1 7.5 USD/TiB",
    );
    // Belgium had its own price before the change too
    expect(query(TIB, "2022-01-01T00:00:00Z", { location: "europe-west1" }).computeCost).toBe(parseUsd("6"));
  });

  it("falls back to the US price for a location it has no price for, and says so", () => {
    const mars = query(TIB, "2026-10-15T12:00:00Z", { location: "mars-north1" });
    expect(mars).toMatchObject({ pricingModel: "on_demand", computeCost: parseUsd("6.25") });
    expect(mars.basis).toContain("US price (no mars-north1 price)");
    // Tokyo's own price starts with the 2023 change: before it, the US price, said as such
    const tokyo2022 = query(TIB, "2022-06-01T00:00:00Z", { location: "asia-northeast1" });
    expect(tokyo2022.computeCost).toBe(parseUsd("5"));
    expect(tokyo2022.basis).toContain("US price (no asia-northeast1 price)");
    expect(query(TIB, "2026-10-15T12:00:00Z", { location: "" }).basis).toContain(
      "US price (job location unknown)",
    );
  });

  it("uses the registry's prices over the built-in ones, from their date", () => {
    const overridden = parseRegistry(
      `${REGISTRY_HEAD}prices:\n  on_demand: [{ location: US, from: 2026-01-01, usd_per_tib: 6.875 }]\n`,
      "r.yaml",
    );
    const at = (endTime: string) => price(jobEvent({ billedBytes: TIB, endTime }), overridden).computeCost;
    // midnight of 2026-01-01 in Los Angeles (PST, UTC-8) is 08:00 UTC
    expect(at("2026-01-01T07:59:59Z")).toBe(parseUsd("6.25"));
    expect(at("2026-01-01T08:00:00Z")).toBe(6_875_000_000n);
  });
});

describe("jobs that cost nothing, and the order of the rules", () => {
  const costly: Partial<JobEvent> = { billedBytes: TIB, slotMs: 10n * SLOT_HOUR_MS, processedBytes: TIB };

  it("does not bill a dry run, even of a script", () => {
    const priced = price(jobEvent({ ...costly, dryRun: true, statementType: "SCRIPT" }), registry);
    expect(priced).toMatchObject({ pricingModel: "not_billed", computeCost: 0n });
  });

  it("prices a script parent at 0 so its children are not counted twice, even on a reservation", () => {
    const priced = price(
      jobEvent({
        ...costly,
        statementType: "SCRIPT",
        reservation: "projects/acme-platform/locations/US/reservations/prod",
      }),
      registry,
    );
    expect(priced).toMatchObject({ pricingModel: "script_parent", computeCost: 0n });
    // its child (a SELECT with a parent) is priced normally
    const child = price(jobEvent({ ...costly, parentJobId: "acme-platform:US.script_job_1" }), registry);
    expect(child).toMatchObject({ pricingModel: "on_demand", computeCost: parseUsd("6.25") });
  });

  it("does not bill a cache hit", () => {
    expect(price(jobEvent({ ...costly, cacheHit: true }), registry)).toMatchObject({
      pricingModel: "cache_hit",
      computeCost: 0n,
    });
  });

  it("does not bill loads, exports and copies on demand", () => {
    for (const jobType of ["IMPORT", "EXPORT", "COPY"]) {
      expect(price(jobEvent({ ...costly, jobType, statementType: "" }), registry)).toMatchObject({
        pricingModel: "free_operation",
        computeCost: 0n,
      });
    }
  });

  it("does not charge a job that returned an error, and charges a cancelled one what it billed", () => {
    // "You aren't charged for queries that return an error ... canceling a running query might
    // incur charges" (INFORMATION_SCHEMA.JOBS bill-estimate query, isBillable)
    const error = { code: 3, message: "Syntax error" };
    const failed = price(jobEvent({ error, billedBytes: 20n * MIB }), registry);
    expect(failed).toMatchObject({ pricingModel: "on_demand", computeCost: 0n });
    expect(failed.basis).toContain("failed job");
    const cancelled = { code: 1, message: "Job execution was cancelled: User requested cancellation" };
    expect(price(jobEvent({ error: cancelled, billedBytes: 20n * MIB }), registry)).toMatchObject({
      pricingModel: "on_demand",
      computeCost: 119_209n, // 20 MiB x 6.25 / 2^20 USD = 119209.28955... nanos
    });
    // no billed bytes logged: not "unpriced", even though bytes were processed
    const unbilled = price(
      jobEvent({ error, billedBytes: 0n, billedBytesPresent: false, processedBytes: MIB }),
      registry,
    );
    expect(unbilled).toMatchObject({ pricingModel: "on_demand", computeCost: 0n });
  });

  it("refuses to guess when row-level security hid the billed bytes", () => {
    const hidden = price(
      jobEvent({ billedBytes: 0n, billedBytesPresent: false, processedBytes: 123_456n }),
      registry,
    );
    expect(hidden).toMatchObject({ pricingModel: "unpriced", computeCost: 0n });
    expect(hidden.basis).toContain("billed bytes hidden");
    // nothing processed and nothing billed is simply free
    const empty = price(
      jobEvent({ billedBytes: 0n, billedBytesPresent: false, processedBytes: 0n }),
      registry,
    );
    expect(empty).toMatchObject({ pricingModel: "on_demand", computeCost: 0n });
  });
});

describe("reservation jobs", () => {
  it("allocates slot-ms at the edition's slot-hour price, in every name form", () => {
    for (const reservation of [
      "projects/acme-platform/locations/US/reservations/prod",
      "projects/acme-platform/locations/us/reservations/prod",
      "acme-platform:US.prod",
    ]) {
      // 10 slot-hours x 0.06 USD (enterprise, US)
      const priced = price(jobEvent({ reservation, slotMs: 10n * SLOT_HOUR_MS, billedBytes: TIB }), registry);
      expect(priced).toEqual({
        pricingModel: "reservation",
        computeCost: parseUsd("0.6"),
        basis: "enterprise US 0.06 USD/slot-hour (from 2023-03-29) x 36000000 slot-ms",
      });
    }
  });

  it("prices loads on a reservation by their slots too", () => {
    const load = price(
      jobEvent({ jobType: "IMPORT", reservation: "acme-platform:US.prod", slotMs: SLOT_HOUR_MS }),
      registry,
    );
    expect(load).toMatchObject({ pricingModel: "reservation", computeCost: parseUsd("0.06") });
  });

  it("rounds slot cost half up to the nano-dollar", () => {
    // 1 slot-ms x 0.06 USD / 3 600 000 = 16.67 nanos
    const priced = price(jobEvent({ reservation: "acme-platform:US.prod", slotMs: 1n }), registry);
    expect(priced.computeCost).toBe(17n);
  });

  it("uses the US edition price where the location has none, and says so", () => {
    // standard in the EU: no EU standard figure in the built-in book
    const priced = price(
      jobEvent({ location: "EU", reservation: "acme-platform:EU.batch", slotMs: SLOT_HOUR_MS }),
      registry,
    );
    expect(priced.computeCost).toBe(parseUsd("0.04"));
    expect(priced.basis).toContain("US price (no EU price)");
  });

  it("marks a reservation missing from the registry as unpriced and names it", () => {
    const reservation = "projects/x-proj1/locations/US/reservations/adhoc";
    const priced = price(jobEvent({ reservation, slotMs: SLOT_HOUR_MS }), registry);
    expect(priced).toMatchObject({ pricingModel: "unpriced", computeCost: 0n });
    expect(priced.basis).toContain(`reservation ${reservation} is not in the registry`);
  });

  it("has no edition price before editions existed", () => {
    const priced = price(
      jobEvent({
        reservation: "acme-platform:US.prod",
        slotMs: SLOT_HOUR_MS,
        endTime: "2022-12-01T00:00:00Z",
      }),
      registry,
    );
    expect(priced).toMatchObject({ pricingModel: "unpriced", computeCost: 0n });
    expect(priced.basis).toContain("prices.editions");
  });
});

describe("storage", () => {
  const table: TableStorage = {
    projectId: "acme-platform",
    dataset: "ledger",
    table: "entries",
    location: "US",
    billingModel: "LOGICAL",
    activeLogicalBytes: 100n * GIB,
    longTermLogicalBytes: 50n * GIB,
    activePhysicalBytes: 30n * GIB,
    longTermPhysicalBytes: 10n * GIB,
    timeTravelPhysicalBytes: 5n * GIB,
    failSafePhysicalBytes: 2n * GIB,
    deleted: false,
    source: { file: "table_storage.csv", line: 2 },
  };

  it("prices the logical model: active and long-term logical bytes", () => {
    // 100 GiB x 0.02 + 50 GiB x 0.01
    expect(priceStorageMonth(table, registry, "2026-10-01")).toBe(parseUsd("2.5"));
  });

  it("prices the physical model: active (time travel inside it) plus fail-safe, and long-term", () => {
    // (30 + 2) GiB x 0.04 + 10 GiB x 0.02; the 5 GiB of time travel are already in the 30
    expect(priceStorageMonth({ ...table, billingModel: "PHYSICAL" }, registry, "2026-10-01")).toBe(
      parseUsd("1.48"),
    );
  });

  it("rounds once, after summing the classes", () => {
    // 2 MiB active at 0.02 = 39062.5 nanos, 1 MiB long-term at 0.01 = 9765.625 nanos:
    // 48828.125 in all -> 48828 (rounding each class first would give 39063 + 9766 = 48829)
    const small = { ...table, activeLogicalBytes: 2n * MIB, longTermLogicalBytes: MIB };
    expect(priceStorageMonth(small, registry, "2026-10-01")).toBe(48_828n);
    const prices = BUILT_IN_PRICE_BOOK.storage.find((p) => p.location === "us");
    if (!prices) throw new Error("no US storage price");
    // the unrounded sum the SQL reproduces: bytes x nano-dollars per GiB-month
    expect(storageMonthWeightedBytes(small, prices)).toBe(2n * MIB * 20_000_000n + MIB * 10_000_000n);
  });

  it("uses the storage price in force on the month's first day, from the registry when given", () => {
    const overridden = parseRegistry(
      `${REGISTRY_HEAD}prices:
  storage:
    - { location: US, from: 2026-11-01, active_logical: 0.023, long_term_logical: 0.016, active_physical: 0.05, long_term_physical: 0.025 }
`,
      "r.yaml",
    );
    expect(priceStorageMonth(table, overridden, "2026-10-01")).toBe(parseUsd("2.5"));
    // 100 x 0.023 + 50 x 0.016
    expect(priceStorageMonth(table, overridden, "2026-11-01")).toBe(parseUsd("3.1"));
  });

  it("leaves a location without storage prices unpriced, never at the US ones (pricing page: prices differ by location)", () => {
    expect(
      priceStorageMonth({ ...table, location: "region-asia-northeast1" }, registry, "2026-10-01"),
    ).toBeUndefined();
    expect(priceStorageMonth({ ...table, location: "region-us" }, registry, "2026-10-01")).toBe(
      parseUsd("2.5"),
    );
  });

  it("prorates a month's cost by days, half up", () => {
    expect(prorate(parseUsd("3.1"), 10, 31)).toBe(parseUsd("1"));
    expect(prorate(1n, 1, 2)).toBe(1n); // half a nano-dollar rounds up
    expect(prorate(parseUsd("2.5"), 30, 30)).toBe(parseUsd("2.5"));
    expect(() => prorate(1n, 1.5, 30)).toThrow(RangeError);
    expect(() => prorate(1n, 1, 0)).toThrow(RangeError);
  });
});
