// The column rules of FOCUS 1.2 (FinOps-Open-Cost-and-Usage-Spec/FOCUS_Spec, tag v1.2,
// specification/columns/*.md and specification/attributes/*.md) that a dataset can be checked
// against row by row. Each rule names the spec file it comes from. Returns every violation.

type Row = Record<string, string | null>;

/** Columns that MUST be present (unconditionally, or on conditions that hold for Google Cloud). */
export const REQUIRED_COLUMNS = [
  // MUST be present in a FOCUS dataset
  "BilledCost",
  "BillingAccountId",
  "BillingAccountName",
  "BillingCurrency",
  "BillingPeriodEnd",
  "BillingPeriodStart",
  "ChargeCategory",
  "ChargeClass",
  "ChargeDescription",
  "ChargePeriodEnd",
  "ChargePeriodStart",
  "ContractedCost",
  "EffectiveCost",
  "InvoiceIssuerName",
  "ListCost",
  "PricingQuantity",
  "PricingUnit",
  "ProviderName",
  "PublisherName",
  "ServiceCategory",
  "ServiceName",
  // conditional: capacity reservations, commitment discounts, usage measurement, negotiated and
  // published unit prices, regions, resources, SKUs with price lists, sub accounts (projects), tags
  "CapacityReservationId",
  "CapacityReservationStatus",
  "CommitmentDiscountCategory",
  "CommitmentDiscountId",
  "CommitmentDiscountName",
  "CommitmentDiscountQuantity",
  "CommitmentDiscountStatus",
  "CommitmentDiscountType",
  "CommitmentDiscountUnit",
  "ConsumedQuantity",
  "ConsumedUnit",
  "ContractedUnitPrice",
  "ListUnitPrice",
  "PricingCategory",
  "RegionId",
  "RegionName",
  "ResourceId",
  "ResourceName",
  "ResourceType",
  "SkuId",
  "SkuMeter",
  "SkuPriceDetails",
  "SkuPriceId",
  "SubAccountId",
  "SubAccountName",
  "SubAccountType",
  "Tags",
];

/** Every column FOCUS 1.2 defines (specification/columns/columns.mdpp); others must start with x_. */
const FOCUS_DEFINED = new Set([
  ...REQUIRED_COLUMNS,
  "AvailabilityZone",
  "BillingAccountType",
  "ChargeFrequency",
  "InvoiceId",
  "PricingCurrency",
  "PricingCurrencyContractedUnitPrice",
  "PricingCurrencyEffectiveCost",
  "PricingCurrencyListUnitPrice",
  "ServiceSubcategory",
]);

const NOT_NULL = [
  "BilledCost",
  "BillingAccountId",
  "BillingCurrency",
  "BillingPeriodEnd",
  "BillingPeriodStart",
  "ChargeCategory",
  "ChargePeriodEnd",
  "ChargePeriodStart",
  "ContractedCost",
  "EffectiveCost",
  "InvoiceIssuerName",
  "ListCost",
  "ProviderName",
  "PublisherName",
  "ServiceCategory",
  "ServiceName",
];

const DECIMAL_COLUMNS = [
  "BilledCost",
  "EffectiveCost",
  "ListCost",
  "ContractedCost",
  "ListUnitPrice",
  "ContractedUnitPrice",
  "PricingQuantity",
  "ConsumedQuantity",
  "CommitmentDiscountQuantity",
];

const DATETIME_COLUMNS = ["BillingPeriodStart", "BillingPeriodEnd", "ChargePeriodStart", "ChargePeriodEnd"];

const SERVICE_CATEGORIES = new Set([
  "AI and Machine Learning",
  "Analytics",
  "Business Applications",
  "Compute",
  "Databases",
  "Developer Tools",
  "Multicloud",
  "Identity",
  "Integration",
  "Internet of Things",
  "Management and Governance",
  "Media",
  "Migration",
  "Mobile",
  "Networking",
  "Security",
  "Storage",
  "Web",
  "Other",
]);

/** The subcategories of servicesubcategory.md for the categories a BigQuery charge can be in. */
const SUBCATEGORY_PARENT: Record<string, string> = {
  "Analytics Platforms": "Analytics",
  "Business Intelligence": "Analytics",
  "Data Processing": "Analytics",
  Search: "Analytics",
  "Streaming Analytics": "Analytics",
  "Other (Analytics)": "Analytics",
  Caching: "Databases",
  "Data Warehouses": "Databases",
  "Ledger Databases": "Databases",
  "NoSQL Databases": "Databases",
  "Relational Databases": "Databases",
  "Time Series Databases": "Databases",
  "Other (Databases)": "Databases",
  "Other (Storage)": "Storage",
};

