// Reads the Cloud Billing export (standard usage cost table gcp_billing_export_v1_<ACCOUNT>, or
// the detailed gcp_billing_export_resource_v1_<ACCOUNT>) as a user gets it out of BigQuery:
//   bq query --format=json 'SELECT * FROM ...'            (JSON array, nested records)
//   bq extract --destination_format=NEWLINE_DELIMITED_JSON (NDJSON, nested records)
//   bq query --format=csv 'SELECT ... flattened ...'      (CSV: record fields as service_description
//                                                          or "service.description", credits as
//                                                          TO_JSON_STRING(credits))
// Amounts are FLOAT64 in the table: read from their text, exactly (see core/billing/amount.ts).
import { readFile } from "node:fs/promises";
import { CURRENCY_CODE, type NanoUnits, parseDecimalNanos } from "../core/billing/amount.ts";
import type { BillingCredit, BillingRow } from "../core/billing/export-row.ts";
import { rfc3339FromBq } from "./bq-timestamp.ts";
import { parseTableRows, type TableRow } from "./table-rows.ts";

export class BillingExportError extends Error {}

/** A field of a nested record, or of its flattened column (`a.b` or `a_b`) in CSV. */
function field(values: Record<string, unknown>, path: string): unknown {
  let node: unknown = values;
  for (const part of path.split(".")) {
    if (node === null || typeof node !== "object" || Array.isArray(node)) {
      node = undefined;
      break;
    }
    node = (node as Record<string, unknown>)[part];
  }
  if (node !== undefined) return node;
  return values[path] ?? values[path.replaceAll(".", "_")];
}

/** A bq TIMESTAMP ("2026-10-01 07:00:00 UTC", RFC 3339 or epoch seconds) in epoch milliseconds. */
export function parseBqTimestamp(value: unknown): number | undefined {
  const text = rfc3339FromBq(value);
  const ms = text === undefined ? Number.NaN : Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}

class RowReader {
  private readonly row: TableRow;
  private readonly file: string;

  constructor(row: TableRow, file: string) {
    this.row = row;
    this.file = file;
  }

  fail(path: string, problem: string): never {
    throw new BillingExportError(`${this.file}:${this.row.line}: ${path}: ${problem}`);
  }

  text(path: string, required: boolean): string {
    const value = field(this.row.values, path);
    if (value === undefined || value === null || value === "") {
      if (required) this.fail(path, "expected a value, found nothing");
      return "";
    }
    if (typeof value !== "string" && typeof value !== "number") {
      this.fail(path, `expected text, found ${JSON.stringify(value)}`);
    }
    return String(value).trim();
  }

  amount(
    path: string,
    required: boolean,
    value: unknown = field(this.row.values, path),
  ): NanoUnits | undefined {
    if (value === undefined || value === null || value === "") {
      if (required) this.fail(path, "expected a decimal amount, found nothing");
      return undefined;
    }
    if (typeof value !== "string" && typeof value !== "number") {
      this.fail(path, `expected a decimal amount, found ${JSON.stringify(value)}`);
    }
    // A JSON number reads back as the shortest text for the same double, which is what bq wrote.
    const parsed = parseDecimalNanos(String(value));
    if (parsed === undefined) this.fail(path, `expected a decimal amount, found "${String(value)}"`);
    return parsed;
  }

  time(path: string): number {
    const value = field(this.row.values, path);
    const ms = parseBqTimestamp(value);
    if (ms === undefined) {
      this.fail(
        path,
        `expected a timestamp such as 2026-10-01 07:00:00 UTC, found ${JSON.stringify(value ?? null)}`,
      );
    }
    return ms;
  }

  credits(): BillingCredit[] {
    let value = field(this.row.values, "credits");
    if (value === undefined || value === null || value === "") return [];
    if (typeof value === "string") {
      try {
        value = JSON.parse(value);
      } catch {
        this.fail(
          "credits",
          "expected a JSON array of {name, amount, type} (TO_JSON_STRING(credits) in CSV)",
        );
      }
    }
    if (!Array.isArray(value))
      this.fail("credits", `expected a list of credits, found ${JSON.stringify(value)}`);
    return value.map((credit, i) => {
      if (credit === null || typeof credit !== "object")
        this.fail(`credits[${i}]`, `expected a record, found ${JSON.stringify(credit)}`);
      const record = credit as Record<string, unknown>;
      return {
        type: typeof record.type === "string" ? record.type : "",
        name: typeof record.name === "string" ? record.name : "",
        amount: this.amount(`credits[${i}].amount`, true, record.amount) as bigint,
      };
    });
  }
}

export function toBillingRow(row: TableRow, file: string): BillingRow {
  const r = new RowReader(row, file);
  const currency = r.text("currency", true);
  if (!CURRENCY_CODE.test(currency))
    r.fail("currency", `expected an ISO 4217 code such as USD or JPY, found "${currency}"`);
  const invoiceMonth = r.text("invoice.month", false);
  if (invoiceMonth !== "" && !/^\d{6}$/.test(invoiceMonth))
    r.fail("invoice.month", `expected YYYYMM, found "${invoiceMonth}"`);
  const usageStartMs = r.time("usage_start_time");
  const usageEndMs = r.time("usage_end_time");
  if (usageEndMs < usageStartMs) r.fail("usage_end_time", "is before usage_start_time");
  return {
    billingAccountId: r.text("billing_account_id", true),
    serviceId: r.text("service.id", false),
    serviceDescription: r.text("service.description", true),
    skuId: r.text("sku.id", false),
    skuDescription: r.text("sku.description", true),
    usageStartMs,
    usageEndMs,
    projectId: r.text("project.id", false),
    projectName: r.text("project.name", false),
    location: r.text("location.location", false) || r.text("location.region", false),
    cost: r.amount("cost", true) as bigint,
    costAtList: r.amount("cost_at_list", false),
    currency,
    currencyConversionRate: r.text("currency_conversion_rate", false) || "1",
    pricingQuantity: r.amount("usage.amount_in_pricing_units", false) ?? 0n,
    pricingUnit: r.text("usage.pricing_unit", false),
    usageAmount: r.amount("usage.amount", false) ?? 0n,
    usageUnit: r.text("usage.unit", false),
    credits: r.credits(),
    invoiceMonth,
    costType: r.text("cost_type", false) || "regular",
    resourceName: r.text("resource.global_name", false) || r.text("resource.name", false),
    source: { file, line: row.line },
  };
}

export function parseBillingExport(text: string, file: string): BillingRow[] {
  const rows = parseTableRows(text, file, {
    what: "the Cloud Billing export",
    error: BillingExportError,
  });
  return rows.map((row) => toBillingRow(row, file));
}

export async function readBillingExports(files: readonly string[]): Promise<BillingRow[]> {
  const rows: BillingRow[] = [];
  for (const file of files)
    for (const row of parseBillingExport(await readFile(file, "utf8"), file)) rows.push(row);
  return rows;
}
