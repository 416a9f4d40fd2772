// The invoice shared out: every BigQuery row of the Cloud Billing export, grouped per billing
// day, project and SKU, is allocated to departments by what the logs say they used, and what
// cannot be allocated by use is given to a department by rule with its reason. Amounts stay exact
// (nano-units of the billing currency) until one largest-remainder rounding per period to the
// currency's minor unit, so the departments' sum is the export's total to the last cent or yen.
import { mulDivRound } from "../money.ts";
import { type DayClock, periodOf } from "../period.ts";
import { canonicalReservation, normaliseLocation } from "../pricebook.ts";
import { projectDepartment, type Registry } from "../registry.ts";
import type { PeriodGranularity } from "../types.ts";
import { type NanoUnits, nanosPerMinorUnit, parseDecimalNanos, toMinorUnits } from "./amount.ts";
import { apportion, splitByWeight } from "./apportion.ts";
import type { CoverageRow } from "./coverage.ts";
import {
  type BillingRow,
  isBigQueryService,
  listCost,
  netCost,
  type SkuGroup,
  skuGroup,
  slotMsOf,
} from "./export-row.ts";
import type { UsageCell } from "./job-usage.ts";

/** How a line of the invoice reached its department. */
export type AllocationBasis =
  /** shared by the department's use in the logs (bytes billed on demand, slot-ms on a reservation) */
  | "jobs"
  /** storage and other project-bound SKUs: the project's department */
  | "project_owner"
  /** a reservation's idle slots, by the registry's `idle: admin_department` */
  | "idle_to_admin"
  /** nothing in the logs to share it by: the project's department (or unassigned), with the reason */
  | "unattributed";

export type RemainderReason =
  | "no_jobs_seen"
  | "project_not_in_registry"
  | "no_project"
  | "reservation_not_in_registry"
  | "reservation_idle_no_jobs_that_day"
  | "idle_to_admin_department"
  | "storage_of_project"
  | "other_sku_of_project";

/** Charges of one billing day, project and SKU: the unit that is shared out. */
export interface ChargeGroup {
  period: string;
  /** The billing day; for storage and other SKUs, charged per period, the period's first day seen. */
  day: string;
  billingAccountId: string;
  billingProject: string;
  serviceId: string;
  serviceDescription: string;
  skuId: string;
  skuDescription: string;
  skuGroup: SkuGroup;
  location: string;
  costType: string;
  startMs: number;
  endMs: number;
  net: NanoUnits;
  list: NanoUnits;
  /** cost before credits: the usage at the account's (negotiated) prices. */
  cost: NanoUnits;
  /** List cost converted back to USD with each row's currency_conversion_rate. */
  listUsd: bigint;
  credits: Map<string, NanoUnits>;
  pricingQuantity: NanoUnits;
  pricingUnit: string;
  /** Reservation rows: slot-ms of capacity billed (undefined when the usage unit is not slot time). */
  capacitySlotMs: bigint | undefined;
  /** The reservation the charge is for, when known (detailed export, or the only one of its project and location). */
  reservation: string;
}

export interface AllocationLine {
  group: ChargeGroup;
  department: string;
  basis: AllocationBasis;
  reason?: RemainderReason;
  /** For reservation charges: the used or the idle part of the capacity. */
  capacityStatus?: "Used" | "Unused";
  net: NanoUnits;
  list: NanoUnits;
  cost: NanoUnits;
  pricingQuantity: NanoUnits;
  /** After the period's largest-remainder rounding: whole minor units of the currency. */
  netMinor: bigint;
  listMinor: bigint;
  costMinor: bigint;
}

export interface ReconciliationRow {
  period: string;
  billingProject: string;
  skuGroup: SkuGroup;
  estimatedUsd: bigint;
  listUsd: bigint;
  list: NanoUnits;
  credits: NanoUnits;
  net: NanoUnits;
  allocatedToJobs: bigint;
  allocatedToProjectOwner: bigint;
  idleToAdmin: bigint;
  unattributed: bigint;
  /** net minus the four allocated parts (which are whole minor units): the period's rounding. */
  rounding: NanoUnits;
  /** Idle part of a reservation's net cost (whatever the policy gave it to). */
  idle: NanoUnits;
  usedSlotMs: bigint;
  capacitySlotMs: bigint;
  creditTypes: string[];
  /** Why anything is not allocated by jobs, with how many charge days each: "no_jobs_seen:3". */
  reasons: string[];
}

