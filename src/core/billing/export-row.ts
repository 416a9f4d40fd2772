// One row of the Cloud Billing export to BigQuery (standard usage cost table
// gcp_billing_export_v1_<ACCOUNT>; the detailed table gcp_billing_export_resource_v1_<ACCOUNT> adds
// resource.name/global_name), reduced to what reconciliation reads. Field names follow
// https://cloud.google.com/billing/docs/how-to/export-data-bigquery-tables/standard-usage .
import type { SourceRef } from "../types.ts";
import type { NanoUnits } from "./amount.ts";

export interface BillingCredit {
  /** credits.type: FREE_TIER, PROMOTION, COMMITTED_USAGE_DISCOUNT, DISCOUNT, SUSTAINED_USAGE_DISCOUNT, ... */
  type: string;
  name: string;
  amount: NanoUnits;
}

export interface BillingRow {
  billingAccountId: string;
  serviceId: string;
  serviceDescription: string;
  skuId: string;
  skuDescription: string;
  usageStartMs: number;
  usageEndMs: number;
  /** project.id; "" for charges of the billing account itself. */
  projectId: string;
  projectName: string;
  /** location.location (US, EU, us-central1), else location.region; "" when absent. */
  location: string;
  /** cost: in `currency`, before credits. */
  cost: NanoUnits;
  /** cost_at_list: the same usage at list prices; undefined in exports that predate the column. */
  costAtList: NanoUnits | undefined;
  currency: string;
  /** currency_conversion_rate: units of `currency` per USD, as written. */
  currencyConversionRate: string;
  /** usage.amount_in_pricing_units as nano-units of usage.pricing_unit (e.g. tebibytes, hours). */
  pricingQuantity: NanoUnits;
  pricingUnit: string;
  /** usage.amount as nano-units of usage.unit (bytes, byte-seconds, slot-seconds...). */
  usageAmount: NanoUnits;
  usageUnit: string;
  credits: BillingCredit[];
  /** invoice.month as YYYYMM. */
  invoiceMonth: string;
  /** cost_type: regular, tax, adjustment, rounding error. */
  costType: string;
  /** resource.global_name or resource.name of the detailed export; "" in the standard one. */
  resourceName: string;
  source: SourceRef;
}

/** Net cost: what is invoiced for the row, cost plus its (negative) credits. */
export function netCost(row: BillingRow): NanoUnits {
  let total = row.cost;
  for (const credit of row.credits) total += credit.amount;
  return total;
}

/** List cost: cost_at_list when the export has it, else cost (credits are already outside cost). */
export function listCost(row: BillingRow): NanoUnits {
  return row.costAtList ?? row.cost;
}

/** BigQuery, BigQuery Reservation API, BigQuery Storage API, BigQuery BI Engine ... */
export function isBigQueryService(serviceDescription: string): boolean {
  return /^BigQuery\b/i.test(serviceDescription.trim());
}

/**
 * What a BigQuery SKU pays for, from its description (SKU ids differ per region; the words do not):
 * - on_demand_analysis: "Analysis" (per TiB scanned), not "BI Engine";
 * - reservation: "Standard Edition", "Enterprise Edition", "Enterprise Plus Edition" slot-hours,
 *   edition commitments, legacy flat-rate slots;
 * - storage: "Active Logical Storage", "Long Term Logical Storage", "Active Physical Storage",
 *   "Long-Term Physical Storage", time travel and fail-safe;
 * - other: streaming inserts, Storage API reads, BI Engine, ML, ...
 */
export type SkuGroup = "on_demand_analysis" | "reservation" | "storage" | "other";

export function skuGroup(serviceDescription: string, skuDescription: string): SkuGroup {
  const sku = skuDescription.toLowerCase();
  if (/\bedition\b|\bcommitment\b|\bflat[ -]rate\b|\bslots?\b/.test(sku)) return "reservation";
  if (/\banalysis\b/.test(sku) && !/bi engine/.test(sku)) return "on_demand_analysis";
  if (
    /\bstorage\b/.test(sku) &&
    !/storage api|read api|write api/.test(sku) &&
    !/api/i.test(serviceDescription)
  )
    return "storage";
  return "other";
}

/** Slot-milliseconds in a reservation row's usage.amount, or undefined when its unit is not a slot-time. */
export function slotMsOf(row: BillingRow): bigint | undefined {
  const unit = row.usageUnit.toLowerCase().replace(/^slot[- ]?/, "");
  const perUnit: Record<string, bigint> = {
    milliseconds: 1n,
    ms: 1n,
    seconds: 1000n,
    second: 1000n,
    s: 1000n,
    hours: 3_600_000n,
    hour: 3_600_000n,
    h: 3_600_000n,
  };
  const factor = perUnit[unit];
  if (factor === undefined) return undefined;
  // usage.amount in nano-units: x factor / 1e9, half-up.
  return (row.usageAmount * factor * 2n + 1_000_000_000n) / 2_000_000_000n;
}
