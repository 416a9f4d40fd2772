// The bq-chargeback command line. Exit codes: 0 success, 2 bad usage, configuration or path (with
// a message saying what and where), 3 reports written from damaged input (a truncated .gz: the
// figures are incomplete), 4 IAM findings at or above --fail-on, 5 reports written but the input
// was mostly rejected or held no job, 1 anything else. Every error is one line; --debug adds the stack.
import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { relative } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { thresholdBasisPoints } from "../core/billing/coverage.ts";
import { BillingMismatchError } from "../core/billing/reconcile.ts";
import { isValidTimeZone } from "../core/period.ts";
import { ConfigError } from "../core/registry.ts";
import { checkBounds, TimeRangeError } from "../core/time-range.ts";
import type { PeriodGranularity } from "../core/types.ts";
import { BillingExportError } from "../io/billing-export.ts";
import { parseIamInput } from "../io/iam-exports.ts";
import { JobsExportError } from "../io/jobs-export.ts";
import { InputError, refusalLine } from "../io/log-files.ts";
import { OutputError } from "../io/report-files.ts";
import { SnapshotError } from "../io/storage-snapshot.ts";
import { iamSummaryText } from "../report/iam-section.ts";
import { invoiceSummaryText } from "../report/invoice-section.ts";
import { damageLines, summaryText } from "../report/summary.ts";
import { FINDINGS_EXIT_CODE, failsOn, parseFailOn } from "./iam-command.ts";
import { runReport } from "./report-command.ts";
import { REPORT_RUN_OPTIONS } from "./report-options.ts";
import { UsageError } from "./usage-error.ts";

/** The bundled sample, named relative to where the command runs so reports show short paths. */
const sampleDir = () =>
  `${relative(process.cwd(), fileURLToPath(new URL("../../sample/acme/", import.meta.url))) || "."}/`;

