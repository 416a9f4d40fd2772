// The price book: list prices by location and effective date, each with its source, and the
// rules that turn a job or a table into nano-dollars. Users override or extend it in the
// registry (`prices:`). Figures marked third-party are not on a Google page we could store;
// they are kept overridable: check them against your invoice.
// Sources, tagged where used: [PROD] the BigQuery product page's price box
// (https://cloud.google.com/bigquery); [DOCS-MIG] the audit-log migration guide
// (https://cloud.google.com/bigquery/docs/reference/auditlogs/migration); [DOCS-RN] BigQuery's
// release notes; [DOCS-JOBS] the INFORMATION_SCHEMA.JOBS page
// (https://cloud.google.com/bigquery/docs/information-schema-jobs), its bill-estimate query;
// [DOCS-MSQ] the multi-statement queries page
// (https://cloud.google.com/bigquery/docs/multi-statement-queries); [DOCS-TS] the INFORMATION_SCHEMA.TABLE_STORAGE page
// (https://cloud.google.com/bigquery/docs/information-schema-table-storage); [BQU]
// GoogleCloudPlatform/bigquery-utils, views/audit.
import { formatUsd, mulDivRound, type Nanos, parseUsd } from "./money.ts";
import { TupleMemo } from "./tuple-memo.ts";
import type { JobEvent, Pricing, PricingModel, TableStorage, UnpricedReason } from "./types.ts";

export type Edition = "standard" | "enterprise" | "enterprise_plus";
export const EDITIONS: readonly Edition[] = ["standard", "enterprise", "enterprise_plus"];

interface Dated {
  /** Normalised location (see normaliseLocation): `us`, `eu`, `europe-west1`. */
  location: string;
  /** First day the price applies, YYYY-MM-DD (billing day of the job's end, or the storage month's first day). */
  from: string;
  /** Where the figure comes from, in words. */
  source: string;
}

export interface OnDemandPrice extends Dated {
  /** Nano-dollars per TiB (2^40 bytes) billed. */
  usdPerTib: Nanos;
}

export interface EditionPrice extends Dated {
  edition: Edition;
  /** Nano-dollars per slot-hour. */
  usdPerSlotHour: Nanos;
}

/** Nano-dollars per GiB-month (2^30 bytes for a whole calendar month), by storage class. */
export interface StoragePrice extends Dated {
  activeLogical: Nanos;
  longTermLogical: Nanos;
  activePhysical: Nanos;
  longTermPhysical: Nanos;
}

/** BigQuery ML model creation (CREATE MODEL) on demand, per model type. */
export interface ModelCreationPrice extends Dated {
  /** OPTIONS(model_type = ...) in upper case: `LINEAR_REG`, `KMEANS`, `ARIMA_PLUS`. */
  modelType: string;
  /** Nano-dollars per TiB (2^40 bytes) billed. */
  usdPerTib: Nanos;
}

export interface PriceBook {
  onDemand: readonly OnDemandPrice[];
  editions: readonly EditionPrice[];
  storage: readonly StoragePrice[];
  modelCreation: readonly ModelCreationPrice[];
}

/** Storage classes as the registry and the price_book table name them, and their StoragePrice field. */
export const STORAGE_CLASSES = {
  active_logical: "activeLogical",
  long_term_logical: "longTermLogical",
  active_physical: "activePhysical",
  long_term_physical: "longTermPhysical",
} as const;
export type StorageClass = keyof typeof STORAGE_CLASSES;

/** What pricing needs to know beyond the price book (the Registry is one). */
export interface PricingContext {
  priceBook: PriceBook;
  /** Canonical reservation name (see canonicalReservation) -> edition. */
  reservationEditions: ReadonlyMap<string, Edition>;
}

export const BYTES_PER_TIB = 2n ** 40n;
export const BYTES_PER_GIB = 2n ** 30n;
export const MS_PER_HOUR = 3_600_000n;

/** "In force since before any log this tool reads": the start of the oldest price of a series. */
const SINCE_EVER = "2000-01-01";
/** On-demand +25% with the move to editions (third-party dated; see the US 6.25 entry). */
const ON_DEMAND_CHANGE = "2023-07-05";
/** Editions (Standard, Enterprise, Enterprise Plus) GA on 2023-03-29 [DOCS-RN]. */
const EDITIONS_GA = "2023-03-29";