export interface PeriodTotal {
  period: string;
  net: NanoUnits;
  list: NanoUnits;
  netMinor: bigint;
  listMinor: bigint;
}

export interface DepartmentInvoiced {
  period: string;
  department: string;
  netMinor: bigint;
  listMinor: bigint;
}

export interface ReservationUse {
  period: string;
  reservation: string;
  adminProject: string;
  idlePolicy: "pro_rata" | "admin_department";
  capacitySlotMs: bigint;
  usedSlotMs: bigint;
  net: NanoUnits;
  idle: NanoUnits;
}

export interface Reconciliation {
  currency: string;
  billingAccounts: string[];
  lines: AllocationLine[];
  rows: ReconciliationRow[];
  totals: PeriodTotal[];
  departments: DepartmentInvoiced[];
  reservations: ReservationUse[];
  counters: { rows: number; bigQueryRows: number; otherServiceRows: number; outsidePeriod: number };
}

export class BillingMismatchError extends Error {}

const SEP = "\u0000";

export interface ReconcileOptions {
  rows: readonly BillingRow[];
  usage: readonly UsageCell[];
  registry: Registry;
  clock: DayClock;
  granularity: PeriodGranularity;
  from?: string;
  to?: string;
  /** The storage estimate from the snapshot per period and project, USD nano-dollars. */
  storageEstimates?: readonly { period: string; projectId: string; storage: bigint }[];
  coverage?: readonly CoverageRow[];
}

function bump(counts: Map<string, number>, key: string, by = 1): void {
  counts.set(key, (counts.get(key) ?? 0) + by);
}

/** The reservations of the registry that a charge in `project` at `location` can be for. */
function reservationsOf(registry: Registry, project: string, location: string) {
  const wanted = location === "" ? "" : normaliseLocation(location);
  return registry.reservations
    .map((reservation) => ({ ...reservation, canonical: canonicalReservation(reservation.name) }))
    .filter((reservation) => {
      const match = /^projects\/([^/]+)\/locations\/([^/]+)\//.exec(reservation.canonical);
      return match?.[1] === project && (wanted === "" || match?.[2] === wanted);
    });
}

function groupRows(options: ReconcileOptions, counters: Reconciliation["counters"]): ChargeGroup[] {
  const groups = new Map<string, ChargeGroup>();
  for (const row of options.rows) {
    counters.rows++;
    if (!isBigQueryService(row.serviceDescription)) {
      counters.otherServiceRows++;
      continue;
    }
    const day = options.clock.dayOf(row.usageStartMs);
    if ((options.from && day < options.from) || (options.to && day > options.to)) {
      counters.outsidePeriod++;
      continue;
    }
    counters.bigQueryRows++;
    const group = skuGroup(row.serviceDescription, row.skuDescription);
    // Storage and other project-bound SKUs go to the project's department whatever the day: one
    // charge per period, not per day, so that they are rounded once, not thirty times.
    const perPeriod = group === "storage" || group === "other";
    const key = [
      perPeriod ? periodOf(day, options.granularity) : day,
      row.billingAccountId,
      row.projectId,
      row.serviceId,
      row.skuId,
      row.skuDescription,
      row.location,
      row.costType,
      row.resourceName,
    ].join(SEP);
    let charge = groups.get(key);
    if (!charge) {
      charge = {
        period: periodOf(day, options.granularity),
        day,
        billingAccountId: row.billingAccountId,
        billingProject: row.projectId,
        serviceId: row.serviceId,
        serviceDescription: row.serviceDescription,
        skuId: row.skuId,
        skuDescription: row.skuDescription,
        skuGroup: group,
        location: row.location,
        costType: row.costType,
        startMs: row.usageStartMs,
        endMs: row.usageEndMs,
        net: 0n,
        list: 0n,
        cost: 0n,
        listUsd: 0n,
        credits: new Map(),
        pricingQuantity: 0n,
        pricingUnit: row.pricingUnit,
        capacitySlotMs: group === "reservation" ? 0n : undefined,
        reservation: row.resourceName,
      };
      groups.set(key, charge);
    }
    if (day < charge.day) charge.day = day;
    charge.startMs = Math.min(charge.startMs, row.usageStartMs);
    charge.endMs = Math.max(charge.endMs, row.usageEndMs);
    charge.net += netCost(row);
    charge.list += listCost(row);
    charge.cost += row.cost;
    const rate = parseDecimalNanos(row.currencyConversionRate);
    charge.listUsd += rate && rate > 0n ? mulDivRound(listCost(row), 1_000_000_000n, rate) : listCost(row);
    for (const credit of row.credits)
      charge.credits.set(credit.type, (charge.credits.get(credit.type) ?? 0n) + credit.amount);
    charge.pricingQuantity += row.pricingQuantity;
    if (charge.capacitySlotMs !== undefined) {
      const slotMs = slotMsOf(row);
      charge.capacitySlotMs = slotMs === undefined ? undefined : charge.capacitySlotMs + slotMs;
    }
  }
  return [...groups.values()];
}