const HELP: Record<string, string> = {
  main: `bq-chargeback: attribute BigQuery cost to departments from audit logs, and expose free rides.

Usage: bq-chargeback <command> [options]

Commands:
  report    read exported audit logs and write chargeback reports (CSV, JSON, Markdown, HTML)
  demo      run 'report' on the bundled sample organisation (sample/acme) into out/acme
  sample    generate a sample organisation's logs, registry and storage snapshot
  backfill  read past entries from the Cloud Logging API into a report folder or BigQuery
  iam       audit who may bill which project from IAM exports, joined with the logs
  registry  push: load the registry and price book into BigQuery for the sink mode
  help      show help for a command: bq-chargeback help report

Options:
  -h, --help     show this help
  -v, --version  print the version`,
  report: `Usage: bq-chargeback report --logs FILE... --registry FILE [options]

Reads BigQuery audit-log entries (v2 BigQueryAuditMetadata and v1 AuditData), counts each job
once, attributes it to a payer and a consumer department, prices it, detects free rides, and
writes job_costs.csv, department_costs.csv, chargeback_matrix.csv, storage_costs.csv and
findings.csv (the columns of the BigQuery tables of those names), rejected.ndjson, the copies of
a job not counted (duplicates.ndjson), summary.json, report.md and report.html.

Options:
  --logs FILE        log entries: NDJSON (one LogEntry per line), a JSON array as written by
                     'gcloud logging read --format=json', pretty-printed entries, or entries.list
                     responses ({"entries": [...]}); UTF-8 or UTF-16 with a byte-order mark; a
                     file, a glob ("logs/*.json.gz"), a .gz file, or - for stdin. Repeat or list
                     several.
  --registry FILE    the organisation's registry (YAML): departments, projects, principals,
                     shared projects, reservations, partners, price overrides
  --storage FILE     optional INFORMATION_SCHEMA.TABLE_STORAGE snapshot (CSV or JSON from bq query)
  --storage-location REGION
                     location of snapshot rows that have no location column (default US)
  --from DATE        first billing day to report, YYYY-MM-DD (default: the first day of the
                     first job's period; with no job, of today's)
  --to DATE          last billing day to report, YYYY-MM-DD (default: the last day of the last
                     job's period): whole periods, so storage is never cut to the days jobs ran
  --period P         month (default) or day
  --timezone TZ      IANA time zone of billing days (default America/Los_Angeles, as Google bills)
  --out DIR          output folder (default out/report)
  --workers N        worker threads that parse and price beside the main thread, which does too
                     when they are busy (default: one per core but one for inputs of 64 MB or
                     more, else 0: all in one thread). Results are the same for every N.
  --progress         always show progress; --no-progress never (default: on a terminal only)
  --billing FILE     the Cloud Billing export of the period (gcp_billing_export_v1_* or the
                     detailed _resource_ table; JSON or NDJSON from 'bq query --format=json' or
                     'bq extract', or CSV with record fields flattened): shares the invoice out to
                     departments and writes reconciliation.csv, focus.csv (FOCUS 1.2) and the
                     invoiced columns of department_costs.csv. One billing currency per run.
  --jobs-export FILE INFORMATION_SCHEMA.JOBS(_BY_PROJECT|_BY_ORGANIZATION) rows of the period
                     (CSV or JSON): writes coverage.csv, the jobs and bytes the logs saw per
                     project and day. Needs --billing.
  --coverage-threshold R
                     flag project-days whose coverage is below R (default 0.95)
  --debug            on an error, print where in the code it happened (the stack)
  --policies FILE    optional IAM exports: adds the audit of who may bill which project
                     (iam_findings.csv, a report section); see bq-chargeback help iam
  --fail-on S        with --policies: exit with status 4 when an IAM finding of severity S or
                     worse is found (critical, high, medium, low; default none)

Exit status: 0 done; 2 bad usage, registry, snapshot or path; 3 reports written, but an input
broke off (a truncated .gz): they hold only what was read before it; 4 IAM findings at or above
--fail-on; 5 reports written, but an input was refused (in none of the forms read: one line per
file says which form it is and which are read), most entries were rejected or no BigQuery job was
read (the summary says so first); 1 anything else.`,
  demo: `Usage: bq-chargeback demo [--out DIR] [report options]

Runs 'report' on the bundled sample organisation in sample/acme (registry, logs in both audit
formats, a storage snapshot, an IAM export, the month's billing export and JOBS) and writes the
reports to out/acme (or DIR). Takes the options of 'report' but --logs, --registry, --storage,
--policies, --billing and --jobs-export (--period, --from, --to, --workers ...).`,
  sample: `Usage: bq-chargeback sample --out DIR [--month YYYY-MM] [--jobs N] [--seed N] [--format ndjson|json-array|both]

Generates a deterministic sample organisation: registry.yaml, logs/, table_storage.csv and
iam/ (IAM exports for --policies).`,
};

/** The version is package.json's: read when asked, so it cannot drift from what npm publishes. */
const version = (): string =>
  (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string })
    .version;

/** --from and --to, each optional (an open bound is the first or last day read). */
function parseBounds(from: string | undefined, to: string | undefined): { from?: string; to?: string } {
  try {
    return checkBounds(from, to, { from: "--from", to: "--to" });
  } catch (error) {
    if (error instanceof TimeRangeError) throw new UsageError(error.message);
    throw error;
  }
}

function parseGranularity(value: string | undefined): PeriodGranularity {
  if (value === undefined || value === "month") return "month";
  if (value === "day") return "day";
  throw new UsageError(`--period ${value}: expected month or day`);
}