const MIGRATION_SQL =
  "Google's migration-guide SQL [DOCS-MIG] and bigquery-utils views [BQU] price 5 USD per 2^40 bytes";
const PRODUCT_PAGE = "cloud.google.com/bigquery product page [PROD]: $6.25 per TiB";
/**
 * BigQuery ML model creation on demand. Google's INFORMATION_SCHEMA.JOBS page prices a
 * CREATE_MODEL job at "50 * PRICE_PER_TIB" in its bill-estimate query [DOCS-JOBS]; the pricing
 * page's BigQuery ML section (https://cloud.google.com/bigquery/pricing#bqml, not in a stored
 * copy) lists $312.50 per TiB for the built-in models: linear and logistic regression, k-means,
 * PCA, time series, contribution analysis (quoted by third-party notes that read it 2026-09-05 and
 * 2026-10-02). Other model types (boosted trees, DNN, AutoML, random forest, wide-and-deep,
 * matrix factorization, imported and remote models) are billed by other rules and partly by
 * Vertex AI: no rate here, so such a job is unpriced until the registry adds one.
 */
const BQML_BUILT_IN = [
  "LINEAR_REG",
  "LOGISTIC_REG",
  "KMEANS",
  "PCA",
  "ARIMA_PLUS",
  "ARIMA_PLUS_XREG",
  "CONTRIBUTION_ANALYSIS",
];
const BQML_PAGE =
  "cloud.google.com/bigquery/pricing#bqml built-in model creation $312.50 per TiB (third-party captures 2026-09/10) = 50 x on-demand [DOCS-JOBS]";
const BQML_BEFORE =
  "derived: Google's CREATE_MODEL factor 50 x on-demand [DOCS-JOBS] at the 5 USD/TiB on-demand price before 2023-07-05";
const REGIONAL_CAPTURE =
  "third-party, UNVERIFIED: BenchBox regional-pricing test, captured from Google's pricing page 2026-09-18";

function onDemand(location: string, from: string, usd: string, source: string): OnDemandPrice {
  return { location, from, usdPerTib: parseUsd(usd), source };
}

function modelCreation(modelType: string, from: string, usd: string, source: string): ModelCreationPrice {
  return { modelType, location: "us", from, usdPerTib: parseUsd(usd), source };
}

function edition(name: Edition, location: string, usd: string, source: string): EditionPrice {
  return { edition: name, location, from: EDITIONS_GA, usdPerSlotHour: parseUsd(usd), source };
}