type Draft = Omit<AllocationLine, "netMinor" | "listMinor" | "costMinor">;

/** The three amounts of a charge (or of a part of it) that are shared out together. */
interface Amounts {
  net: NanoUnits;
  list: NanoUnits;
  cost: NanoUnits;
  pricingQuantity: NanoUnits;
}

const amountsOf = (group: ChargeGroup): Amounts => ({
  net: group.net,
  list: group.list,
  cost: group.cost,
  pricingQuantity: group.pricingQuantity,
});

/** Splits each amount by the same weights. */
function splitAmounts(amounts: Amounts, weights: readonly bigint[]): Amounts[] {
  const nets = splitByWeight(amounts.net, weights);
  const lists = splitByWeight(amounts.list, weights);
  const costs = splitByWeight(amounts.cost, weights);
  const quantities = splitByWeight(amounts.pricingQuantity, weights);
  return weights.map((_, i) => ({
    net: nets[i] as bigint,
    list: lists[i] as bigint,
    cost: costs[i] as bigint,
    pricingQuantity: quantities[i] as bigint,
  }));
}

/** Shares amounts among departments by weights. */
function byWeights(
  group: ChargeGroup,
  amounts: Amounts,
  weights: Map<string, bigint>,
  line: Pick<Draft, "basis" | "reason" | "capacityStatus">,
): Draft[] {
  const departments = [...weights.keys()].sort();
  const parts = splitAmounts(
    amounts,
    departments.map((department) => weights.get(department) as bigint),
  );
  return departments.map((department, i) => ({ group, department, ...line, ...(parts[i] as Amounts) }));
}

function toOwner(
  group: ChargeGroup,
  registry: Registry,
  basis: AllocationBasis,
  reason: RemainderReason,
): Draft {
  const owner = projectDepartment(registry, group.billingProject);
  const unregistered = owner.kind === "unregistered";
  return {
    group,
    department: owner.department,
    basis: unregistered ? "unattributed" : basis,
    reason: group.billingProject === "" ? "no_project" : unregistered ? "project_not_in_registry" : reason,
    ...amountsOf(group),
  };
}

interface UsageIndex {
  onDemand: Map<string, Map<string, bigint>>;
  reserved: Map<string, Map<string, bigint>>;
}

function indexUsage(usage: readonly UsageCell[]): UsageIndex {
  const onDemand = new Map<string, Map<string, bigint>>();
  const reserved = new Map<string, Map<string, bigint>>();
  const add = (index: Map<string, Map<string, bigint>>, key: string, department: string, weight: bigint) => {
    let byDepartment = index.get(key);
    if (!byDepartment) {
      byDepartment = new Map();
      index.set(key, byDepartment);
    }
    byDepartment.set(department, (byDepartment.get(department) ?? 0n) + weight);
  };
  for (const cell of usage) {
    if (cell.reservation === "")
      add(onDemand, `${cell.day}${SEP}${cell.billingProject}`, cell.consumerDepartment, cell.billedBytes);
    else add(reserved, `${cell.day}${SEP}${cell.reservation}`, cell.consumerDepartment, cell.slotMs);
  }
  return { onDemand, reserved };
}

