// The invoice shared out (src/core/billing): the Cloud Billing export as bq writes it, the sample
// month reconciled in USD and in JPY with the departments summing to the export exactly, every
// remainder explained, a reservation's idle slots shared as the registry says, coverage against
// INFORMATION_SCHEMA.JOBS, and the FOCUS 1.2 export checked against the spec's column rules.
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { main } from "../src/cli/main.ts";
import { type ReportResult, runReport } from "../src/cli/report-command.ts";
import {
  formatMinorUnits,
  minorDigits,
  parseDecimalNanos,
  toMinorUnits,
} from "../src/core/billing/amount.ts";
import { apportion, splitByWeight } from "../src/core/billing/apportion.ts";
import { coverage } from "../src/core/billing/coverage.ts";
import type { BillingRow } from "../src/core/billing/export-row.ts";
import { skuGroup } from "../src/core/billing/export-row.ts";
import { FOCUS_COLUMNS, focusRows } from "../src/core/billing/focus.ts";
import { BillingJobUsage } from "../src/core/billing/job-usage.ts";
import { reconcile } from "../src/core/billing/reconcile.ts";
import { COVERAGE_COLUMNS, RECONCILIATION_COLUMNS } from "../src/core/billing/rows.ts";
import { DayClock } from "../src/core/period.ts";
import { ConfigError, parseRegistry } from "../src/core/registry.ts";
import { BillingExportError, parseBillingExport } from "../src/io/billing-export.ts";
import { csvLine, parseCsv } from "../src/io/csv.ts";
import { parseJobsExport } from "../src/io/jobs-export.ts";
import { focusViolations } from "./support/focus-rules.ts";
import { ddlTables } from "./support/zetasql.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const SAMPLE = join(ROOT, "sample/acme");

async function table(dir: string, name: string): Promise<Record<string, string>[]> {
  const [header, ...rows] = parseCsv(await readFile(join(dir, name), "utf8"));
  return rows.map((row) =>
    Object.fromEntries((header?.cells ?? []).map((column, i) => [column, row.cells[i] ?? ""])),
  );
}

/** Decimal text to integer units of 10^-scale, by string surgery only (independent of the code under test). */
function units(text: string, scale: number): bigint {
  const negative = text.startsWith("-");
  const [whole, fraction = ""] = text.replace("-", "").split(".");
  const value = BigInt(`${whole}${fraction.padEnd(scale, "0")}`);
  return negative ? -value : value;
}

async function sampleRun(
  billing: string,
  registryText?: string,
): Promise<{ dir: string; result: ReportResult }> {
  const dir = await mkdtemp(join(tmpdir(), "bqcb-billing-"));
  let registryFile = join(SAMPLE, "registry.yaml");
  if (registryText) {
    registryFile = join(dir, "registry.yaml");
    await (await import("node:fs/promises")).writeFile(registryFile, registryText);
  }
  const result = await runReport({
    logs: [join(SAMPLE, "logs/*.*")],
    registryFile,
    storageFile: join(SAMPLE, "table_storage.csv"),
    granularity: "month",
    outDir: join(dir, "out"),
    workers: 0,
    progress: false,
    billingFiles: [join(SAMPLE, billing)],
    jobsFiles: [join(SAMPLE, "jobs_by_project.csv")],
  });
  return { dir: join(dir, "out"), result };
}