/** List prices, newest figures we have; every entry says where it comes from. */
export const BUILT_IN_PRICE_BOOK: PriceBook = {
  onDemand: [
    // 5 USD per TiB: Google's own SQL divides by 2^40 [DOCS-MIG], [BQU]; old pricing page "$5 per TB".
    onDemand("us", SINCE_EVER, "5", MIGRATION_SQL),
    // EU multi-region at the US price before 2023: third-party, UNVERIFIED.
    onDemand(
      "eu",
      SINCE_EVER,
      "5",
      "third-party, UNVERIFIED: EU multi-region priced as US before 2023-07-05",
    ),
    // "$5/TB in US (multi-region) to $6/TB in Belgium (europe-west1)": third-party, UNVERIFIED.
    onDemand(
      "europe-west1",
      SINCE_EVER,
      "6",
      "third-party, UNVERIFIED: xavor.com blog, pre-2023 Belgium price",
    ),
    // 6.25 is Google's current list price [PROD]; its start date 2023-07-05 is third-party (adswerve,
    // doit: "pricing changes will start on July 5, 2023"), corroborated by physical storage GA that day [DOCS-RN].
    onDemand("us", ON_DEMAND_CHANGE, "6.25", `${PRODUCT_PAGE}; start date third-party (adswerve, doit)`),
    onDemand("eu", ON_DEMAND_CHANGE, "6.25", REGIONAL_CAPTURE),
    onDemand("us-east1", ON_DEMAND_CHANGE, "6.25", REGIONAL_CAPTURE),
    onDemand("asia-northeast1", ON_DEMAND_CHANGE, "7.5", REGIONAL_CAPTURE), // Tokyo
    onDemand("europe-west1", ON_DEMAND_CHANGE, "7.5", REGIONAL_CAPTURE), // Belgium
    onDemand("europe-west2", ON_DEMAND_CHANGE, "7.8125", REGIONAL_CAPTURE), // London
    onDemand("asia-southeast1", ON_DEMAND_CHANGE, "8.4375", REGIONAL_CAPTURE), // Singapore
    onDemand("southamerica-east1", ON_DEMAND_CHANGE, "11.25", REGIONAL_CAPTURE), // São Paulo
  ],
  editions: [
    // "Starting at $0.04 per slot hour" [PROD] is the Standard edition's pay-as-you-go rate.
    edition(
      "standard",
      "us",
      "0.04",
      "cloud.google.com/bigquery product page [PROD]: from $0.04 per slot hour",
    ),
    // Enterprise and Enterprise Plus US pay-as-you-go: third-party (adriennevermorel.com, adswerve), UNVERIFIED.
    edition(
      "enterprise",
      "us",
      "0.06",
      "third-party, UNVERIFIED: editions price summaries (adswerve, adriennevermorel)",
    ),
    edition(
      "enterprise_plus",
      "us",
      "0.10",
      "third-party, UNVERIFIED: editions price summaries (adriennevermorel)",
    ),
    // EU Enterprise "as of October 2023": third-party, UNVERIFIED.
    edition(
      "enterprise",
      "eu",
      "0.066",
      "third-party, UNVERIFIED: sam-pitcher/bq_cost_optimization_assessment README",
    ),
    // Mumbai: third-party, UNVERIFIED.
    edition(
      "standard",
      "asia-south1",
      "0.046",
      "third-party, UNVERIFIED: deepaksood619 BigQuery pricing notes",
    ),
    edition(
      "enterprise",
      "asia-south1",
      "0.069",
      "third-party, UNVERIFIED: deepaksood619 BigQuery pricing notes",
    ),
  ],
  modelCreation: BQML_BUILT_IN.flatMap((modelType) => [
    modelCreation(modelType, SINCE_EVER, "250", BQML_BEFORE),
    modelCreation(modelType, ON_DEMAND_CHANGE, "312.5", BQML_PAGE),
  ]),
  storage: [
    // Google's forecast query in the TABLE_STORAGE docs: "The prices used ... are for the us-central1 region" [DOCS-TS].
    {
      location: "us-central1",
      from: SINCE_EVER,
      activeLogical: parseUsd("0.02"),
      longTermLogical: parseUsd("0.01"),
      activePhysical: parseUsd("0.04"),
      longTermPhysical: parseUsd("0.02"),
      source: "INFORMATION_SCHEMA.TABLE_STORAGE docs, forecast example, us-central1 [DOCS-TS]",
    },
    // US multi-region taken equal to us-central1: UNVERIFIED against Google.
    {
      location: "us",
      from: SINCE_EVER,
      activeLogical: parseUsd("0.02"),
      longTermLogical: parseUsd("0.01"),
      activePhysical: parseUsd("0.04"),
      longTermPhysical: parseUsd("0.02"),
      source: "UNVERIFIED: US multi-region assumed equal to the us-central1 figures of [DOCS-TS]",
    },
  ],
};

/**
 * Locations compare case-insensitively (`US` = `us`); INFORMATION_SCHEMA's `region-us`
 * qualifier is accepted for the same place.
 */
export function normaliseLocation(location: string): string {
  const lower = location.trim().toLowerCase();
  return lower.startsWith("region-") ? lower.slice("region-".length) : lower;
}

/** Multi-regions in capitals as Google writes them (US, EU), regions in lower case. */
function displayLocation(location: string): string {
  return location === "us" || location === "eu" ? location.toUpperCase() : location;
}

/**
 * The canonical form of a reservation name, to compare the audit log's form with the registry's:
 * `projects/P/locations/L/reservations/R`, also from INFORMATION_SCHEMA's `P:L.R`, with the
 * location in lower case (Google writes both `US` and `us`).
 */
