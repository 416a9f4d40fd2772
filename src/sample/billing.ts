// The sample organisation's invoice: its month in the Cloud Billing export (standard usage cost
// table) and in INFORMATION_SCHEMA.JOBS, derived from the same generated logs, plus what real
// months bring that the logs do not show:
// - the free tier (first TiB of on-demand analysis a month) as FREE_TIER credits;
// - a PROMOTION credit on one day of marketing's analysis;
// - the `prod` reservation billed as capacity (autoscaled slots plus a few idle slot-hours a day,
//   idle the whole day when nobody ran on it);
// - jobs the logs lack (the sink was down an hour on finance's project) in the bill and in JOBS;
// - a project the registry lacks and the logs never saw (acme-legacy-bi);
// - storage, and a row of another service (Cloud Storage) that reconciliation must skip.
// The USD export is written as `bq query --format=json` prints it, the JPY one (the same usage
// invoiced to an account in yen) as `bq extract` NDJSON, JOBS as `bq query --format=csv`.
// SKU ids are made up in the form Google uses; the SKU descriptions use Google's words, which is
// what reconciliation groups by.
import { formatNanos, parseDecimalNanos } from "../core/billing/amount.ts";
import { parseLine } from "../core/parse.ts";
import { costJob, entryContext } from "../core/pipeline.ts";
import { BYTES_PER_GIB, BYTES_PER_TIB, editionPriceOn, storagePriceOn } from "../core/pricebook.ts";
import { parseRegistry } from "../core/registry.ts";
import type { JobCost, TableStorage } from "../core/types.ts";
import { parseStorageSnapshot } from "../io/storage-snapshot.ts";

export const BILLING_ACCOUNT = "01A2B3-C4D5E6-F7A8B9";
/** Yen per US dollar for the JPY account (Google converts at its monthly rate). */
export const JPY_RATE = "151.2345";
const BIGQUERY = { id: "24E6-581D-38E5", description: "BigQuery" };
const RESERVATION_API = { id: "E6A6-0AB3-9A0C", description: "BigQuery Reservation API" };
const SKUS = {
  analysisUS: { id: "F17B-412E-CB64", description: "Analysis" },
  analysisEU: { id: "9F4D-A6C3-1B0E", description: "Analysis (EU)" },
  enterpriseUS: { id: "5A8D-6C2E-0F71", description: "Enterprise Edition (US)" },
  activeLogical: { id: "9C3F-5B7D-2A10", description: "Active Logical Storage" },
  longTermLogical: { id: "7E1A-D0C4-6B92", description: "Long Term Logical Storage" },
  activePhysical: { id: "3B6E-91AF-C5D8", description: "Active Physical Storage" },
  longTermPhysical: { id: "A2D7-4E6B-8F03", description: "Long Term Physical Storage" },
};
const MISSING_JOBS = { project: "acme-fin-bi", day: "2026-10-14", count: 6, hourUtc: 17, tib: 3n };
const UNREGISTERED_PROJECT = "acme-legacy-bi";
const PROMOTION_USD = 25_000_000_000n;
const IDLE_SLOT_HOURS_A_DAY = 4n;
const MS_PER_HOUR = 3_600_000n;

interface Row {
  service: { id: string; description: string };
  sku: { id: string; description: string };
  startMs: number;
  endMs: number;
  project: string;
  location: string;
  cost: bigint;
  credits: { name: string; amount: bigint; type: string; id: string }[];
  usageAmount: bigint;
  usageUnit: string;
  pricingQuantity: bigint;
  pricingUnit: string;
}

interface Usage {
  jobs: JobCost[];
  snapshot: TableStorage[];
}