const positive = (weights: Map<string, bigint> | undefined): Map<string, bigint> | undefined => {
  if (!weights) return undefined;
  const kept = new Map([...weights].filter(([, weight]) => weight > 0n));
  return kept.size > 0 ? kept : undefined;
};

function allocateReservation(
  group: ChargeGroup,
  registry: Registry,
  index: UsageIndex,
  uses: Map<string, ReservationUse>,
): Draft[] {
  const candidates = reservationsOf(registry, group.billingProject, group.location);
  const named = candidates.filter((r) => group.reservation !== "" && group.reservation.includes(r.canonical));
  const reservations = named.length > 0 ? named : candidates;
  if (reservations.length === 0)
    return [toOwner(group, registry, "unattributed", "reservation_not_in_registry")];
  const weights = new Map<string, bigint>();
  for (const reservation of reservations) {
    for (const [department, slotMs] of index.reserved.get(`${group.day}${SEP}${reservation.canonical}`) ??
      []) {
      weights.set(department, (weights.get(department) ?? 0n) + slotMs);
    }
  }
  const used = [...weights.values()].reduce((sum, slotMs) => sum + slotMs, 0n);
  const capacity =
    group.capacitySlotMs !== undefined && group.capacitySlotMs > used ? group.capacitySlotMs : used;
  const policy = reservations[0]?.idle ?? "pro_rata";
  const name = reservations.map((r) => r.canonical).join(" + ");
  const use = uses.get(`${group.period}${SEP}${name}`) ?? {
    period: group.period,
    reservation: name,
    adminProject: group.billingProject,
    idlePolicy: policy,
    capacitySlotMs: 0n,
    usedSlotMs: 0n,
    net: 0n,
    idle: 0n,
  };
  uses.set(`${group.period}${SEP}${name}`, use);
  use.capacitySlotMs += capacity;
  use.usedSlotMs += used;
  use.net += group.net;
  const admin = projectDepartment(registry, group.billingProject).department;
  const shares = positive(weights);
  if (!shares) {
    use.idle += group.net;
    return [
      {
        group,
        department: admin,
        basis: policy === "admin_department" ? "idle_to_admin" : "unattributed",
        reason:
          policy === "admin_department" ? "idle_to_admin_department" : "reservation_idle_no_jobs_that_day",
        capacityStatus: "Unused",
        ...amountsOf(group),
      },
    ];
  }
  const [usedPart, idlePart] = splitAmounts(amountsOf(group), [used, capacity - used]) as [Amounts, Amounts];
  use.idle += idlePart.net;
  const lines = byWeights(group, usedPart, shares, { basis: "jobs", capacityStatus: "Used" });
  if (used === capacity) return lines;
  if (policy === "admin_department") {
    lines.push({
      group,
      department: admin,
      basis: "idle_to_admin",
      reason: "idle_to_admin_department",
      capacityStatus: "Unused",
      ...idlePart,
    });
    return lines;
  }
  return [...lines, ...byWeights(group, idlePart, shares, { basis: "jobs", capacityStatus: "Unused" })];
}

function allocateGroup(
  group: ChargeGroup,
  registry: Registry,
  index: UsageIndex,
  uses: Map<string, ReservationUse>,
): Draft[] {
  switch (group.skuGroup) {
    case "on_demand_analysis": {
      const shares = positive(index.onDemand.get(`${group.day}${SEP}${group.billingProject}`));
      if (!shares) return [toOwner(group, registry, "unattributed", "no_jobs_seen")];
      return byWeights(group, amountsOf(group), shares, { basis: "jobs" });
    }
    case "reservation":
      return allocateReservation(group, registry, index, uses);
    case "storage":
      return [toOwner(group, registry, "project_owner", "storage_of_project")];
    case "other":
      return [toOwner(group, registry, "project_owner", "other_sku_of_project")];
  }
}