export function canonicalReservation(name: string): string {
  const trimmed = name.trim();
  const short = /^([^:/]+):([^./]+)\.([^/]+)$/.exec(trimmed);
  if (short)
    return `projects/${short[1]}/locations/${normaliseLocation(short[2] as string)}/reservations/${short[3]}`;
  const long = /^projects\/([^/]+)\/locations\/([^/]+)\/reservations\/([^/]+)$/.exec(trimmed);
  if (long)
    return `projects/${long[1]}/locations/${normaliseLocation(long[2] as string)}/reservations/${long[3]}`;
  return trimmed;
}

/** Registry overrides win: an entry with the same location and date (and edition) replaces the built-in one. */
export function mergePriceBook(base: PriceBook, overrides: Partial<PriceBook>): PriceBook {
  const merge = <T extends Dated>(
    list: readonly T[],
    extra: readonly T[] | undefined,
    key: (entry: T) => string,
  ) => {
    if (!extra || extra.length === 0) return list;
    const replaced = new Set(extra.map(key));
    return [...list.filter((entry) => !replaced.has(key(entry))), ...extra];
  };
  return {
    onDemand: merge(base.onDemand, overrides.onDemand, onDemandKey),
    editions: merge(base.editions, overrides.editions, editionKey),
    storage: merge(base.storage, overrides.storage, storageKey),
    modelCreation: merge(base.modelCreation, overrides.modelCreation, modelCreationKey),
  };
}

export const onDemandKey = (price: OnDemandPrice): string => `${price.location}|${price.from}`;
export const editionKey = (price: EditionPrice): string => `${price.edition}|${price.location}|${price.from}`;
export const storageKey = (price: StoragePrice): string => `${price.location}|${price.from}`;
export const modelCreationKey = (price: ModelCreationPrice): string =>
  `${price.modelType}|${price.location}|${price.from}`;

/** A price found for a location and day; `fallback` when the location had none and US was used. */
export interface PriceInForce<T> {
  price: T;
  fallback: boolean;
}

/** Each series (kind, edition, location) newest first, built once per price book. */
const seriesCache = new WeakMap<PriceBook, Map<string, Dated[]>>();

function seriesOf(book: PriceBook): Map<string, Dated[]> {
  let series = seriesCache.get(book);
  if (!series) {
    series = new Map();
    const add = (key: string, entry: Dated) => {
      const list = series?.get(key) ?? [];
      list.push(entry);
      series?.set(key, list);
    };
    for (const entry of book.onDemand) add(`on_demand|${entry.location}`, entry);
    for (const entry of book.editions) add(`${entry.edition}|${entry.location}`, entry);
    for (const entry of book.storage) add(`storage|${entry.location}`, entry);
    for (const entry of book.modelCreation) add(`model_creation:${entry.modelType}|${entry.location}`, entry);
    for (const list of series.values()) list.sort((a, b) => (a.from < b.from ? 1 : a.from > b.from ? -1 : 0));
    seriesCache.set(book, series);
  }
  return series;
}

/**
 * Answers of inForce per price book, by series, location as logged and day: every job asks, and
 * a run has few locations and days. Bounded: the locations are the input's. `null`: none in force.
 */
const answers = new WeakMap<PriceBook, TupleMemo<PriceInForce<Dated> | null>>();
const ANSWERS_LIMIT = 100_000;

/** The entry in force on `day` at `location`, else the US one (flagged as fallback, never silent). */
function inForce<T extends Dated>(
  book: PriceBook,
  series: string,
  location: string,
  day: string,
): PriceInForce<T> | undefined {
  let memo = answers.get(book);
  if (!memo) {
    memo = new TupleMemo(ANSWERS_LIMIT, ([series, location, day]) => {
      const answer = lookUp(book, series as string, location as string, day as string);
      return answer ? Object.freeze(answer) : null;
    });
    answers.set(book, memo);
  }
  return (memo.of(series, location, day) ?? undefined) as PriceInForce<T> | undefined;
}