/** The month's jobs, counted once, priced as the report prices them. */
function usageOf(logLines: readonly string[], registryYaml: string, storageCsv: string): Usage {
  const registry = parseRegistry(registryYaml, "registry.yaml");
  const context = entryContext(registry, { granularity: "month" });
  const seen = new Set<string>();
  const jobs: JobCost[] = [];
  for (const [i, line] of logLines.entries()) {
    const parsed = parseLine(line, { file: "sample", line: i + 1 });
    if (parsed.kind !== "job" || seen.has(parsed.jobId)) continue;
    seen.add(parsed.jobId);
    jobs.push(costJob(parsed, context));
  }
  return { jobs, snapshot: parseStorageSnapshot(storageCsv, "table_storage.csv") };
}

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

function hourOf(ms: number): number {
  return Math.floor(ms / HOUR_MS) * HOUR_MS;
}

/** Midnight Pacific of a Pacific day, in UTC ms (October: PDT, UTC-7; November from the 2nd: PST). */
function pacificMidnight(day: string): number {
  const utc = Date.parse(`${day}T00:00:00Z`);
  return utc + (day >= "2026-11-01" ? 8 : 7) * HOUR_MS;
}

function analysisRows(usage: Usage, month: string): Row[] {
  const rows = new Map<string, Row>();
  const add = (project: string, location: string, endMs: number, bytes: bigint, list: bigint) => {
    const start = hourOf(endMs);
    const key = `${start}|${project}|${location}`;
    let row = rows.get(key);
    if (!row) {
      row = {
        service: BIGQUERY,
        sku: location === "EU" ? SKUS.analysisEU : SKUS.analysisUS,
        startMs: start,
        endMs: start + HOUR_MS,
        project,
        location,
        cost: 0n,
        credits: [],
        usageAmount: 0n,
        usageUnit: "bytes",
        pricingQuantity: 0n,
        pricingUnit: "tebibyte",
      };
      rows.set(key, row);
    }
    row.cost += list;
    row.usageAmount += bytes * 1_000_000_000n;
  };
  for (const job of usage.jobs) {
    if (job.pricing.pricingModel !== "on_demand" || job.job.billedBytes === 0n) continue;
    if (job.usageDate.slice(0, 7) !== month) continue;
    add(
      job.job.billingProject,
      job.job.location || "US",
      job.job.endTimeMs,
      job.job.billedBytes,
      job.pricing.computeCost,
    );
  }
  // The hour finance's jobs went unlogged: BigQuery billed them all the same.
  const missingBytes = MISSING_JOBS.tib * BYTES_PER_TIB;
  add(
    MISSING_JOBS.project,
    "US",
    Date.parse(`${MISSING_JOBS.day}T${MISSING_JOBS.hourUtc}:30:00Z`),
    missingBytes,
    (missingBytes * 6_250_000_000n) / BYTES_PER_TIB,
  );
  // A project nobody registered and whose logs never reached the sink.
  for (const day of [3, 11, 19, 27]) {
    const bytes = BigInt(40 + day) * BYTES_PER_GIB * 10n;
    add(
      UNREGISTERED_PROJECT,
      "US",
      Date.parse(`${month}-${String(day).padStart(2, "0")}T18:10:00Z`),
      bytes,
      (bytes * 6_250_000_000n) / BYTES_PER_TIB,
    );
  }
  const sorted = [...rows.values()].sort((a, b) => a.startMs - b.startMs || (a.project < b.project ? -1 : 1));
  for (const row of sorted) row.pricingQuantity = row.usageAmount / BYTES_PER_TIB;
  return sorted;
}

/** The free tier: the account's first TiB of on-demand analysis in the month is not charged. */
function applyFreeTier(rows: Row[]): void {
  let freeBytes = BYTES_PER_TIB;
  for (const row of rows) {
    if (freeBytes === 0n) break;
    const bytes = row.usageAmount / 1_000_000_000n;
    const free = bytes < freeBytes ? bytes : freeBytes;
    freeBytes -= free;
    const amount = (row.cost * free) / bytes;
    row.credits.push({ name: "Free tier", amount: -amount, type: "FREE_TIER", id: "" });
  }
}