// attributes/numeric_format.md: integer, decimal or E notation; no "+", no separators, no units.
const NUMERIC = /^-?\d+(?:\.\d+)?(?:[eE]-?\d+)?$/;
// attributes/datetime_format.md: UTC, extended ISO 8601, 'YYYY-MM-DDTHH:mm:ssZ'.
const DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
// attributes/currency_format.md: ISO 4217 three-letter code.
const CURRENCY = /^[A-Z]{3}$/;
// attributes/unit_format.md: "GB", "Seconds", "GB-Hours", "GB/Hour", "1000 Tokens" (a sketch of the grammar).
const UNIT =
  /^(?:\d+ )?[A-Z][A-Za-z]*(?:-[A-Z][a-z]+s|\/[A-Z][a-z]+)?$|^(?:[KMGTPE]i?)?[Bb](?:-[A-Z][a-z]+s|\/[A-Z][a-z]+)?$/;

/** |unitPrice x quantity - cost| within `tolerance` (decimal text in, exact arithmetic at 1e-18). */
function productMatches(unitPrice: string, quantity: string, cost: string, tolerance: string): boolean {
  const scaled = (text: string, scale: number) => {
    const [whole, fraction = ""] = text.replace("-", "").split(".");
    const value = BigInt(`${whole}${fraction.padEnd(scale, "0").slice(0, scale)}`);
    return text.startsWith("-") ? -value : value;
  };
  const product = scaled(unitPrice, 9) * scaled(quantity, 9);
  const difference = product - scaled(cost, 18);
  return (difference < 0n ? -difference : difference) <= scaled(tolerance, 18);
}

function isKeyValueJson(text: string): boolean {
  try {
    const value = JSON.parse(text);
    return (
      typeof value === "object" &&
      value !== null &&
      !Array.isArray(value) &&
      Object.values(value).every((v) => v === null || typeof v !== "object")
    );
  } catch {
    return false;
  }
}

/**
 * Violations of the rules, as "row N: Column: what". `priceTolerance` is how far
 * unit price x PricingQuantity may be from ListCost and ContractedCost: the spec says they MUST
 * match; costs rounded to the currency's minor unit can only match to within that unit.
 */