function lookUp<T extends Dated>(book: PriceBook, series: string, location: string, day: string) {
  const all = seriesOf(book);
  const find = (where: string) =>
    all.get(`${series}|${where}`)?.find((entry) => entry.from <= day) as T | undefined;
  const where = normaliseLocation(location);
  const exact = find(where);
  if (exact) return { price: exact, fallback: false };
  const us = where === "us" ? undefined : find("us");
  return us ? { price: us, fallback: true } : undefined;
}

export function onDemandPriceOn(
  book: PriceBook,
  location: string,
  day: string,
): PriceInForce<OnDemandPrice> | undefined {
  return inForce<OnDemandPrice>(book, "on_demand", location, day);
}

export function editionPriceOn(
  book: PriceBook,
  editionName: Edition,
  location: string,
  day: string,
): PriceInForce<EditionPrice> | undefined {
  return inForce<EditionPrice>(book, editionName, location, day);
}

export function modelCreationPriceOn(
  book: PriceBook,
  modelType: string,
  location: string,
  day: string,
): PriceInForce<ModelCreationPrice> | undefined {
  return inForce<ModelCreationPrice>(book, `model_creation:${modelType}`, location, day);
}

export function storagePriceOn(
  book: PriceBook,
  location: string,
  day: string,
): PriceInForce<StoragePrice> | undefined {
  return inForce<StoragePrice>(book, "storage", location, day);
}

/** Prices as plainUsd writes them: a job's pricing basis names its price, and prices are few. */
const plainTexts = new Map<Nanos, string>();

/** An exact USD amount without trailing zeros: 6.25, 0.06, 5. */
export function plainUsd(nanos: Nanos): string {
  let text = plainTexts.get(nanos);
  if (text === undefined) {
    text = formatUsd(nanos, 9).replace(/\.?0+$/, "");
    if (plainTexts.size >= 1000) plainTexts.clear();
    plainTexts.set(nanos, text);
  }
  return text;
}

function where(found: PriceInForce<Dated>, jobLocation: string): string {
  if (!found.fallback) return displayLocation(found.price.location);
  return jobLocation === "" ? "US price (job location unknown)" : `US price (no ${jobLocation} price)`;
}

/** A job no rule can price: 0 in the sums, but counted and named as unpriced everywhere. */
function unpriced(reason: UnpricedReason, basis: string): Pricing {
  return { pricingModel: "unpriced", computeCost: 0n, basis, unpricedReason: reason };
}

function free(pricingModel: PricingModel, basis: string): Pricing {
  return { pricingModel, computeCost: 0n, basis };
}

/** billedBytes x price / 2^40, one half-up rounding to the nano-dollar. */
function onDemandCost(job: JobEvent, context: PricingContext, day: string, prefix: string): Pricing {
  const found = onDemandPriceOn(context.priceBook, job.location, day);
  if (!found) {
    return unpriced(
      "no_on_demand_price",
      `${prefix}no on-demand price for ${job.location || "the job's location"} or US on ${day}: add one under prices.on_demand`,
    );
  }
  return {
    pricingModel: "on_demand",
    computeCost: mulDivRound(job.billedBytes, found.price.usdPerTib, BYTES_PER_TIB),
    basis: `${prefix}on-demand ${where(found, job.location)} ${plainUsd(found.price.usdPerTib)} USD/TiB (from ${found.price.from}) x ${job.billedBytes} B`,
  };
}

const PIPELINE_JOB_TYPES = new Set(["IMPORT", "EXPORT", "COPY"]);
/** The shared slot pool of loads, extracts and copies, where a reservation's name would be. */
const SHARED_PIPELINE_POOL = "default-pipeline";

/** Whether the job ran on a reservation's slots (not on demand, not on the free shared pool). */
function isReserved(job: JobEvent): boolean {
  if (job.reservation === "" || job.reservation === "unreserved") return false;
  return !(PIPELINE_JOB_TYPES.has(job.jobType) && job.reservation === SHARED_PIPELINE_POOL);
}