function applyPromotion(rows: Row[]): void {
  const candidates = rows.filter((row) => row.project === "acme-mkt-bi" && row.credits.length === 0);
  const target = candidates.reduce<Row | undefined>(
    (best, row) => (!best || row.cost > best.cost ? row : best),
    undefined,
  );
  if (!target) return;
  const amount = target.cost < PROMOTION_USD ? target.cost : PROMOTION_USD;
  target.credits.push({
    name: "Data analytics trial credit",
    amount: -amount,
    type: "PROMOTION",
    id: "promotions/bq-trial-2026",
  });
}

function reservationRows(usage: Usage, month: string, days: string[]): Row[] {
  const registry = parseRegistry(REGISTRY_FOR_PRICES, "registry.yaml");
  const price = editionPriceOn(registry.priceBook, "enterprise", "US", `${month}-01`);
  if (!price) throw new Error("no Enterprise price for US");
  const usedByDay = new Map<string, bigint>();
  for (const job of usage.jobs) {
    if (job.pricing.pricingModel !== "reservation") continue;
    usedByDay.set(job.usageDate, (usedByDay.get(job.usageDate) ?? 0n) + job.job.slotMs);
  }
  return days.map((day) => {
    const used = usedByDay.get(day) ?? 0n;
    // Autoscaling adds slots in steps: a quarter more than used, plus a few idle baseline hours.
    const capacity = (used * 5n) / 4n + IDLE_SLOT_HOURS_A_DAY * MS_PER_HOUR;
    const start = pacificMidnight(day);
    return {
      service: RESERVATION_API,
      sku: SKUS.enterpriseUS,
      startMs: start,
      endMs: start + DAY_MS,
      project: "acme-platform",
      location: "US",
      cost: (capacity * price.price.usdPerSlotHour) / MS_PER_HOUR,
      credits: [],
      usageAmount: capacity * 1_000_000n, // slot-seconds, in nano-units
      usageUnit: "slot-seconds",
      pricingQuantity: (capacity * 1_000_000_000n) / MS_PER_HOUR,
      pricingUnit: "hour",
    };
  });
}

const REGISTRY_FOR_PRICES = "organization:\n  domains: [acme.example]\ndepartments:\n  - id: x\n";

function storageRows(usage: Usage, month: string, days: string[]): Row[] {
  const registry = parseRegistry(REGISTRY_FOR_PRICES, "registry.yaml");
  const prices = storagePriceOn(registry.priceBook, "US", `${month}-01`);
  if (!prices) throw new Error("no US storage price");
  const daysInMonth = BigInt(days.length);
  const byProject = new Map<
    string,
    { sku: { id: string; description: string }; gibMonthNanos: bigint; price: bigint }[]
  >();
  for (const table of usage.snapshot) {
    const physical = table.billingModel === "PHYSICAL";
    const classes = physical
      ? [
          {
            sku: SKUS.activePhysical,
            bytes: table.activePhysicalBytes + table.failSafePhysicalBytes,
            price: prices.price.activePhysical,
          },
          {
            sku: SKUS.longTermPhysical,
            bytes: table.longTermPhysicalBytes,
            price: prices.price.longTermPhysical,
          },
        ]
      : [
          { sku: SKUS.activeLogical, bytes: table.activeLogicalBytes, price: prices.price.activeLogical },
          {
            sku: SKUS.longTermLogical,
            bytes: table.longTermLogicalBytes,
            price: prices.price.longTermLogical,
          },
        ];
    const list = byProject.get(table.projectId) ?? [];
    for (const c of classes) {
      const existing = list.find((entry) => entry.sku === c.sku);
      const gibMonthNanos = (c.bytes * 1_000_000_000n) / BYTES_PER_GIB;
      if (existing) existing.gibMonthNanos += gibMonthNanos;
      else list.push({ sku: c.sku, gibMonthNanos, price: c.price });
    }
    byProject.set(table.projectId, list);
  }
  const rows: Row[] = [];
  for (const day of days) {
    const start = pacificMidnight(day);
    for (const [project, classes] of [...byProject].sort(([a], [b]) => (a < b ? -1 : 1))) {
      for (const c of classes) {
        if (c.gibMonthNanos === 0n) continue;
        const quantity = c.gibMonthNanos / daysInMonth;
        rows.push({
          service: BIGQUERY,
          sku: c.sku,
          startMs: start,
          endMs: start + DAY_MS,
          project,
          location: "US",
          cost: (quantity * c.price) / 1_000_000_000n,
          credits: [],
          usageAmount: (quantity * BYTES_PER_GIB * 86_400n * BigInt(days.length)) / daysInMonth,
          usageUnit: "byte-seconds",
          pricingQuantity: quantity,
          pricingUnit: "gibibyte month",
        });
      }
    }
  }
  return rows;
}