describe("amounts and largest remainder", () => {
  it("reads FLOAT64 text exactly to 1e-9, E notation included, rounding half away from zero", () => {
    expect(parseDecimalNanos("12.5")).toBe(12_500_000_000n);
    expect(parseDecimalNanos("-0.004")).toBe(-4_000_000n);
    expect(parseDecimalNanos("1.2345E-5")).toBe(12_345n);
    expect(parseDecimalNanos("3e2")).toBe(300_000_000_000n);
    expect(parseDecimalNanos("0.0000000015")).toBe(2n);
    expect(parseDecimalNanos("-0.0000000015")).toBe(-2n);
    expect(parseDecimalNanos("1,5")).toBeUndefined();
    expect(parseDecimalNanos("")).toBeUndefined();
  });

  it("knows the minor units of ISO 4217: yen have none, dinars three", () => {
    expect([minorDigits("USD"), minorDigits("JPY"), minorDigits("KWD"), minorDigits("EUR")]).toEqual([
      2, 0, 3, 2,
    ]);
    expect(toMinorUnits(1_005_000_000n, "USD")).toBe(101n);
    expect(toMinorUnits(1_500_000_000n, "JPY")).toBe(2n);
    expect(formatMinorUnits(1234n, "USD")).toBe("12.34");
    expect(formatMinorUnits(1234n, "JPY")).toBe("1234");
    expect(formatMinorUnits(-5n, "USD")).toBe("-0.05");
  });

  it("splits a total by weights with no unit created or lost, the largest remainders taking the leftovers", () => {
    expect(splitByWeight(100n, [1n, 1n, 1n])).toEqual([34n, 33n, 33n]);
    expect(splitByWeight(-100n, [1n, 1n, 1n])).toEqual([-33n, -33n, -34n]);
    expect(splitByWeight(10n, [0n, 3n, 7n])).toEqual([0n, 3n, 7n]);
    // quotas 1.56, 3.89, 0.78, 0.78: floors 1, 3, 0, 0 and the three largest remainders take one each
    expect(splitByWeight(7n, [2n, 5n, 1n, 1n])).toEqual([1n, 4n, 1n, 1n]);
    expect(() => splitByWeight(1n, [0n, 0n])).toThrow(RangeError);
    // quotas 0.4, 0.4, 0.2 cents rounded to a whole cent: the first largest remainder takes it
    expect(apportion([4n, 4n, 2n], 10n, 1n)).toEqual([1n, 0n, 0n]);
    expect(() => apportion([4n, 4n, 2n], 10n, 5n)).toThrow(/rounded sum/);
  });
});