/**
 * A job's compute cost, by the first rule that applies:
 * 1. dry run: not billed;
 * 2. statementType SCRIPT: 0, its child jobs carry the cost (counting both would double it);
 * 3. cache hit: not billed;
 * 4. reservation (not "unreserved", nor "default-pipeline" for a load, extract or copy: the
 *    shared slot pool those run on for free): totalSlotMs x the edition's slot-hour price / 3 600 000 — an
 *    allocation of capacity, not the invoice (idle and autoscaled slots are billed separately);
 *    a reservation missing from the registry is "unpriced", never guessed;
 *    an older entry without `reservation` whose reservationUsage[] names several: see
 *    reservationSplitCost;
 * 5. load (IMPORT), EXPORT and COPY on demand or on the shared pool: free ("Batch loading ...
 *    free using the shared slot pool", "Batch export ... free": https://cloud.google.com/bigquery/pricing
 *    #data_ingestion_pricing, #data_extraction_pricing; the pool is named "default-pipeline" where
 *    a reservation would be);
 * 6. failed job, not cancelled: 0, whatever bytes it logged ("You aren't charged for queries that
 *    return an error" [DOCS-JOBS], the isBillable function of its bill-estimate query); a child of a
 *    script is a job of its own: the children before the failure keep their cost ("If a
 *    multi-statement query fails, the cost of any statements up until the failure still
 *    applies" [DOCS-MSQ]); a cancelled job ("canceling a running query might incur charges",
 *    error reason "stopped" [DOCS-JOBS]; see isCancelled) goes on through the rules below and pays
 *    the bytes it logged;
 * 7. billed bytes hidden (absent while bytes were processed: row-level security): "unpriced";
 * 8. CREATE_MODEL on demand: totalBilledBytes x the model type's creation price per TiB
 *    (modelCreation, from OPTIONS(model_type=...) in the query text, see parse.ts modelTypeOf);
 *    a model type the log does not tell, or one without a price, is "unpriced", never a query;
 * 9. on demand: totalBilledBytes as logged (BigQuery already rounded up to the MiB with its
 *    10 MiB minimum: not applied again) x the location's price per TiB on the end day / 2^40.
 * Each cost is rounded once, half-up, to the nano-dollar.
 *
 * `day` is the job's usage date: the day of its end in the billing time zone (DayClock,
 * Pacific by default), the same day that puts it in a period. BigQuery bills by Pacific-time days,
 * so a price change "from 2023-07-05" applies from midnight in Los Angeles, not UTC.
 */
export function priceJob(job: JobEvent, context: PricingContext, day: string): Pricing {
  if (job.dryRun) return free("not_billed", "dry run: not billed");
  if (job.statementType === "SCRIPT")
    return free("script_parent", "script parent: its child jobs carry the cost");
  if (job.cacheHit) return free("cache_hit", "served from cached results: not billed");
  if (job.reservation === "" && new Set(job.reservationUsage.map((entry) => entry.name)).size > 1)
    return reservationSplitCost(job, context, day);
  if (isReserved(job)) {
    const editionName = context.reservationEditions.get(canonicalReservation(job.reservation));
    if (!editionName) {
      return unpriced(
        "reservation_not_in_registry",
        `reservation ${job.reservation} is not in the registry: add it under reservations with its edition`,
      );
    }
    const found = editionPriceOn(context.priceBook, editionName, job.location, day);
    if (!found) {
      return unpriced(
        "no_edition_price",
        `no ${editionName} slot-hour price for ${job.location || "the job's location"} or US on ${day}: add one under prices.editions`,
      );
    }
    return {
      pricingModel: "reservation",
      computeCost: mulDivRound(job.slotMs, found.price.usdPerSlotHour, MS_PER_HOUR),
      basis: `${editionName} ${where(found, job.location)} ${plainUsd(found.price.usdPerSlotHour)} USD/slot-hour (from ${found.price.from}) x ${job.slotMs} slot-ms`,
    };
  }
  if (PIPELINE_JOB_TYPES.has(job.jobType)) {
    return free("free_operation", `${job.jobType.toLowerCase()} job on the shared slot pool: free`);
  }
  if (job.error && !isCancelled(job.error)) {
    return free("on_demand", "failed job: queries that return an error are not charged");
  }
  const prefix = job.error ? "cancelled job, billed as logged: " : "";
  if (!job.billedBytesPresent && job.processedBytes > 0n) {
    return unpriced(
      "billed_bytes_hidden",
      `${prefix}billed bytes hidden: totalBilledBytes absent though ${job.processedBytes} B were processed (row-level security hides it); not priceable from the log`,
    );
  }
  if (job.statementType === "CREATE_MODEL") return modelCreationCost(job, context, day, prefix);
  return onDemandCost(job, context, day, prefix);
}

