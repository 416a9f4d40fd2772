// The allocated invoice as a FOCUS 1.2 dataset (FinOps Open Cost and Usage Specification,
// https://github.com/FinOps-Open-Cost-and-Usage-Spec/FOCUS_Spec tag v1.2): one row per charge
// group and department, with the department and the allocation basis as x_ custom columns.
// Column rules followed are those of specification/columns/*.md at v1.2; see test/focus.test.ts.
import { tzOffset } from "@date-fns/tz";
import { mulDivRound } from "../money.ts";
import { formatMinorUnits, formatNanos, NANOS_PER_UNIT, type NanoUnits } from "./amount.ts";
import type { AllocationLine } from "./reconcile.ts";

/** FOCUS columns first (alphabetically), then the custom x_ columns. */
export const FOCUS_COLUMNS = [
  "BilledCost",
  "BillingAccountId",
  "BillingAccountName",
  "BillingAccountType",
  "BillingCurrency",
  "BillingPeriodEnd",
  "BillingPeriodStart",
  "CapacityReservationId",
  "CapacityReservationStatus",
  "ChargeCategory",
  "ChargeClass",
  "ChargeDescription",
  "ChargeFrequency",
  "ChargePeriodEnd",
  "ChargePeriodStart",
  "CommitmentDiscountCategory",
  "CommitmentDiscountId",
  "CommitmentDiscountName",
  "CommitmentDiscountQuantity",
  "CommitmentDiscountStatus",
  "CommitmentDiscountType",
  "CommitmentDiscountUnit",
  "ConsumedQuantity",
  "ConsumedUnit",
  "ContractedCost",
  "ContractedUnitPrice",
  "EffectiveCost",
  "InvoiceIssuerName",
  "ListCost",
  "ListUnitPrice",
  "PricingCategory",
  "PricingQuantity",
  "PricingUnit",
  "ProviderName",
  "PublisherName",
  "RegionId",
  "RegionName",
  "ResourceId",
  "ResourceName",
  "ResourceType",
  "ServiceCategory",
  "ServiceName",
  "ServiceSubcategory",
  "SkuId",
  "SkuMeter",
  "SkuPriceDetails",
  "SkuPriceId",
  "SubAccountId",
  "SubAccountName",
  "SubAccountType",
  "Tags",
  "x_ChargebackDepartment",
  "x_AllocationBasis",
  "x_AllocationReason",
  "x_SkuGroup",
] as const;

export type FocusColumn = (typeof FOCUS_COLUMNS)[number];
export type FocusRow = Record<FocusColumn, string | null>;

const PROVIDER = "Google Cloud";

/** Billing export pricing units in FOCUS Unit Format (attributes/unit_format.md). */
const UNITS: Record<string, string> = {
  tebibyte: "TiB",
  gibibyte: "GiB",
  mebibyte: "MiB",
  byte: "Bytes",
  "gibibyte month": "GiB-Months",
  "gibibyte hour": "GiB-Hours",
  "tebibyte month": "TiB-Months",
  hour: "Slot-Hours",
  "slot hour": "Slot-Hours",
  "slot-hour": "Slot-Hours",
  count: "Count",
  request: "Requests",
};

export function focusUnit(pricingUnit: string): string {
  return UNITS[pricingUnit.trim().toLowerCase()] ?? pricingUnit.trim();
}

const METERS: Record<string, string> = {
  on_demand_analysis: "Bytes Scanned",
  reservation: "Slot Time",
  storage: "Storage",
  other: "Other",
};

/** An instant as FOCUS Date/Time: UTC, 'YYYY-MM-DDTHH:mm:ssZ'. */
export function focusDateTime(epochMs: number): string {
  return `${new Date(Math.floor(epochMs / 1000) * 1000).toISOString().slice(0, 19)}Z`;
}

/** Midnight at the start of `day` (YYYY-MM-DD) in `timeZone`, as epoch ms. */
function localMidnight(day: string, timeZone: string): number {
  const utc = Date.parse(`${day}T00:00:00Z`);
  const guess = utc - tzOffset(timeZone, new Date(utc)) * 60_000;
  return utc - tzOffset(timeZone, new Date(guess)) * 60_000;
}

/** The invoice month containing `day`, as [start, end) instants: Google invoices by Pacific-time months. */
export function billingPeriod(day: string, timeZone: string): [number, number] {
  const [year, month] = day.split("-").map(Number) as [number, number];
  const next = month === 12 ? `${year + 1}-01-01` : `${year}-${String(month + 1).padStart(2, "0")}-01`;
  return [localMidnight(`${day.slice(0, 7)}-01`, timeZone), localMidnight(next, timeZone)];
}