describe("reading the Cloud Billing export as bq writes it", () => {
  it("reads bq query JSON (values as text), bq extract NDJSON (numbers) and flattened CSV alike", () => {
    const record = {
      billing_account_id: "01A2B3-C4D5E6-F7A8B9",
      service: { id: "24E6-581D-38E5", description: "BigQuery" },
      sku: { id: "F17B-412E-CB64", description: "Analysis" },
      usage_start_time: "2026-10-05 17:00:00 UTC",
      usage_end_time: "2026-10-05 18:00:00 UTC",
      project: { id: "acme-fin-bi", name: "acme-fin-bi" },
      location: { location: "US", region: null },
      cost: "1.5625",
      cost_at_list: "1.5625",
      currency: "USD",
      currency_conversion_rate: "1.0",
      usage: {
        amount: "274877906944",
        unit: "bytes",
        amount_in_pricing_units: "0.25",
        pricing_unit: "tebibyte",
      },
      credits: [{ name: "Free tier", amount: "-1.5625", full_name: "Free tier", id: "", type: "FREE_TIER" }],
      invoice: { month: "202610" },
      cost_type: "regular",
    };
    const fromJson = parseBillingExport(`[\n${JSON.stringify(record)}\n]\n`, "export.json")[0] as BillingRow;
    const ndjson = JSON.stringify({
      ...record,
      cost: 1.5625,
      credits: [{ ...record.credits[0], amount: -1.5625 }],
    });
    const fromNdjson = parseBillingExport(`${ndjson}\n`, "export.ndjson")[0] as BillingRow;
    const csv =
      "billing_account_id,service_description,sku_id,sku_description,usage_start_time,usage_end_time,project_id,location_location,cost,currency,usage_amount_in_pricing_units,usage_pricing_unit,credits,invoice_month\n" +
      `01A2B3-C4D5E6-F7A8B9,BigQuery,F17B-412E-CB64,Analysis,2026-10-05T17:00:00Z,2026-10-05T18:00:00Z,acme-fin-bi,US,1.5625,USD,0.25,tebibyte,"[{""name"":""Free tier"",""amount"":-1.5625,""type"":""FREE_TIER""}]",202610\n`;
    const fromCsv = parseBillingExport(csv, "export.csv")[0] as BillingRow;
    for (const row of [fromJson, fromNdjson, fromCsv]) {
      expect(row.projectId).toBe("acme-fin-bi");
      expect(row.cost).toBe(1_562_500_000n);
      expect(row.credits).toEqual([{ type: "FREE_TIER", name: "Free tier", amount: -1_562_500_000n }]);
      expect(row.usageStartMs).toBe(Date.parse("2026-10-05T17:00:00Z"));
      expect(row.pricingQuantity).toBe(250_000_000n);
      expect(row.location).toBe("US");
    }
  });

  it("names the file, line and field of a bad value", () => {
    const good = {
      billing_account_id: "A",
      service: { description: "BigQuery" },
      sku: { description: "Analysis" },
      usage_start_time: "2026-10-05 17:00:00 UTC",
      usage_end_time: "2026-10-05 18:00:00 UTC",
      cost: "1",
      currency: "USD",
    };
    const lines = (bad: Record<string, unknown>) =>
      `${JSON.stringify(good)}\n${JSON.stringify({ ...good, ...bad })}\n`;
    expect(() => parseBillingExport(lines({ cost: "12,5" }), "b.ndjson")).toThrow(
      new BillingExportError('b.ndjson:2: cost: expected a decimal amount, found "12,5"'),
    );
    expect(() => parseBillingExport(lines({ currency: "usd" }), "b.ndjson")).toThrow(
      /b\.ndjson:2: currency: expected an ISO 4217 code/,
    );
    expect(() => parseBillingExport(lines({ usage_start_time: "yesterday" }), "b.ndjson")).toThrow(
      /b\.ndjson:2: usage_start_time: expected a timestamp/,
    );
    expect(() => parseBillingExport(lines({ credits: [{ amount: "x" }] }), "b.ndjson")).toThrow(
      /b\.ndjson:2: credits\[0\]\.amount/,
    );
    expect(() => parseBillingExport(lines({ sku: {} }), "b.ndjson")).toThrow(
      /b\.ndjson:2: sku\.description: expected a value/,
    );
  });

  it("groups SKUs by what they pay for, from Google's words", () => {
    expect(skuGroup("BigQuery", "Analysis")).toBe("on_demand_analysis");
    expect(skuGroup("BigQuery", "Analysis (EU)")).toBe("on_demand_analysis");
    expect(skuGroup("BigQuery Reservation API", "Enterprise Edition (US)")).toBe("reservation");
    expect(skuGroup("BigQuery Reservation API", "Standard Edition")).toBe("reservation");
    expect(skuGroup("BigQuery Reservation API", "Enterprise Plus Edition - 1 Year Commitment")).toBe(
      "reservation",
    );
    expect(skuGroup("BigQuery", "Long Term Logical Storage")).toBe("storage");
    expect(skuGroup("BigQuery", "Active Physical Storage")).toBe("storage");
    expect(skuGroup("BigQuery Storage API", "Storage API - Read")).toBe("other");
    expect(skuGroup("BigQuery", "Streaming Insert")).toBe("other");
    expect(skuGroup("BigQuery BI Engine", "BI Engine Analysis")).toBe("other");
  });
});