function otherServiceRow(month: string): Row {
  const start = pacificMidnight(`${month}-02`);
  return {
    service: { id: "95FF-2EF5-5EA1", description: "Cloud Storage" },
    sku: { id: "E5F0-6A5D-7BAD", description: "Standard Storage US Multi-region" },
    startMs: start,
    endMs: start + DAY_MS,
    project: "acme-mkt-lake",
    location: "US",
    cost: 412_345_678n,
    credits: [],
    usageAmount: 0n,
    usageUnit: "byte-seconds",
    pricingQuantity: 15_800_000_000n,
    pricingUnit: "gibibyte month",
  };
}

function daysOf(month: string): string[] {
  const [year, m] = month.split("-").map(Number) as [number, number];
  const count = new Date(Date.UTC(year, m, 0)).getUTCDate();
  return Array.from({ length: count }, (_, i) => `${month}-${String(i + 1).padStart(2, "0")}`);
}

export interface BillingSample {
  rows: Row[];
  /** `bq query --format=json`: an array, one object per line, every value as text. */
  usdJson: string;
  /** `bq extract` NDJSON of the same usage invoiced in JPY: numbers as JSON numbers. */
  jpyNdjson: string;
  /** INFORMATION_SCHEMA.JOBS_BY_PROJECT as `bq query --format=csv`. */
  jobsCsv: string;
}

function bqTimestamp(ms: number): string {
  return `${new Date(ms).toISOString().replace("T", " ").replace("Z", "")} UTC`;
}

/** An amount rounded to 6 decimals, as text (FLOAT64 exports carry about that many). */
const amount6 = (nanos: bigint) => formatNanos(nanos, 6);

function toJpy(nanos: bigint): bigint {
  const rate = parseDecimalNanos(JPY_RATE) as bigint;
  return (nanos * rate) / 1_000_000_000n;
}

function exportRecord(row: Row, month: string, currency: "USD" | "JPY"): Record<string, unknown> {
  const money = (nanos: bigint) => amount6(currency === "USD" ? nanos : toJpy(nanos));
  return {
    billing_account_id: BILLING_ACCOUNT,
    service: row.service,
    sku: row.sku,
    usage_start_time: bqTimestamp(row.startMs),
    usage_end_time: bqTimestamp(row.endMs),
    project: row.project
      ? { id: row.project, number: "", name: row.project, labels: [], ancestry_numbers: "" }
      : null,
    labels: [],
    system_labels: [],
    location: { location: row.location, country: row.location, region: null, zone: null },
    export_time: bqTimestamp(row.endMs + 6 * HOUR_MS),
    cost: money(row.cost),
    currency,
    currency_conversion_rate: currency === "USD" ? "1.0" : JPY_RATE,
    usage: {
      amount: formatNanos(row.usageAmount, 0),
      unit: row.usageUnit,
      amount_in_pricing_units: formatNanos(row.pricingQuantity, 9),
      pricing_unit: row.pricingUnit,
    },
    credits: row.credits.map((credit) => ({
      name: credit.name,
      amount: money(credit.amount),
      full_name: credit.name,
      id: credit.id,
      type: credit.type,
    })),
    invoice: { month: month.replace("-", "") },
    cost_type: "regular",
    adjustment_info: null,
    cost_at_list: money(row.cost),
  };
}