/** A decimal without trailing zeros ("0.5", "12"), at most 9 places. */
function plain(value: NanoUnits): string {
  const text = formatNanos(value);
  return text.includes(".") ? text.replace(/\.?0+$/, "") : text;
}

/** amount / quantity per unit, 9 decimals; 0 when nothing was used (a price of nothing). */
function unitPrice(amount: NanoUnits, quantity: NanoUnits): string {
  if (quantity === 0n) return "0";
  // the sign on the amount, so the divisor is positive: half away from zero either way
  const [a, q] = quantity < 0n ? [-amount, -quantity] : [amount, quantity];
  return plain(mulDivRound(a, NANOS_PER_UNIT, q));
}

function chargeCategory(costType: string): string {
  switch (costType) {
    case "tax":
      return "Tax";
    case "adjustment":
    case "rounding error":
      return "Adjustment";
    default:
      return "Usage";
  }
}

export function focusRow(line: AllocationLine, currency: string, timeZone: string): FocusRow {
  const { group } = line;
  const category = chargeCategory(group.costType);
  const priced = category === "Usage";
  const unused = line.capacityStatus === "Unused";
  const [periodStart, periodEnd] = billingPeriod(group.day, timeZone);
  const committed = [...group.credits.keys()].some((type) => type.startsWith("COMMITTED_USAGE_DISCOUNT"));
  const reservation =
    group.skuGroup === "reservation" ? group.reservation || `projects/${group.billingProject}` : null;
  const quantity = priced ? plain(line.pricingQuantity) : null;
  return {
    BilledCost: formatMinorUnits(line.netMinor, currency),
    BillingAccountId: group.billingAccountId,
    BillingAccountName: null,
    BillingAccountType: "Billing Account",
    BillingCurrency: currency,
    BillingPeriodEnd: focusDateTime(periodEnd),
    BillingPeriodStart: focusDateTime(periodStart),
    CapacityReservationId: reservation,
    CapacityReservationStatus: reservation && priced ? (unused ? "Unused" : "Used") : null,
    ChargeCategory: category,
    ChargeClass: null,
    ChargeDescription: group.skuDescription,
    ChargeFrequency: "Usage-Based",
    ChargePeriodEnd: focusDateTime(group.endMs),
    ChargePeriodStart: focusDateTime(group.startMs),
    CommitmentDiscountCategory: null,
    CommitmentDiscountId: null,
    CommitmentDiscountName: null,
    CommitmentDiscountQuantity: null,
    CommitmentDiscountStatus: null,
    CommitmentDiscountType: null,
    CommitmentDiscountUnit: null,
    ConsumedQuantity: priced ? quantity : null,
    ConsumedUnit: priced ? focusUnit(group.pricingUnit) : null,
    ContractedCost: formatMinorUnits(line.costMinor, currency),
    ContractedUnitPrice: priced ? unitPrice(group.cost, group.pricingQuantity) : null,
    EffectiveCost: formatMinorUnits(line.netMinor, currency),
    InvoiceIssuerName: PROVIDER,
    ListCost: formatMinorUnits(line.listMinor, currency),
    ListUnitPrice: priced ? unitPrice(group.list, group.pricingQuantity) : null,
    PricingCategory: priced ? (committed ? "Committed" : "Standard") : null,
    PricingQuantity: quantity,
    PricingUnit: quantity === null ? null : focusUnit(group.pricingUnit),
    ProviderName: PROVIDER,
    PublisherName: PROVIDER,
    RegionId: group.location || null,
    RegionName: group.location || null,
    ResourceId: reservation,
    ResourceName: reservation,
    ResourceType: reservation ? "Reservation" : null,
    ServiceCategory: "Databases",
    ServiceName: group.serviceDescription,
    ServiceSubcategory: "Data Warehouses",
    SkuId: priced ? group.skuId || group.skuDescription : group.skuId || null,
    SkuMeter: priced ? (METERS[group.skuGroup] ?? "Other") : null,
    SkuPriceDetails: null,
    SkuPriceId: priced ? group.skuId || group.skuDescription : null,
    SubAccountId: group.billingProject || null,
    SubAccountName: group.billingProject || null,
    SubAccountType: group.billingProject ? "Project" : null,
    Tags: null,
    x_ChargebackDepartment: line.department,
    x_AllocationBasis: line.basis,
    x_AllocationReason: line.reason ?? null,
    x_SkuGroup: group.skuGroup,
  };
}

export function focusRows(lines: readonly AllocationLine[], currency: string, timeZone: string): FocusRow[] {
  return lines.map((line) => focusRow(line, currency, timeZone));
}