export function focusViolations(
  columns: readonly string[],
  rows: readonly Row[],
  priceTolerance: string,
): string[] {
  const problems: string[] = [];
  for (const column of REQUIRED_COLUMNS)
    if (!columns.includes(column)) problems.push(`dataset: ${column} MUST be present`);
  let seenCustom = false;
  for (const column of columns) {
    if (column.startsWith("x_")) seenCustom = true;
    else if (!FOCUS_DEFINED.has(column))
      problems.push(`dataset: ${column} is not a FOCUS column and lacks the x_ prefix`);
    else if (seenCustom) problems.push(`dataset: ${column}: FOCUS columns SHOULD come before custom columns`);
  }
  rows.forEach((row, i) => {
    const at = (column: string, problem: string) => problems.push(`row ${i + 1}: ${column}: ${problem}`);
    const v = (column: string) => row[column] ?? null;
    for (const column of NOT_NULL) if (v(column) === null || v(column) === "") at(column, "MUST NOT be null");
    for (const column of DECIMAL_COLUMNS) {
      const value = v(column);
      if (value !== null && !NUMERIC.test(value)) at(column, `not in Numeric Format: "${value}"`);
    }
    for (const column of DATETIME_COLUMNS) {
      const value = v(column);
      if (value !== null && !DATETIME.test(value)) at(column, `not in Date/Time Format: "${value}"`);
    }
    if (!CURRENCY.test(v("BillingCurrency") ?? "")) at("BillingCurrency", "MUST be an ISO 4217 code");
    if ((v("ChargePeriodStart") ?? "") >= (v("ChargePeriodEnd") ?? ""))
      at("ChargePeriodEnd", "MUST be the exclusive end, after ChargePeriodStart");
    if ((v("BillingPeriodStart") ?? "") >= (v("BillingPeriodEnd") ?? ""))
      at("BillingPeriodEnd", "MUST be the exclusive end, after BillingPeriodStart");
    if (
      (v("ChargePeriodStart") ?? "") < (v("BillingPeriodStart") ?? "") ||
      (v("ChargePeriodEnd") ?? "") > (v("BillingPeriodEnd") ?? "")
    )
      at("ChargePeriodStart", "charge period outside its billing period");
    const category = v("ChargeCategory");
    if (!["Usage", "Purchase", "Tax", "Credit", "Adjustment"].includes(category ?? ""))
      at("ChargeCategory", `not an allowed value: "${category}"`);
    const correction = v("ChargeClass") !== null;
    if (correction && v("ChargeClass") !== "Correction")
      at("ChargeClass", 'MUST be "Correction" when not null');
    const frequency = v("ChargeFrequency");
    if (frequency !== null && !["One-Time", "Recurring", "Usage-Based"].includes(frequency))
      at("ChargeFrequency", `not an allowed value: "${frequency}"`);
    if (frequency === "Usage-Based" && category === "Purchase")
      at("ChargeFrequency", 'MUST NOT be "Usage-Based" for a Purchase');
    if (!SERVICE_CATEGORIES.has(v("ServiceCategory") ?? "")) at("ServiceCategory", "not an allowed value");
    const subcategory = v("ServiceSubcategory");
    if (subcategory !== null && SUBCATEGORY_PARENT[subcategory] !== v("ServiceCategory"))
      at("ServiceSubcategory", `"${subcategory}" is not a subcategory of "${v("ServiceCategory")}"`);
    if (
      v("BillingAccountId") !== null &&
      columns.includes("BillingAccountType") &&
      v("BillingAccountType") === null
    )
      at("BillingAccountType", "MUST NOT be null when BillingAccountId is not null");
    // Nullability tied to ChargeCategory (skuid.md, skupriceid.md, pricingquantity.md, listunitprice.md, contractedunitprice.md, pricingcategory.md).
    const usageOrPurchase = (category === "Usage" || category === "Purchase") && !correction;
    for (const column of [
      "SkuId",
      "SkuPriceId",
      "PricingQuantity",
      "ListUnitPrice",
      "ContractedUnitPrice",
      "PricingCategory",
    ]) {
      if (category === "Tax" && v(column) !== null) at(column, "MUST be null when ChargeCategory is Tax");
      if (usageOrPurchase && v(column) === null) at(column, "MUST NOT be null for Usage and Purchase");
    }
    if (
      v("PricingCategory") !== null &&
      !["Standard", "Dynamic", "Committed", "Other"].includes(v("PricingCategory") as string)
    )
      at("PricingCategory", "not an allowed value");
    for (const column of ["ListUnitPrice", "ContractedUnitPrice"]) {
      if ((v(column) ?? "").startsWith("-")) at(column, "MUST be non-negative");
    }
    if ((v("PricingUnit") === null) !== (v("PricingQuantity") === null))
      at("PricingUnit", "MUST be null exactly when PricingQuantity is");
    if (v("PricingUnit") !== null && !UNIT.test(v("PricingUnit") as string))
      at("PricingUnit", `not in Unit Format: "${v("PricingUnit")}"`);
    if (v("SkuMeter") !== null && v("SkuId") === null) at("SkuMeter", "MUST be null when SkuId is null");
    if (
      v("SkuPriceDetails") !== null &&
      (v("SkuPriceId") === null || !isKeyValueJson(v("SkuPriceDetails") as string))
    )
      at("SkuPriceDetails", "MUST be null when SkuPriceId is, else a key-value JSON object");
    if (v("Tags") !== null && !isKeyValueJson(v("Tags") as string)) at("Tags", "not in Key-Value Format");
    if ((v("SubAccountType") === null) !== (v("SubAccountId") === null))
      at("SubAccountType", "MUST be null exactly when SubAccountId is");
    // consumedquantity.md, consumedunit.md
    const unusedCommitment = v("CommitmentDiscountStatus") === "Unused";
    if ((category !== "Usage" || unusedCommitment) && v("ConsumedQuantity") !== null)
      at("ConsumedQuantity", "MUST be null unless a Usage charge of a used commitment");
    if (category === "Usage" && !unusedCommitment && !correction && v("ConsumedQuantity") === null)
      at("ConsumedQuantity", "MUST NOT be null for Usage");
    if ((v("ConsumedUnit") === null) !== (v("ConsumedQuantity") === null))
      at("ConsumedUnit", "MUST be null exactly when ConsumedQuantity is");
    if (v("ConsumedUnit") !== null && !UNIT.test(v("ConsumedUnit") as string))
      at("ConsumedUnit", "not in Unit Format");
    // capacityreservationstatus.md
    const reservation = v("CapacityReservationId");
    const status = v("CapacityReservationStatus");
    if (reservation === null && status !== null)
      at("CapacityReservationStatus", "MUST be null when CapacityReservationId is");
    if (reservation !== null && category === "Usage" && status === null)
      at("CapacityReservationStatus", "MUST NOT be null for Usage of a capacity reservation");
    if (status !== null && status !== "Used" && status !== "Unused")
      at("CapacityReservationStatus", "not an allowed value");
    // commitmentdiscount*.md
    if (v("CommitmentDiscountId") === null) {
      for (const column of [
        "CommitmentDiscountCategory",
        "CommitmentDiscountName",
        "CommitmentDiscountStatus",
        "CommitmentDiscountType",
        "CommitmentDiscountQuantity",
      ])
        if (v(column) !== null) at(column, "MUST be null when CommitmentDiscountId is null");
    }
    if ((v("CommitmentDiscountUnit") === null) !== (v("CommitmentDiscountQuantity") === null))
      at("CommitmentDiscountUnit", "MUST be null exactly when CommitmentDiscountQuantity is");
    // listunitprice.md / contractedunitprice.md: unit price x PricingQuantity = cost
    const quantity = v("PricingQuantity");
    if (quantity !== null && !correction) {
      for (const [price, cost] of [
        ["ListUnitPrice", "ListCost"],
        ["ContractedUnitPrice", "ContractedCost"],
      ] as const) {
        const unitPrice = v(price);
        const amount = v(cost);
        if (
          unitPrice !== null &&
          amount !== null &&
          !productMatches(unitPrice, quantity, amount, priceTolerance)
        )
          at(price, `${unitPrice} x PricingQuantity ${quantity} does not match ${cost} ${amount}`);
      }
    }
  });
  return problems;
}