async function reportCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    allowNegative: true,
    options: {
      ...REPORT_RUN_OPTIONS,
      billing: { type: "string", multiple: true },
      "jobs-export": { type: "string", multiple: true },
      "coverage-threshold": { type: "string" },
    },
  });
  if (values.help) {
    console.log(HELP.report);
    return 0;
  }
  // Files after --logs that the shell expanded from a glob arrive as positionals.
  const logs = [...(values.logs ?? []), ...positionals];
  if (logs.length === 0) throw new UsageError("report needs --logs FILE (see bq-chargeback help report)");
  if (!values.registry) throw new UsageError("report needs --registry FILE (see bq-chargeback help report)");
  const { from, to } = parseBounds(values.from, values.to);
  if (values.timezone && !isValidTimeZone(values.timezone)) {
    throw new UsageError(
      `--timezone ${values.timezone}: expected an IANA time zone such as America/Los_Angeles`,
    );
  }
  const outDir = values.out ?? "out/report";
  const failOn = parseFailOn(values["fail-on"]);
  if (failOn && !values.policies) throw new UsageError("--fail-on needs --policies (the IAM audit)");
  if (values.workers !== undefined && !/^\d{1,2}$/.test(values.workers)) {
    throw new UsageError(`--workers ${values.workers}: expected a whole number from 0 to 99`);
  }
  if (values["jobs-export"] && !values.billing)
    throw new UsageError("--jobs-export needs --billing (coverage is measured beside the invoice)");
  const threshold = values["coverage-threshold"];
  const coverageThresholdBasisPoints = threshold === undefined ? undefined : thresholdBasisPoints(threshold);
  if (threshold !== undefined && coverageThresholdBasisPoints === undefined)
    throw new UsageError(`--coverage-threshold ${threshold}: expected a ratio from 0 to 1 such as 0.95`);
  const result = await runReport({
    logs,
    registryFile: values.registry,
    storageFile: values.storage,
    storageLocation: values["storage-location"],
    from,
    to,
    granularity: parseGranularity(values.period),
    timeZone: values.timezone,
    outDir,
    progress: values.progress,
    // More threads than cores only add start-up and memory: capped at the cores.
    workers:
      values.workers === undefined ? undefined : Math.min(Number(values.workers), availableParallelism()),
    policies: values.policies?.map(parseIamInput),
    billingFiles: values.billing,
    jobsFiles: values["jobs-export"],
    coverageThresholdBasisPoints,
  });
  console.log(summaryText(result.summary, outDir));
  if (result.summary.iam) console.log(iamSummaryText(result.summary.iam, outDir));
  if (result.invoice) console.log(invoiceSummaryText(result.invoice));
  const damage = damageLines(result.summary);
  for (const line of damage) console.error(`bq-chargeback: ${line}`);
  if (damage.length > 0) return EXIT_DAMAGED_INPUT;
  for (const refused of result.summary.refused_inputs)
    console.error(`bq-chargeback: ${refusalLine(refused)}`);
  if (result.summary.warning) {
    console.error(`bq-chargeback: ${result.summary.warning}`);
    return EXIT_INPUT_NOT_READ;
  }
  return result.iam && failsOn(result.iam, failOn) ? FINDINGS_EXIT_CODE : 0;
}

/** Reports were written, but an input was refused, most of the input was rejected or no job was in it: not a success. */
const EXIT_INPUT_NOT_READ = 5;

/** Reports were written, but an input broke off: the user decides whether incomplete figures will do. */
const EXIT_DAMAGED_INPUT = 3;

/** File-system errors that say the path given is wrong: a usage error, told in one line. */
const PATH_ERRORS = new Set([
  "ENOENT",
  "EEXIST",
  "ENOTDIR",
  "EISDIR",
  "ELOOP",
  "EACCES",
  "EPERM",
  "EROFS",
  "ENAMETOOLONG",
]);

/** A system error in one line: the path first, then what (Node puts the syscall in between). */
function systemErrorLine(error: { code: string; path?: string; message: string }): string {
  const what = error.message.replace(/^[A-Z]+: /, "").replace(/, \w+(?: '.*')?$/, "");
  return error.path ? `${error.path}: ${what} (${error.code})` : error.message;
}

async function demoCommand(args: string[]): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    console.log(HELP.demo);
    return 0;
  }
  const own = ["--logs", "--registry", "--storage", "--billing", "--jobs-export"];
  if (args.some((arg) => own.includes(arg.split("=")[0] as string))) {
    throw new UsageError(
      "demo reads the bundled sample; use 'report' for your own --logs, --registry, --storage, --billing and --jobs-export",
    );
  }
  return reportCommand([
    "--logs",
    `${sampleDir()}logs/*.*`,
    "--registry",
    `${sampleDir()}registry.yaml`,
    "--storage",
    `${sampleDir()}table_storage.csv`,
    "--policies",
    `${sampleDir()}iam/*.json`,
    "--billing",
    `${sampleDir()}billing_export.json`,
    "--jobs-export",
    `${sampleDir()}jobs_by_project.csv`,
    "--out",
    "out/acme",
    // later flags win: --out, --workers, --period ... as for report
    ...args,
  ]);
}