/** One synthetic reservation day: 10 slot-hours billed for 0.60 USD; A used 3 slot-hours, B 1. */
function reservationDay(idle: "pro_rata" | "admin_department") {
  const registry = parseRegistry(
    `organization: { domains: [acme.example] }
departments:
  - { id: a, projects: [proj-a-bi] }
  - { id: b, projects: [proj-b-bi] }
  - { id: platform, projects: [acme-platform] }
reservations:
  - { name: projects/acme-platform/locations/US/reservations/prod, edition: enterprise, idle: ${idle} }
`,
    "registry.yaml",
  );
  const usage = new BillingJobUsage();
  const job = (id: string, department: string, slotHours: bigint) =>
    usage.add({
      jobId: `proj-${department}-bi:US.${id}`,
      billingProject: `proj-${department}-bi`,
      usageDate: "2026-10-05",
      consumerDepartment: department,
      pricingModel: "reservation",
      reservation: "projects/acme-platform/locations/US/reservations/prod",
      slotMs: slotHours * 3_600_000n,
      billedBytes: 0n,
      computeCost: slotHours * 60_000_000n,
    });
  job("j1", "a", 2n);
  job("j2", "a", 1n);
  job("j3", "b", 1n);
  const row: BillingRow = {
    billingAccountId: "01A2B3-C4D5E6-F7A8B9",
    serviceId: "E6A6-0AB3-9A0C",
    serviceDescription: "BigQuery Reservation API",
    skuId: "5A8D-6C2E-0F71",
    skuDescription: "Enterprise Edition (US)",
    usageStartMs: Date.parse("2026-10-05T07:00:00Z"),
    usageEndMs: Date.parse("2026-10-06T07:00:00Z"),
    projectId: "acme-platform",
    projectName: "acme-platform",
    location: "US",
    cost: 600_000_000n,
    costAtList: 600_000_000n,
    currency: "USD",
    currencyConversionRate: "1",
    pricingQuantity: 10_000_000_000n,
    pricingUnit: "hour",
    usageAmount: 36_000n * 1_000_000_000n,
    usageUnit: "slot-seconds",
    credits: [],
    invoiceMonth: "202610",
    costType: "regular",
    resourceName: "",
    source: { file: "t", line: 1 },
  };
  return reconcile({
    rows: [row],
    usage: usage.all(),
    registry,
    clock: new DayClock(),
    granularity: "month",
  });
}

describe("a reservation's cost, idle slots included, shared by slot-ms that day", () => {
  const cents = (r: ReturnType<typeof reservationDay>) =>
    Object.fromEntries(r.departments.map((d) => [d.department, d.netMinor]));

  it("pro rata: the users pay the idle slots in proportion to their use (A 3/4, B 1/4)", () => {
    const result = reservationDay("pro_rata");
    expect(cents(result)).toEqual({ a: 45n, b: 15n });
    expect(result.reservations[0]).toMatchObject({
      capacitySlotMs: 36_000_000n,
      usedSlotMs: 14_400_000n,
      idle: 360_000_000n,
    });
    const row = result.rows[0];
    expect(row).toMatchObject({
      allocatedToJobs: 600_000_000n,
      idleToAdmin: 0n,
      unattributed: 0n,
      rounding: 0n,
    });
  });

  it("admin_department: users pay their used slots, the admin project's department the idle ones", () => {
    const result = reservationDay("admin_department");
    expect(cents(result)).toEqual({ a: 18n, b: 6n, platform: 36n });
    const row = result.rows[0];
    expect(row).toMatchObject({ allocatedToJobs: 240_000_000n, idleToAdmin: 360_000_000n, unattributed: 0n });
    expect(row?.reasons).toEqual(["idle_to_admin_department:1"]);
  });

  it("the registry refuses an unknown idle policy, naming the line", () => {
    expect(() =>
      parseRegistry(
        "organization: { domains: [acme.example] }\ndepartments:\n  - { id: a }\nreservations:\n  - { name: p:US.r, edition: enterprise, idle: shared }\n",
        "registry.yaml",
      ),
    ).toThrow(
      new ConfigError(
        "registry.yaml",
        5,
        "reservations[0].idle",
        'expected one of pro_rata, admin_department, found "shared"',
      ),
    );
  });
});

describe("a job split across reservations by an older entry's reservationUsage", () => {
  it("weighs neither as on-demand use of its billing project nor in a reservation (as sql/invoice)", () => {
    // priced `reservation` with no single reservation named (src/core/pricebook.ts reservationSplitCost)
    const usage = new BillingJobUsage();
    usage.add({
      jobId: "proj-a-bi:US.split",
      billingProject: "proj-a-bi",
      usageDate: "2026-10-05",
      consumerDepartment: "a",
      pricingModel: "reservation",
      reservation: "",
      slotMs: 48_211n,
      billedBytes: 549_755_813_888n,
      computeCost: 683_000n,
    });
    expect(usage.all()).toEqual([]);
    expect(usage.loggedJobs.get("proj-a-bi:split")).toBe(549_755_813_888n);
  });
});

