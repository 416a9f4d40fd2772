// The price book: list prices by location and effective date, each with its source, and the
// rules that turn a job or a table into nano-dollars. Users override or extend it in the
// registry (`prices:`). Figures marked third-party are not on a Google page we could store;
// keep them overridable and check them against your invoice.
import { mulDivRound, type Nanos, parseUsd } from "./money.ts";
import type { JobEvent, Pricing, TableStorage } from "./types.ts";

export type Edition = "standard" | "enterprise" | "enterprise_plus";
export const EDITIONS: readonly Edition[] = ["standard", "enterprise", "enterprise_plus"];

interface Dated {
  /** Lower-case location: `us`, `eu`, `europe-west1`. */
  location: string;
  /** First day the price applies, YYYY-MM-DD. */
  from: string;
  source: string;
}

export interface OnDemandPrice extends Dated {
  usdPerTib: Nanos;
}

export interface EditionPrice extends Dated {
  edition: Edition;
  usdPerSlotHour: Nanos;
}

export interface StoragePrice extends Dated {
  activeLogical: Nanos;
  longTermLogical: Nanos;
  activePhysical: Nanos;
  longTermPhysical: Nanos;
}

export interface PriceBook {
  onDemand: OnDemandPrice[];
  editions: EditionPrice[];
  storage: StoragePrice[];
}

const TIB = 2n ** 40n;
const GIB = 2n ** 30n;
const MS_PER_HOUR = 3_600_000n;
const EDITIONS_GA = "2023-07-05";

const PROD = "cloud.google.com/bigquery product page: on-demand $6.25 per TiB";
const MIG =
  "Google's migration guide SQL and bigquery-utils views price $5 per 2^40 bytes (before the 2023-07-05 change)";
const THIRD = "third-party capture of Google's pricing page, 2026-09 (unverified against Google)";

function onDemand(location: string, from: string, usd: string, source: string): OnDemandPrice {
  return { location, from, usdPerTib: parseUsd(usd), source };
}

function edition(name: Edition, location: string, usd: string, source: string): EditionPrice {
  return { edition: name, location, from: EDITIONS_GA, usdPerSlotHour: parseUsd(usd), source };
}

/** List prices. Sources: shared/reference/audit-log-formats.md §8. */
export const BUILT_IN_PRICE_BOOK: PriceBook = {
  onDemand: [
    onDemand("us", "2000-01-01", "5", MIG),
    onDemand("eu", "2000-01-01", "5", MIG),
    // "$5/TB in US (multi-region) to $6/TB in Belgium" before 2023 (xavor.com, third-party)
    onDemand("europe-west1", "2000-01-01", "6", "xavor.com blog, pre-2023 regional on-demand (third-party)"),
    // The on-demand change to $6.25 with editions took effect 2023-07-05 (adswerve, doit: third-party; date
    // corroborated by physical storage GA on 2023-07-05 in BigQuery release notes).
    onDemand("us", EDITIONS_GA, "6.25", PROD),
    onDemand("eu", EDITIONS_GA, "6.25", THIRD),
    onDemand("us-east1", EDITIONS_GA, "6.25", THIRD),
    onDemand("us-central1", EDITIONS_GA, "6.25", THIRD),
    onDemand("asia-northeast1", EDITIONS_GA, "7.5", THIRD),
    onDemand("europe-west1", EDITIONS_GA, "7.5", THIRD),
    onDemand("europe-west2", EDITIONS_GA, "7.8125", THIRD),
    onDemand("asia-southeast1", EDITIONS_GA, "8.4375", THIRD),
    onDemand("southamerica-east1", EDITIONS_GA, "11.25", THIRD),
  ],
  editions: [
    // "Starting at $0.04 per slot hour" (product page) is Standard; Enterprise and Enterprise Plus
    // pay-as-you-go US list prices from third-party summaries (adriennevermorel.com, adswerve).
    edition(
      "standard",
      "us",
      "0.04",
      "cloud.google.com/bigquery product page: starting at $0.04 per slot hour",
    ),
    edition("enterprise", "us", "0.06", "third-party summaries of the editions price list (unverified)"),
    edition("enterprise_plus", "us", "0.10", "third-party summaries of the editions price list (unverified)"),
    edition(
      "enterprise",
      "eu",
      "0.066",
      "sam-pitcher/bq_cost_optimization_assessment README, EU Enterprise Oct 2023 (third-party)",
    ),
  ],
  storage: [
    // Google's own forecast query in the INFORMATION_SCHEMA.TABLE_STORAGE docs (us-central1 prices).
    {
      location: "us",
      from: "2000-01-01",
      activeLogical: parseUsd("0.02"),
      longTermLogical: parseUsd("0.01"),
      activePhysical: parseUsd("0.04"),
      longTermPhysical: parseUsd("0.02"),
      source: "INFORMATION_SCHEMA.TABLE_STORAGE docs, forecast example prices",
    },
  ],
};

export function normaliseLocation(location: string): string {
  return location.trim().toLowerCase();
}

/** The entry in force for a location on a day, or the US one (said in `fallback`). */
function pick<T extends Dated>(
  list: readonly T[],
  location: string,
  day: string,
): { price: T; fallback: boolean } | undefined {
  const find = (where: string) => {
    let best: T | undefined;
    for (const entry of list) {
      if (entry.location === where && entry.from <= day && (!best || entry.from > best.from)) best = entry;
    }
    return best;
  };
  const exact = find(normaliseLocation(location));
  if (exact) return { price: exact, fallback: false };
  const us = find("us");
  return us ? { price: us, fallback: true } : undefined;
}