/**
 * A job of an older entry that names no reservation but several in reservationUsage[]: each
 * entry's slot-ms at its reservation's edition, one rounding for the sum. Google says the field
 * "reported misleading information" (it was "attributed from each tier of a reservation
 * hierarchy", so a parent and a child reservation may both carry the same slot-ms:
 * bigquery_audit_metadata.proto JobStats.reservation_usage), so it is used only where it cannot
 * double count: the entries must add up to totalSlotMs exactly, and none may be "unreserved"
 * (the bytes billed on demand cannot be split from the slots). Otherwise the job is unpriced.
 */
function reservationSplitCost(job: JobEvent, context: PricingContext, day: string): Pricing {
  const usage = job.reservationUsage;
  const logged = usage.map((entry) => `${entry.name || '""'} ${entry.slotMs}`).join(", ");
  if (usage.some((entry) => entry.name === "" || entry.name === "unreserved")) {
    return unpriced(
      "reservation_usage_unsplittable",
      `reservationUsage mixes on-demand and reservation slots (${logged}): the bytes billed on demand cannot be split`,
    );
  }
  const total = usage.reduce((sum, entry) => sum + entry.slotMs, 0n);
  if (total !== job.slotMs) {
    return unpriced(
      "reservation_usage_unsplittable",
      `reservationUsage slot-ms add up to ${total}, totalSlotMs is ${job.slotMs} (${logged}): Google's field "reported misleading information" (tiers of a reservation hierarchy repeat slot-ms), so it is not split`,
    );
  }
  const sorted = [...usage].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const editions = sorted.map((entry) => context.reservationEditions.get(canonicalReservation(entry.name)));
  const unregistered = sorted.find((_, i) => editions[i] === undefined);
  if (unregistered) {
    return unpriced(
      "reservation_not_in_registry",
      `reservation ${unregistered.name} is not in the registry: add it under reservations with its edition`,
    );
  }
  let weighted = 0n;
  const parts: string[] = [];
  for (const [i, entry] of sorted.entries()) {
    const editionName = editions[i] as Edition;
    const found = editionPriceOn(context.priceBook, editionName, job.location, day);
    if (!found) {
      return unpriced(
        "no_edition_price",
        `no ${editionName} slot-hour price for ${job.location || "the job's location"} or US on ${day}: add one under prices.editions`,
      );
    }
    weighted += entry.slotMs * found.price.usdPerSlotHour;
    parts.push(
      `${editionName} ${where(found, job.location)} ${plainUsd(found.price.usdPerSlotHour)} USD/slot-hour x ${entry.slotMs} slot-ms`,
    );
  }
  return {
    pricingModel: "reservation",
    computeCost: mulDivRound(weighted, 1n, MS_PER_HOUR),
    basis: `split as reservationUsage logged it: ${parts.join(" + ")}`,
  };
}

/** google.rpc.Code CANCELLED: the status of a job stopped on request (REST error reason "stopped"). */
const RPC_CANCELLED = 1;
/** How BigQuery words a cancelled job's error (INFORMATION_SCHEMA.JOBS rows with reason "stopped"). */
const CANCELLED_MESSAGE = "Job execution was cancelled";

/**
 * Whether a failed job was cancelled rather than failing: the audit log's errorResult is a
 * google.rpc.Status (code, message), not the REST ErrorProto whose reason "stopped" Google's
 * billing query tests, so a cancel is told by the status code CANCELLED or by BigQuery's message.
 */
export function isCancelled(error: { code: number; message: string }): boolean {
  return error.code === RPC_CANCELLED || error.message.startsWith(CANCELLED_MESSAGE);
}