async function sampleCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      out: { type: "string" },
      month: { type: "string" },
      jobs: { type: "string" },
      seed: { type: "string" },
      format: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(HELP.sample);
    return 0;
  }
  if (!values.out) throw new UsageError("sample needs --out DIR");
  const month = values.month ?? "2026-10";
  if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(month)) throw new UsageError(`--month ${month}: expected YYYY-MM`);
  const whole = (text: string | undefined, flag: string, fallback: number) => {
    if (text === undefined) return fallback;
    if (!/^\d+$/.test(text)) throw new UsageError(`${flag} ${text}: expected a whole number`);
    return Number(text);
  };
  const format = values.format ?? "both";
  if (format !== "ndjson" && format !== "json-array" && format !== "both") {
    throw new UsageError(`--format ${format}: expected ndjson, json-array or both`);
  }
  const { writeSample } = await import("../sample/generate.ts");
  const written = await writeSample(values.out, {
    month,
    jobs: whole(values.jobs, "--jobs", 3000),
    seed: whole(values.seed, "--seed", 1),
    format,
  });
  console.log(`wrote ${written.entries} entries (${written.bytes} bytes) to ${written.files.join(", ")}`);
  return 0;
}

export async function main(args: string[]): Promise<number> {
  const debug = args.includes("--debug") || process.env.BQ_CHARGEBACK_DEBUG === "1";
  const argv = args.filter((arg) => arg !== "--debug");
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case undefined:
      case "-h":
      case "--help":
        console.log(HELP.main);
        return 0;
      case "-v":
      case "--version":
        console.log(version());
        return 0;
      case "help":
        if (rest[0] === "backfill") console.log((await import("./backfill-command.ts")).HELP_BACKFILL);
        else if (rest[0] === "iam") console.log((await import("./iam-command.ts")).HELP_IAM);
        else if (rest[0] === "registry") console.log((await import("./registry-command.ts")).HELP_REGISTRY);
        else console.log(HELP[rest[0] ?? "main"] ?? HELP.main);
        return 0;
      case "report":
        return await reportCommand(rest);
      case "demo":
        return await demoCommand(rest);
      case "sample":
        return await sampleCommand(rest);
      case "iam": {
        const { iamCommand } = await import("./iam-command.ts");
        return await iamCommand(rest);
      }
      case "backfill": {
        const { backfillCommand } = await import("./backfill-command.ts");
        return await backfillCommand(rest);
      }
      case "registry": {
        const { registryCommand } = await import("./registry-command.ts");
        return await registryCommand(rest);
      }
      default:
        throw new UsageError(
          `unknown command "${command}" (expected report, demo, sample, backfill, iam, registry or help)`,
        );
    }
  } catch (error) {
    if (
      error instanceof UsageError ||
      error instanceof ConfigError ||
      error instanceof InputError ||
      error instanceof SnapshotError ||
      error instanceof OutputError ||
      error instanceof BillingExportError ||
      error instanceof JobsExportError ||
      error instanceof BillingMismatchError ||
      (error as { code?: string }).code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" ||
      (error as { code?: string }).code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE" ||
      (error as { code?: string }).code === "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL"
    ) {
      console.error(`bq-chargeback: ${(error as Error).message}`);
      return 2;
    }
    if (debug) console.error(error);
    const system = error as { code?: unknown; path?: string; message?: string };
    if (typeof system.code === "string" && typeof system.message === "string") {
      console.error(`bq-chargeback: ${systemErrorLine(system as { code: string; message: string })}`);
      return PATH_ERRORS.has(system.code) ? 2 : 1;
    }
    const message = error instanceof Error ? error.message : String(error);
    console.error(`bq-chargeback: ${message.split("\n")[0]}${debug ? "" : " (--debug shows where)"}`);
    return 1;
  }
}