/** Adds registry overrides: an entry for the same location and date (and edition) replaces the built-in one. */
export function mergePriceBook(base: PriceBook, overrides: Partial<PriceBook>): PriceBook {
  const merge = <T extends Dated>(list: T[], extra: T[] | undefined, key: (entry: T) => string) => {
    if (!extra || extra.length === 0) return list;
    const replaced = new Set(extra.map(key));
    return [...list.filter((entry) => !replaced.has(key(entry))), ...extra];
  };
  return {
    onDemand: merge(base.onDemand, overrides.onDemand, (e) => `${e.location}|${e.from}`),
    editions: merge(base.editions, overrides.editions, (e) => `${e.edition}|${e.location}|${e.from}`),
    storage: merge(base.storage, overrides.storage, (e) => `${e.location}|${e.from}`),
  };
}

/** `projects/P/locations/L/reservations/R`, also from INFORMATION_SCHEMA's `P:L.R`. */
export function canonicalReservation(name: string): string {
  const short = /^([^:/]+):([^.]+)\.(.+)$/.exec(name);
  return short ? `projects/${short[1]}/locations/${short[2]}/reservations/${short[3]}` : name;
}

/** What pricing needs to know beyond the price book. */
export interface PricingContext {
  priceBook: PriceBook;
  /** canonical reservation name -> edition */
  reservationEditions: ReadonlyMap<string, Edition>;
}

const ZERO = (pricingModel: Pricing["pricingModel"], basis: string): Pricing => ({
  pricingModel,
  computeCost: 0n,
  basis,
});

const usdText = (nanos: Nanos) => {
  const text = (Number(nanos) / 1e9).toString();
  return text;
};

/**
 * A job's compute cost. Script parents cost 0 (their children carry the cost), cache hits and dry
 * runs 0, loads/copies/exports on demand 0; reservation jobs are allocated slot-ms x the edition's
 * slot-hour price; everything else is totalBilledBytes as BigQuery logged it (already rounded up
 * to the MiB and the 10 MiB minimum) x the on-demand price of its location on its end day.
 */
export function priceJob(job: JobEvent, context: PricingContext): Pricing {
  const day = job.endTime.slice(0, 10);
  if (job.dryRun) return ZERO("not_billed", "dry run: not billed");
  if (job.statementType === "SCRIPT")
    return ZERO("script_parent", "script parent: its child jobs carry the cost");
  if (job.cacheHit) return ZERO("cache_hit", "served from cached results: not billed");
  const reservation = job.reservation;
  if (reservation !== "" && reservation !== "unreserved") {
    const editionName = context.reservationEditions.get(canonicalReservation(reservation));
    if (!editionName) {
      return ZERO(
        "unpriced",
        `reservation ${reservation} is not in the registry's reservations: add it with its edition`,
      );
    }
    const found = pick(
      context.priceBook.editions.filter((p) => p.edition === editionName),
      job.location,
      day,
    );
    if (!found) return ZERO("unpriced", `no ${editionName} slot-hour price in the price book`);
    const cost = mulDivRound(job.slotMs, found.price.usdPerSlotHour, MS_PER_HOUR);
    const where = found.fallback
      ? `US price (no ${job.location || "location"} price)`
      : found.price.location.toUpperCase();
    return {
      pricingModel: "reservation",
      computeCost: cost,
      basis: `${editionName} ${where} ${usdText(found.price.usdPerSlotHour)} USD/slot-hour (from ${found.price.from}) x ${job.slotMs} slot-ms`,
    };
  }
  if (job.jobType === "IMPORT" || job.jobType === "EXPORT" || job.jobType === "COPY") {
    return ZERO("free_operation", `${job.jobType.toLowerCase()} job on the shared slot pool: free`);
  }
  if (!job.billedBytesPresent && job.processedBytes > 0n) {
    return ZERO(
      "unpriced",
      "billed bytes hidden (row-level security hides totalBilledBytes): not priceable from the log",
    );
  }
  const found = pick(context.priceBook.onDemand, job.location, day);
  if (!found) return ZERO("unpriced", "no on-demand price in the price book");
  const cost = mulDivRound(job.billedBytes, found.price.usdPerTib, TIB);
  const where = found.fallback
    ? `US price (no ${job.location || "location"} price)`
    : found.price.location.toUpperCase();
  return {
    pricingModel: "on_demand",
    computeCost: cost,
    basis: `on-demand ${where} ${usdText(found.price.usdPerTib)} USD/TiB (from ${found.price.from}) x ${job.billedBytes} B`,
  };
}

/** The storage prices in force for a table's location in a month (US when the location has none). */
export function storagePrices(
  table: TableStorage,
  priceBook: PriceBook,
  monthStart: string,
): StoragePrice | undefined {
  return pick(priceBook.storage, table.location, monthStart)?.price;
}

/**
 * One table's storage cost for a whole month, in nano-dollars, rounded once (docs/tables.md):
 * logical:  (active_logical x p_al + long_term_logical x p_ll) / 2^30
 * physical: ((active_physical + fail_safe) x p_ap + long_term_physical x p_lp) / 2^30
 * Time travel is inside active_physical_bytes already (TABLE_STORAGE docs).
 */
export function priceStorageMonth(table: TableStorage, context: PricingContext, monthStart: string): Nanos {
  const prices = storagePrices(table, context.priceBook, monthStart);
  if (!prices) return 0n;
  const weighted =
    table.billingModel === "PHYSICAL"
      ? (table.activePhysicalBytes + table.failSafePhysicalBytes) * prices.activePhysical +
        table.longTermPhysicalBytes * prices.longTermPhysical
      : table.activeLogicalBytes * prices.activeLogical + table.longTermLogicalBytes * prices.longTermLogical;
  return mulDivRound(weighted, 1n, GIB);
}
