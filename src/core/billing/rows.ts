// Columns of reconciliation.csv and coverage.csv: one definition each, equal to the columns of
// sql/ddl/reconciliation.sql and sql/ddl/coverage.sql (test/billing.test.ts checks it).
import type { DepartmentCostRow } from "../rows.ts";
import { formatMinorUnits, formatNanos, nanosPerMinorUnit } from "./amount.ts";
import type { CoverageRow } from "./coverage.ts";
import type { AllocationLine, Reconciliation, ReconciliationRow } from "./reconcile.ts";

export const RECONCILIATION_COLUMNS = [
  "period",
  "billing_project",
  "sku_group",
  "currency",
  "estimated_usd",
  "list_cost_usd",
  "list_cost",
  "credits",
  "net_cost",
  "allocated_to_jobs",
  "allocated_to_project_owner",
  "idle_to_admin",
  "unattributed",
  "rounding",
  "idle_cost",
  "used_slot_ms",
  "capacity_slot_ms",
  "credit_types",
  "reasons",
] as const;

export type ReconciliationRecord = Record<(typeof RECONCILIATION_COLUMNS)[number], string | string[]>;

/** Amounts with 6 decimals, as in the other CSV files: whole cents and yen show exactly. */
export function reconciliationRecord(
  row: ReconciliationRow,
  currency: string,
  decimals = 6,
): ReconciliationRecord {
  const money = (value: bigint) => formatNanos(value, decimals);
  return {
    period: row.period,
    billing_project: row.billingProject,
    sku_group: row.skuGroup,
    currency,
    estimated_usd: money(row.estimatedUsd),
    list_cost_usd: money(row.listUsd),
    list_cost: money(row.list),
    credits: money(row.credits),
    net_cost: money(row.net),
    allocated_to_jobs: money(row.allocatedToJobs),
    allocated_to_project_owner: money(row.allocatedToProjectOwner),
    idle_to_admin: money(row.idleToAdmin),
    unattributed: money(row.unattributed),
    rounding: money(row.rounding),
    idle_cost: money(row.idle),
    used_slot_ms: row.usedSlotMs.toString(),
    capacity_slot_ms: row.capacitySlotMs.toString(),
    credit_types: row.creditTypes,
    reasons: row.reasons,
  };
}

export function reconciliationCells(row: ReconciliationRow, currency: string): string[] {
  const record = reconciliationRecord(row, currency);
  return RECONCILIATION_COLUMNS.map((column) => {
    const value = record[column];
    return Array.isArray(value) ? value.join(";") : value;
  });
}

export const COVERAGE_COLUMNS = [
  "day",
  "project_id",
  "jobs_counted",
  "jobs_in_logs",
  "jobs_coverage",
  "bytes_billed_counted",
  "bytes_billed_in_logs",
  "bytes_coverage",
  "below_threshold",
] as const;

export function coverageCells(row: CoverageRow): (string | number | boolean)[] {
  return [
    row.day,
    row.projectId,
    row.jobsCounted,
    row.jobsInLogs,
    row.jobsCoverage,
    row.bytesBilledCounted.toString(),
    row.bytesBilledInLogs.toString(),
    row.bytesCoverage,
    row.belowThreshold,
  ];
}

/** department_costs.csv's invoiced columns, after the estimates: empty when the run had no --billing. */
export const DEPARTMENT_INVOICED_COLUMNS = ["invoiced_currency", "invoiced_net", "invoiced_list"] as const;

export function departmentInvoicedCells(
  row: { period: string; department: string },
  reconciliation: Reconciliation | undefined,
): string[] {
  if (!reconciliation) return ["", "", ""];
  const { currency } = reconciliation;
  const found = reconciliation.departments.find(
    (d) => d.period === row.period && d.department === row.department,
  );
  return [
    currency,
    formatMinorUnits(found?.netMinor ?? 0n, currency),
    formatMinorUnits(found?.listMinor ?? 0n, currency),
  ];
}

/** Department rows plus a zero-estimate row for every department the invoice reaches and the estimate does not. */
export function withInvoicedDepartments(
  rows: readonly DepartmentCostRow[],
  reconciliation: Reconciliation,
): DepartmentCostRow[] {
  const present = new Set(rows.map((row) => `${row.period}\u0000${row.department}`));
  const added = reconciliation.departments
    .filter((d) => !present.has(`${d.period}\u0000${d.department}`))
    .map((d) => ({
      period: d.period,
      department: d.department,
      compute_paid_usd: 0n,
      compute_consumed_usd: 0n,
      storage_usd: 0n,
      free_rides_given_usd: 0n,
      free_rides_taken_usd: 0n,
      unpriced_jobs: 0n,
    }));
  return [...rows, ...added].sort((a, b) =>
    a.period === b.period ? (a.department < b.department ? -1 : 1) : a.period < b.period ? -1 : 1,
  );
}

/** Columns of the invoice_allocation table (sql/ddl/invoice_allocation.sql): one row per line. */
export const INVOICE_ALLOCATION_COLUMNS = [
  "period",
  "day",
  "billing_account_id",
  "billing_project",
  "service_description",
  "sku_id",
  "sku_description",
  "sku_group",
  "location",
  "cost_type",
  "department",
  "basis",
  "reason",
  "capacity_status",
  "currency",
  "start_time",
  "end_time",
  "net",
  "list",
  "cost",
  "pricing_quantity",
  "pricing_unit",
  "net_allocated",
  "list_allocated",
  "cost_allocated",
] as const;

export type InvoiceAllocationRecord = Record<(typeof INVOICE_ALLOCATION_COLUMNS)[number], string | null>;

/** An allocation line as the invoice_allocation table holds it: NUMERIC amounts as text with 9 decimals. */
export function invoiceAllocationRecord(line: AllocationLine, currency: string): InvoiceAllocationRecord {
  const { group } = line;
  const numeric = (nanos: bigint) => formatNanos(nanos, 9);
  const unit = nanosPerMinorUnit(currency);
  return {
    period: group.period,
    day: group.day,
    billing_account_id: group.billingAccountId,
    billing_project: group.billingProject,
    service_description: group.serviceDescription,
    sku_id: group.skuId,
    sku_description: group.skuDescription,
    sku_group: group.skuGroup,
    location: group.location,
    cost_type: group.costType,
    department: line.department,
    basis: line.basis,
    reason: line.reason ?? null,
    capacity_status: line.capacityStatus ?? null,
    currency,
    start_time: new Date(group.startMs).toISOString(),
    end_time: new Date(group.endMs).toISOString(),
    net: numeric(line.net),
    list: numeric(line.list),
    cost: numeric(line.cost),
    pricing_quantity: numeric(line.pricingQuantity),
    pricing_unit: group.pricingUnit,
    net_allocated: numeric(line.netMinor * unit),
    list_allocated: numeric(line.listMinor * unit),
    cost_allocated: numeric(line.costMinor * unit),
  };
}