describe("the sample month reconciled with its invoice", () => {
  let usd: { dir: string; result: ReportResult };
  let jpy: { dir: string; result: ReportResult };

  beforeAll(async () => {
    usd = await sampleRun("billing_export.json");
    jpy = await sampleRun("billing_export_jpy.ndjson");
  }, 120_000);

  /** The export's BigQuery net total, summed from the raw file by string arithmetic, rounded to the minor unit. */
  async function exportTotal(file: string, currency: string): Promise<bigint> {
    const text = await readFile(join(SAMPLE, file), "utf8");
    const records = file.endsWith(".json")
      ? JSON.parse(text)
      : text
          .trim()
          .split("\n")
          .map((line) => JSON.parse(line));
    let micro = 0n;
    for (const record of records) {
      if (!String(record.service.description).startsWith("BigQuery")) continue;
      micro += units(String(record.cost), 6);
      for (const credit of record.credits) micro += units(String(credit.amount), 6);
    }
    const perMinor = 10n ** BigInt(6 - minorDigits(currency));
    return (micro * 2n + perMinor) / (perMinor * 2n);
  }

  for (const [label, file, currency] of [
    ["USD", "billing_export.json", "USD"],
    ["JPY", "billing_export_jpy.ndjson", "JPY"],
  ] as const) {
    it(`${label}: the departments' invoiced net in department_costs.csv sums exactly to the export's BigQuery total`, async () => {
      const run = label === "USD" ? usd : jpy;
      const departments = await table(run.dir, "department_costs.csv");
      expect(new Set(departments.map((d) => d.invoiced_currency))).toEqual(new Set([currency]));
      const sum = departments.reduce(
        (total, d) => total + units(d.invoiced_net as string, minorDigits(currency)),
        0n,
      );
      expect(sum).toBe(await exportTotal(file, currency));
      // the FOCUS rows carry the same total
      const focus = await table(run.dir, "focus.csv");
      expect(
        focus.reduce((total, f) => total + units(f.BilledCost as string, minorDigits(currency)), 0n),
      ).toBe(sum);
      // the department without a project of its own in the logs (unregistered sandbox, legacy project) is listed
      expect(departments.map((d) => d.department)).toContain("unassigned");
    });
  }

  it("credits, negative amounts, are written as numbers, not as neutralised text", async () => {
    expect(csvLine(["-1.158583", "-2+3"])).toBe("-1.158583,'-2+3\n");
    const rows = await table(usd.dir, "reconciliation.csv");
    expect(rows.some((row) => /^-\d+\.\d{6}$/.test(row.credits as string))).toBe(true);
  });

  it("yen amounts are whole yen; dollars have cents", async () => {
    const yen = await table(jpy.dir, "department_costs.csv");
    expect(yen.every((d) => /^-?\d+$/.test(d.invoiced_net as string))).toBe(true);
    const dollars = await table(usd.dir, "department_costs.csv");
    expect(dollars.every((d) => /^-?\d+\.\d\d$/.test(d.invoiced_net as string))).toBe(true);
  });

  it("every remainder is explained: net = to jobs + to project owner + idle to admin + unattributed + rounding, each with its reason", async () => {
    const rows = await table(usd.dir, "reconciliation.csv");
    expect(rows.length).toBeGreaterThan(5);
    for (const row of rows) {
      const at = (column: string) => units(row[column] as string, 6);
      expect(
        at("allocated_to_jobs") +
          at("allocated_to_project_owner") +
          at("idle_to_admin") +
          at("unattributed") +
          at("rounding"),
        `${row.billing_project} ${row.sku_group}`,
      ).toBe(at("net_cost"));
      const reasons = (row.reasons as string).split(";").map((r) => r.split(":")[0]);
      if (at("unattributed") !== 0n)
        expect(
          reasons.some((r) =>
            [
              "no_jobs_seen",
              "project_not_in_registry",
              "no_project",
              "reservation_not_in_registry",
              "reservation_idle_no_jobs_that_day",
            ].includes(r as string),
          ),
        ).toBe(true);
      if (at("allocated_to_project_owner") !== 0n)
        expect(reasons.some((r) => r === "storage_of_project" || r === "other_sku_of_project")).toBe(true);
      if (at("idle_to_admin") !== 0n) expect(reasons).toContain("idle_to_admin_department");
      if (at("rounding") !== 0n) expect(reasons).toContain("rounding");
      if (at("credits") !== 0n) expect(reasons.some((r) => r?.startsWith("credit_"))).toBe(true);
      // rounding is what the one largest-remainder pass moved: under a cent per charge line
      expect(at("rounding") < 0n ? -at("rounding") : at("rounding")).toBeLessThan(10_000n * 100n);
    }
    const by = (project: string, group: string) =>
      rows.find((r) => r.billing_project === project && r.sku_group === group);
    // the project nobody registered, whose jobs the logs never saw: unattributed, to unassigned
    expect(by("acme-legacy-bi", "on_demand_analysis")?.reasons).toMatch(/project_not_in_registry:4/);
    expect(units(by("acme-legacy-bi", "on_demand_analysis")?.unattributed as string, 6)).toBeGreaterThan(0n);
    // the hour finance's sink was down: the jobs BigQuery counted and the logs lack
    expect(by("acme-fin-bi", "on_demand_analysis")?.reasons).toMatch(/jobs_missing_from_logs:6/);
    // the free tier and the promotion, as credits beside the list price
    expect(by("acme-mkt-bi", "on_demand_analysis")?.credit_types).toBe("FREE_TIER;PROMOTION");
    // the reservation: billed capacity above the slots the jobs used, idle days with no job at all
    const reservation = by("acme-platform", "reservation");
    expect(BigInt(reservation?.capacity_slot_ms as string)).toBeGreaterThan(
      BigInt(reservation?.used_slot_ms as string),
    );
    expect(units(reservation?.idle_cost as string, 6)).toBeGreaterThan(0n);
    expect(reservation?.reasons).toMatch(/reservation_idle_no_jobs_that_day:\d+/);
  });

  it("shares the reservation's idle slots pro rata to its users, or to the admin project's department, as the registry says", async () => {
    // In the sample only platform's ops account runs on platform's reservation; move ops to sales so
    // that the user and the admin project's department differ.
    const sample = await readFile(join(SAMPLE, "registry.yaml"), "utf8");
    const moved = sample
      .replace("principals: [ops@acme.example]", "principals: []")
      .replace(
        "principals: [erin@acme.example, frank@acme.example]",
        "principals: [erin@acme.example, frank@acme.example, ops@acme.example]",
      );
    expect(moved).not.toBe(sample);
    const proRata = (await sampleRun("billing_export.json", moved)).result.invoice?.reconciliation;
    const toAdmin = (
      await sampleRun(
        "billing_export.json",
        moved.replace("edition: enterprise }", "edition: enterprise, idle: admin_department }"),
      )
    ).result.invoice?.reconciliation;
    const reservationLines = (r: typeof proRata, department: string, status: string) =>
      (r?.lines ?? [])
        .filter(
          (l) =>
            l.group.skuGroup === "reservation" && l.department === department && l.capacityStatus === status,
        )
        .reduce((sum, l) => sum + l.net, 0n);
    const idle = toAdmin?.reservations[0]?.idle as bigint;
    expect(idle).toBeGreaterThan(0n);
    expect(toAdmin?.reservations[0]?.idle).toBe(proRata?.reservations[0]?.idle);
    // pro rata: the user (sales) pays the idle slots of the days it ran; the admin only idle days with no job
    const idleNoJobs = (proRata?.lines ?? [])
      .filter((l) => l.reason === "reservation_idle_no_jobs_that_day")
      .reduce((sum, l) => sum + l.net, 0n);
    expect(reservationLines(proRata, "sales", "Unused")).toBe(idle - idleNoJobs);
    expect(reservationLines(proRata, "platform", "Unused")).toBe(idleNoJobs);
    // admin_department: every idle slot to platform, sales pays only what it used
    expect(reservationLines(toAdmin, "sales", "Unused")).toBe(0n);
    expect(reservationLines(toAdmin, "platform", "Unused")).toBe(idle);
    expect(reservationLines(toAdmin, "sales", "Used")).toBe(reservationLines(proRata, "sales", "Used"));
    expect(toAdmin?.rows.find((r) => r.skuGroup === "reservation")?.idleToAdmin).toBeGreaterThan(0n);
    expect(proRata?.rows.find((r) => r.skuGroup === "reservation")?.idleToAdmin).toBe(0n);
    // the same invoice either way
    expect(toAdmin?.totals).toEqual(proRata?.totals);
  }, 60_000);

  it("measures coverage per project and day against JOBS, and flags the day finance's jobs went unlogged", async () => {
    const rows = await table(usd.dir, "coverage.csv");
    const flagged = rows.filter((r) => r.below_threshold === "true");
    expect(flagged.map((r) => `${r.day} ${r.project_id}`)).toEqual(["2026-10-14 acme-fin-bi"]);
    const day = flagged[0] as Record<string, string>;
    expect(Number(day.jobs_counted) - Number(day.jobs_in_logs)).toBe(6);
    expect(
      rows.filter((r) => r.below_threshold === "false").every((r) => r.jobs_counted === r.jobs_in_logs),
    ).toBe(true);
  });

  it("writes the reconciliation section in report.md", async () => {
    const markdown = await readFile(join(usd.dir, "report.md"), "utf8");
    expect(markdown).toContain("## Reconciliation with the invoice");
    expect(markdown).toMatch(/\| 2026-10 \| acme-platform \| reservation \|/);
    expect(markdown).toContain("Reservations: capacity billed, slots used, idle");
  });

  it("FOCUS 1.2: every column rule of the spec holds on the sample's rows (USD and JPY)", async () => {
    for (const [run, tolerance] of [
      [usd, "0.0101"],
      [jpy, "1.0001"],
    ] as const) {
      const text = await readFile(join(run.dir, "focus.csv"), "utf8");
      const [header, ...body] = parseCsv(text);
      const columns = header?.cells ?? [];
      expect(columns).toEqual([...FOCUS_COLUMNS]);
      const rows = body.map((row) =>
        Object.fromEntries(columns.map((c, i) => [c, row.cells[i] === "" ? null : (row.cells[i] as string)])),
      );
      expect(focusViolations(columns, rows, tolerance)).toEqual([]);
      const statuses = new Set(rows.map((r) => r.CapacityReservationStatus));
      expect(statuses).toEqual(new Set([null, "Used", "Unused"]));
      expect(new Set(rows.map((r) => r.x_ChargebackDepartment))).toContain("unassigned");
    }
  });

  it("the FOCUS check fails on rows that break the spec", () => {
    const result = reservationDay("pro_rata");
    const rows = focusRows(result.lines, "USD", "America/Los_Angeles");
    expect(focusViolations([...FOCUS_COLUMNS], rows, "0.0101")).toEqual([]);
    const broken = rows.map((row, i) =>
      i === 0
        ? {
            ...row,
            ChargeCategory: "Refund",
            BilledCost: "1,5",
            ChargePeriodStart: "2026-10-05 07:00:00",
            PricingUnit: null,
          }
        : row,
    );
    const problems = focusViolations(
      [...FOCUS_COLUMNS.filter((c) => c !== "SkuId"), "Department"],
      broken,
      "0.0101",
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        "dataset: SkuId MUST be present",
        "dataset: Department is not a FOCUS column and lacks the x_ prefix",
        'row 1: ChargeCategory: not an allowed value: "Refund"',
        'row 1: BilledCost: not in Numeric Format: "1,5"',
        'row 1: ChargePeriodStart: not in Date/Time Format: "2026-10-05 07:00:00"',
        "row 1: PricingUnit: MUST be null exactly when PricingQuantity is",
      ]),
    );
    const wrongPrice = rows.map((row) => ({ ...row, ListUnitPrice: "0.07" }));
    expect(focusViolations([...FOCUS_COLUMNS], wrongPrice, "0.0101").join("\n")).toMatch(
      /ListUnitPrice: 0\.07 x PricingQuantity/,
    );
  });

  it("one table shape each: reconciliation and coverage columns are the DDL's", () => {
    const ddl = Object.fromEntries(
      ddlTables(join(ROOT, "sql/ddl")).map((t) => [t.name, t.columns.map((c) => c.name)]),
    );
    expect(ddl.reconciliation).toEqual([...RECONCILIATION_COLUMNS]);
    expect(ddl.coverage).toEqual([...COVERAGE_COLUMNS]);
  });
});