export function reconcile(options: ReconcileOptions): Reconciliation {
  const counters = { rows: 0, bigQueryRows: 0, otherServiceRows: 0, outsidePeriod: 0 };
  const groups = groupRows(options, counters);
  const currencies = [...new Set(options.rows.map((row) => row.currency))];
  if (currencies.length > 1) {
    const second = options.rows.find((row) => row.currency !== options.rows[0]?.currency) as BillingRow;
    throw new BillingMismatchError(
      `${second.source.file}:${second.source.line}: currency: ${second.currency}, but earlier rows are in ${currencies[0]}: reconcile one billing currency at a time`,
    );
  }
  const currency = currencies[0] ?? "USD";
  const index = indexUsage(options.usage);
  const uses = new Map<string, ReservationUse>();
  const drafts = groups
    .sort((a, b) => compareGroups(a, b))
    .flatMap((group) => allocateGroup(group, options.registry, index, uses));

  // One largest-remainder rounding per period: the lines' minor units sum to the period's total.
  const unit = nanosPerMinorUnit(currency);
  const lines: AllocationLine[] = [];
  const totals: PeriodTotal[] = [];
  const byPeriod = new Map<string, Draft[]>();
  for (const draft of drafts) {
    const list = byPeriod.get(draft.group.period) ?? [];
    list.push(draft);
    byPeriod.set(draft.group.period, list);
  }
  for (const [period, periodDrafts] of [...byPeriod].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const net = periodDrafts.reduce((sum, d) => sum + d.net, 0n);
    const list = periodDrafts.reduce((sum, d) => sum + d.list, 0n);
    const netMinor = toMinorUnits(net, currency);
    const listMinor = toMinorUnits(list, currency);
    const round = (amount: (d: Draft) => bigint) => {
      const exact = periodDrafts.map(amount);
      return apportion(
        exact,
        unit,
        toMinorUnits(
          exact.reduce((sum, value) => sum + value, 0n),
          currency,
        ),
      );
    };
    const nets = round((d) => d.net);
    const lists = round((d) => d.list);
    const costs = round((d) => d.cost);
    periodDrafts.forEach((draft, i) => {
      lines.push({
        ...draft,
        netMinor: nets[i] as bigint,
        listMinor: lists[i] as bigint,
        costMinor: costs[i] as bigint,
      });
    });
    totals.push({ period, net, list, netMinor, listMinor });
  }

  return {
    currency,
    billingAccounts: [...new Set(groups.map((g) => g.billingAccountId))].sort(),
    lines,
    rows: reconciliationRows(lines, options, unit),
    totals,
    departments: departmentTotals(lines),
    reservations: [...uses.values()].sort(
      (a, b) => cmp(a.period, b.period) || cmp(a.reservation, b.reservation),
    ),
    counters,
  };
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareGroups(a: ChargeGroup, b: ChargeGroup): number {
  // A total order, the same as sql/invoice/invoice_allocation.sql's: ties in the rounding go to the earlier.
  return (
    cmp(a.period, b.period) ||
    cmp(a.day, b.day) ||
    cmp(a.billingAccountId, b.billingAccountId) ||
    cmp(a.billingProject, b.billingProject) ||
    cmp(a.serviceId, b.serviceId) ||
    cmp(a.skuId, b.skuId) ||
    cmp(a.skuDescription, b.skuDescription) ||
    cmp(a.location, b.location) ||
    cmp(a.costType, b.costType) ||
    cmp(a.reservation, b.reservation)
  );
}

function departmentTotals(lines: readonly AllocationLine[]): DepartmentInvoiced[] {
  const sums = new Map<string, DepartmentInvoiced>();
  for (const line of lines) {
    const key = `${line.group.period}${SEP}${line.department}`;
    const sum = sums.get(key) ?? {
      period: line.group.period,
      department: line.department,
      netMinor: 0n,
      listMinor: 0n,
    };
    sum.netMinor += line.netMinor;
    sum.listMinor += line.listMinor;
    sums.set(key, sum);
  }
  return [...sums.values()].sort((a, b) => cmp(a.period, b.period) || cmp(a.department, b.department));
}

/** The reservation admin project of a canonical reservation name. */
function adminProjectOf(reservation: string): string {
  return /^projects\/([^/]+)\//.exec(reservation)?.[1] ?? "";
}

function reconciliationRows(
  lines: readonly AllocationLine[],
  options: ReconcileOptions,
  unit: bigint,
): ReconciliationRow[] {
  const rows = new Map<
    string,
    ReconciliationRow & { reasonCounts: Map<string, number>; days: Set<string> }
  >();
  const rowOf = (period: string, billingProject: string, group: SkuGroup) => {
    const key = [period, billingProject, group].join(SEP);
    let row = rows.get(key);
    if (!row) {
      row = {
        period,
        billingProject,
        skuGroup: group,
        estimatedUsd: 0n,
        listUsd: 0n,
        list: 0n,
        credits: 0n,
        net: 0n,
        allocatedToJobs: 0n,
        allocatedToProjectOwner: 0n,
        idleToAdmin: 0n,
        unattributed: 0n,
        rounding: 0n,
        idle: 0n,
        usedSlotMs: 0n,
        capacitySlotMs: 0n,
        creditTypes: [],
        reasons: [],
        reasonCounts: new Map(),
        days: new Set(),
      };
      rows.set(key, row);
    }
    return row;
  };
  const seenGroups = new Set<ChargeGroup>();
  for (const line of lines) {
    const { group } = line;
    const row = rowOf(group.period, group.billingProject, group.skuGroup);
    if (!seenGroups.has(group)) {
      seenGroups.add(group);
      row.net += group.net;
      row.list += group.list;
      row.listUsd += group.listUsd;
      for (const [type, amount] of group.credits) {
        row.credits += amount;
        if (!row.creditTypes.includes(type)) row.creditTypes.push(type);
      }
      if (group.skuGroup === "reservation") row.capacitySlotMs += group.capacitySlotMs ?? 0n;
    }
    const minor = line.netMinor * unit;
    if (line.basis === "jobs") row.allocatedToJobs += minor;
    else if (line.basis === "project_owner") row.allocatedToProjectOwner += minor;
    else if (line.basis === "idle_to_admin") row.idleToAdmin += minor;
    else row.unattributed += minor;
    if (line.capacityStatus === "Unused") row.idle += line.net;
    if (line.reason) {
      const dayKey = `${line.reason}${SEP}${group.day}`;
      if (!row.days.has(dayKey)) {
        row.days.add(dayKey);
        bump(row.reasonCounts, line.reason);
      }
    }
  }
  // The estimate from the logs beside the invoice, on the row it should reconcile with.
  for (const cell of options.usage) {
    const period = periodOf(cell.day, options.granularity);
    if ((options.from && cell.day < options.from) || (options.to && cell.day > options.to)) continue;
    const row =
      cell.reservation === ""
        ? rowOf(period, cell.billingProject, "on_demand_analysis")
        : rowOf(period, adminProjectOf(cell.reservation), "reservation");
    row.estimatedUsd += cell.estimate;
    if (cell.reservation !== "") row.usedSlotMs += cell.slotMs;
  }
  for (const storage of options.storageEstimates ?? []) {
    rowOf(storage.period, storage.projectId, "storage").estimatedUsd += storage.storage;
  }
  for (const day of options.coverage ?? []) {
    if (day.jobsInLogs >= day.jobsCounted) continue;
    const row = rowOf(periodOf(day.day, options.granularity), day.projectId, "on_demand_analysis");
    bump(row.reasonCounts, "jobs_missing_from_logs", day.jobsCounted - day.jobsInLogs);
  }
  return [...rows.values()]
    .map(({ reasonCounts, days: _days, ...row }) => {
      row.rounding =
        row.net - row.allocatedToJobs - row.allocatedToProjectOwner - row.idleToAdmin - row.unattributed;
      if (row.rounding !== 0n) bump(reasonCounts, "rounding");
      if (row.net === 0n && row.list === 0n && row.estimatedUsd !== 0n) bump(reasonCounts, "not_in_invoice");
      if (
        row.billingProject !== "" &&
        projectDepartment(options.registry, row.billingProject).kind === "unregistered" &&
        !reasonCounts.has("project_not_in_registry")
      )
        bump(reasonCounts, "project_not_in_registry");
      for (const type of row.creditTypes) bump(reasonCounts, `credit_${type.toLowerCase()}`);
      row.creditTypes.sort();
      row.reasons = [...reasonCounts]
        .sort(([a], [b]) => cmp(a, b))
        .map(([reason, count]) => `${reason}:${count}`);
      return row;
    })
    .sort(
      (a, b) =>
        cmp(a.period, b.period) || cmp(a.billingProject, b.billingProject) || cmp(a.skuGroup, b.skuGroup),
    );
}