/** A CREATE MODEL job on demand: billed bytes at its model type's creation price. */
function modelCreationCost(job: JobEvent, context: PricingContext, day: string, prefix: string): Pricing {
  if (job.modelType === "") {
    return unpriced(
      "model_type_unknown",
      `${prefix}CREATE_MODEL whose model type the log does not tell (no single OPTIONS(model_type=...) in a whole query text): BigQuery ML prices model creation per model type`,
    );
  }
  const found = modelCreationPriceOn(context.priceBook, job.modelType, job.location, day);
  if (!found) {
    return unpriced(
      "no_model_creation_price",
      `${prefix}no ${job.modelType} model creation price for ${job.location || "the job's location"} or US on ${day}: add one under prices.model_creation`,
    );
  }
  return {
    pricingModel: "bqml",
    computeCost: mulDivRound(job.billedBytes, found.price.usdPerTib, BYTES_PER_TIB),
    basis: `${prefix}BigQuery ML ${job.modelType} model creation ${where(found, job.location)} ${plainUsd(found.price.usdPerTib)} USD/TiB (from ${found.price.from}) x ${job.billedBytes} B`,
  };
}

/**
 * The bytes-times-price sum of one table's storage for a whole month, before the division by
 * 2^30 (bytes per GiB): nano-dollars x bytes / GiB-month. Exactly [DOCS-TS]'s forecast query:
 *   LOGICAL:  active_logical_bytes x p_active_logical + long_term_logical_bytes x p_long_term_logical,
 *             0 for a deleted table (the query sums `IF(deleted=false, active_logical_bytes, 0)`:
 *             with logical billing time travel and fail-safe are in the base rate, [DOCS-TT])
 *   PHYSICAL: (active_physical_bytes + fail_safe_physical_bytes) x p_active_physical
 *             + long_term_physical_bytes x p_long_term_physical, deleted tables too (the query
 *             sums every row's physical bytes: time travel and fail-safe bill at the active rate)
 * (time travel is already inside active_physical_bytes). p_* are nano-dollars per GiB-month.
 * [DOCS-TT]: https://cloud.google.com/bigquery/docs/time-travel ("A shorter time travel window
 * lets you save on storage costs when using the physical storage billing model. These savings
 * don't apply when using the logical storage billing model.")
 */
export function storageMonthWeightedBytes(table: TableStorage, prices: StoragePrice): bigint {
  if (table.billingModel === "PHYSICAL")
    return (
      (table.activePhysicalBytes + table.failSafePhysicalBytes) * prices.activePhysical +
      table.longTermPhysicalBytes * prices.longTermPhysical
    );
  if (table.deleted) return 0n;
  return (
    table.activeLogicalBytes * prices.activeLogical + table.longTermLogicalBytes * prices.longTermLogical
  );
}

/**
 * One table's storage cost for one whole calendar month, in nano-dollars:
 *   ROUND_HALF_UP(storageMonthWeightedBytes / 2^30)   -- one rounding, at the end
 * using the storage prices in force on `monthStart` (YYYY-MM-01) at the table's own location.
 * Undefined when the price book has none there: storage prices differ by location (pricing page,
 * #storage), so a table elsewhere is unpriced and counted as such, never priced at US rates.
 * To match it in SQL, compute the weighted sum exactly (BIGNUMERIC: bytes x USD overflow INT64
 * and must never go through FLOAT64), divide by 2^30 and round once to 9 decimals, halves away
 * from zero. Google's own numbers are byte-time integrals over the month; a snapshot stands for the month.
 */
export function priceStorageMonth(
  table: TableStorage,
  context: PricingContext,
  monthStart: string,
): Nanos | undefined {
  const found = storagePriceOn(context.priceBook, table.location, monthStart);
  if (!found || found.fallback) return undefined;
  return mulDivRound(storageMonthWeightedBytes(table, found.price), 1n, BYTES_PER_GIB);
}

/** The part of a month's cost for `days` of its `daysInMonth` days: monthCost x days / daysInMonth, half-up. */
export function prorate(monthCost: Nanos, days: number, daysInMonth: number): Nanos {
  if (!Number.isInteger(days) || !Number.isInteger(daysInMonth) || days < 0 || daysInMonth <= 0) {
    throw new RangeError(`prorate needs whole days: ${days} of ${daysInMonth}`);
  }
  return mulDivRound(monthCost, BigInt(days), BigInt(daysInMonth));
}