describe("coverage and the command line", () => {
  it("counts a job listed twice once, and compares bytes as well as jobs", () => {
    const jobs = parseJobsExport(
      "project_id,job_id,end_time,total_bytes_billed\np-one-bi,j1,2026-10-05 18:00:00 UTC,100\np-one-bi,j1,2026-10-05 18:00:00 UTC,100\np-one-bi,j2,2026-10-05 19:00:00 UTC,300\n",
      "jobs.csv",
    );
    const rows = coverage({
      counted: jobs,
      logged: new Map([["p-one-bi:j1", 100n]]),
      clock: new DayClock("UTC"),
      thresholdBasisPoints: 5_000,
    });
    expect(rows).toEqual([
      expect.objectContaining({
        day: "2026-10-05",
        jobsCounted: 2,
        jobsInLogs: 1,
        jobsCoverage: "0.5000",
        bytesCoverage: "0.2500",
        belowThreshold: true,
      }),
    ]);
    expect(() =>
      parseJobsExport(
        "project_id,job_id,end_time,total_bytes_billed\np,j,2026-10-05 18:00:00 UTC,1.5\n",
        "jobs.csv",
      ),
    ).toThrow('jobs.csv:2: total_bytes_billed: expected a whole number of bytes, found "1.5"');
  });

  it("the demo reconciles the sample month with its invoice and JOBS", async () => {
    const dir = await mkdtemp(join(tmpdir(), "bqcb-billing-demo-"));
    const log = console.log;
    const printed: string[] = [];
    console.log = (message: string) => printed.push(message);
    try {
      expect(await main(["demo", "--out", dir, "--no-progress"])).toBe(0);
    } finally {
      console.log = log;
    }
    expect(printed.join("\n")).toMatch(/invoice: 2026-10 \d+\.\d\d USD net/);
    for (const name of ["reconciliation.csv", "focus.csv", "coverage.csv"])
      expect((await table(dir, name)).length, name).toBeGreaterThan(0);
  }, 60_000);

  it("exits 2 naming the file and line for a bad billing export, a mixed currency, or --jobs-export alone", async () => {
    const dir = await mkdtemp(join(tmpdir(), "bqcb-billing-cli-"));
    const { writeFile } = await import("node:fs/promises");
    const row = (currency: string, cost: string) =>
      JSON.stringify({
        billing_account_id: "A",
        service: { description: "BigQuery" },
        sku: { description: "Analysis" },
        usage_start_time: "2026-10-05 17:00:00 UTC",
        usage_end_time: "2026-10-05 18:00:00 UTC",
        cost,
        currency,
      });
    await writeFile(join(dir, "bad.ndjson"), `${row("USD", "1")}\n${row("USD", "one")}\n`);
    await writeFile(join(dir, "mixed.ndjson"), `${row("USD", "1")}\n${row("JPY", "150")}\n`);
    const errors: string[] = [];
    const original = console.error;
    console.error = (message: string) => errors.push(message);
    try {
      const base = [
        "report",
        "--logs",
        join(SAMPLE, "logs/2026-10-export.json"),
        "--registry",
        join(SAMPLE, "registry.yaml"),
        "--out",
        join(dir, "out"),
        "--no-progress",
      ];
      expect(await main([...base, "--billing", join(dir, "bad.ndjson")])).toBe(2);
      expect(await main([...base, "--billing", join(dir, "mixed.ndjson")])).toBe(2);
      expect(await main([...base, "--jobs-export", join(SAMPLE, "jobs_by_project.csv")])).toBe(2);
      expect(await main([...base, "--billing", join(dir, "bad.ndjson"), "--coverage-threshold", "95"])).toBe(
        2,
      );
    } finally {
      console.error = original;
    }
    expect(errors[0]).toContain(`${join(dir, "bad.ndjson")}:2: cost: expected a decimal amount, found "one"`);
    expect(errors[1]).toContain(`${join(dir, "mixed.ndjson")}:2: currency: JPY, but earlier rows are in USD`);
    expect(errors[2]).toContain("--jobs-export needs --billing");
    expect(errors[3]).toContain("--coverage-threshold 95: expected a ratio from 0 to 1");
  }, 60_000);
});
