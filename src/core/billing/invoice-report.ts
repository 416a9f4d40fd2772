// The invoice side of a report run: reconciliation with the Cloud Billing export, coverage
// against INFORMATION_SCHEMA.JOBS, and the FOCUS rows, from what the pipeline saw. Pure.

import type { DayClock } from "../period.ts";
import type { Registry } from "../registry.ts";
import type { StorageCostRow } from "../rows.ts";
import type { PeriodGranularity } from "../types.ts";
import { type CountedJob, type CoverageRow, coverage } from "./coverage.ts";
import type { BillingRow } from "./export-row.ts";
import { type FocusRow, focusRows } from "./focus.ts";
import type { BillingJobUsage } from "./job-usage.ts";
import { type Reconciliation, reconcile } from "./reconcile.ts";

export interface InvoiceReport {
  reconciliation: Reconciliation;
  /** Empty when no JOBS export was given. */
  coverage: CoverageRow[];
  coverageThresholdBasisPoints: number;
  focus: FocusRow[];
}

export const DEFAULT_COVERAGE_THRESHOLD_BP = 9_500;

export function invoiceReport(options: {
  rows: readonly BillingRow[];
  counted: readonly CountedJob[];
  usage: BillingJobUsage;
  registry: Registry;
  clock: DayClock;
  granularity: PeriodGranularity;
  from: string;
  to: string;
  storage: readonly StorageCostRow[];
  coverageThresholdBasisPoints?: number;
}): InvoiceReport {
  const threshold = options.coverageThresholdBasisPoints ?? DEFAULT_COVERAGE_THRESHOLD_BP;
  const covered = coverage({
    counted: options.counted,
    logged: options.usage.loggedJobs,
    clock: options.clock,
    from: options.from,
    to: options.to,
    thresholdBasisPoints: threshold,
  });
  const storageEstimates = new Map<string, { period: string; projectId: string; storage: bigint }>();
  for (const row of options.storage) {
    const key = `${row.period}\u0000${row.project_id}`;
    const sum = storageEstimates.get(key) ?? { period: row.period, projectId: row.project_id, storage: 0n };
    sum.storage += row.storage_usd;
    storageEstimates.set(key, sum);
  }
  const reconciliation = reconcile({
    rows: options.rows,
    usage: options.usage.all(),
    registry: options.registry,
    clock: options.clock,
    granularity: options.granularity,
    from: options.from,
    to: options.to,
    storageEstimates: [...storageEstimates.values()],
    coverage: covered,
  });
  return {
    reconciliation,
    coverage: covered,
    coverageThresholdBasisPoints: threshold,
    focus: focusRows(reconciliation.lines, reconciliation.currency, options.clock.timeZone),
  };
}