/** Amount fields as JSON numbers, as `bq extract` writes FLOAT64. */
function asNumbers(record: Record<string, unknown>): Record<string, unknown> {
  const usage = record.usage as Record<string, unknown>;
  return {
    ...record,
    cost: Number(record.cost),
    cost_at_list: Number(record.cost_at_list),
    currency_conversion_rate: Number(record.currency_conversion_rate),
    usage: {
      ...usage,
      amount: Number(usage.amount),
      amount_in_pricing_units: Number(usage.amount_in_pricing_units),
    },
    credits: (record.credits as Record<string, unknown>[]).map((credit) => ({
      ...credit,
      amount: Number(credit.amount),
    })),
  };
}

function jobsCsv(usage: Usage, registryYaml: string): string {
  const registry = parseRegistry(registryYaml, "registry.yaml");
  const lines = [
    "project_id,job_id,creation_time,end_time,job_type,statement_type,total_bytes_billed,total_slot_ms,reservation_id,cache_hit,state",
  ];
  for (const { job } of usage.jobs) {
    // JOBS_BY_ORGANIZATION lists the organisation's projects only.
    if (!registry.projectIndex.has(job.billingProject)) continue;
    const reservation =
      job.reservation && job.reservation !== "unreserved"
        ? job.reservation.replace(/^projects\/([^/]+)\/locations\/([^/]+)\/reservations\/(.+)$/, "$1:$2.$3")
        : "";
    lines.push(
      [
        job.billingProject,
        job.jobName,
        bqTimestamp(Date.parse(job.createTime ?? job.endTime)),
        bqTimestamp(job.endTimeMs),
        job.jobType,
        job.statementType,
        job.billedBytes,
        job.slotMs,
        reservation,
        job.cacheHit,
        "DONE",
      ].join(","),
    );
  }
  const perJob = (MISSING_JOBS.tib * BYTES_PER_TIB) / BigInt(MISSING_JOBS.count);
  for (let n = 0; n < MISSING_JOBS.count; n++) {
    const end = Date.parse(
      `${MISSING_JOBS.day}T${MISSING_JOBS.hourUtc}:${String(5 + n * 7).padStart(2, "0")}:00Z`,
    );
    lines.push(
      [
        MISSING_JOBS.project,
        `bquxjob_sinkdown_${n}`,
        bqTimestamp(end - 40_000),
        bqTimestamp(end),
        "QUERY",
        "SELECT",
        n === MISSING_JOBS.count - 1 ? MISSING_JOBS.tib * BYTES_PER_TIB - perJob * BigInt(n) : perJob,
        90_000 + n,
        "",
        false,
        "DONE",
      ].join(","),
    );
  }
  return `${lines.join("\n")}\n`;
}

export function billingSample(options: {
  month: string;
  logLines: readonly string[];
  registryYaml: string;
  storageCsv: string;
}): BillingSample {
  const usage = usageOf(options.logLines, options.registryYaml, options.storageCsv);
  const days = daysOf(options.month);
  const analysis = analysisRows(usage, options.month);
  applyFreeTier(analysis);
  applyPromotion(analysis);
  const rows = [
    ...analysis,
    ...reservationRows(usage, options.month, days),
    ...storageRows(usage, options.month, days),
    otherServiceRow(options.month),
  ].sort(
    (a, b) =>
      a.startMs - b.startMs ||
      (a.project < b.project ? -1 : a.project > b.project ? 1 : a.sku.id < b.sku.id ? -1 : 1),
  );
  const usd = rows.map((row) => exportRecord(row, options.month, "USD"));
  const jpy = rows.map((row) => asNumbers(exportRecord(row, options.month, "JPY")));
  return {
    rows,
    usdJson: `[\n${usd.map((record) => JSON.stringify(record)).join(",\n")}\n]\n`,
    jpyNdjson: `${jpy.map((record) => JSON.stringify(record)).join("\n")}\n`,
    jobsCsv: jobsCsv(usage, options.registryYaml),
  };
}
