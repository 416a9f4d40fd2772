// `bq-chargeback iam`: who may bill which project, from IAM exports and the registry, joined with
// the logs when given (then it is `report` with the audit added). Exit status 4 when a finding at
// or above --fail-on is found, for a scheduled job to alert on.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { Severity } from "../core/types.ts";
import { parseIamInput } from "../io/iam-exports.ts";
import { type IamRun, runIamAudit, writeIamFiles } from "../io/iam-files.ts";
import { iamHtmlPage, iamMarkdown, iamSummary, iamSummaryText } from "../report/iam-section.ts";
import { REPORT_RUN_OPTIONS } from "./report-options.ts";
import { UsageError } from "./usage-error.ts";

const SEVERITIES: readonly Severity[] = ["critical", "high", "medium", "low"];
export const FINDINGS_EXIT_CODE = 4;

/** --fail-on: the lowest severity that fails the run; "none" never fails. */
export function parseFailOn(value: string | undefined): Severity | undefined {
  if (value === undefined || value === "none") return undefined;
  if (!(SEVERITIES as readonly string[]).includes(value))
    throw new UsageError(`--fail-on ${value}: expected one of ${SEVERITIES.join(", ")} or none`);
  return value as Severity;
}

/** Whether any finding is at or above the severity. */
export function failsOn(run: IamRun, failOn: Severity | undefined): boolean {
  if (failOn === undefined) return false;
  const limit = SEVERITIES.indexOf(failOn);
  return run.audit.findings.some((finding) => SEVERITIES.indexOf(finding.severity) <= limit);
}

export const HELP_IAM = `Usage: bq-chargeback iam --policies FILE... --registry FILE [--logs FILE...] [options]

Audits who may bill which project (bigquery.jobs.create) and who may read what
(bigquery.tables.getData), from IAM exports, against the registry; with --logs, joins each grant
with what the logs show its holder did (realized or latent) and writes the whole chargeback
report as 'report' does. Writes iam_findings.csv, iam_rejected.ndjson, summary.json ("iam"),
and report.md / report.html with a "Who can bill which project" section.

Options:
  --policies FILE    IAM exports, recognised by their shape (repeat or list several):
                       gcloud asset search-all-iam-policies --scope=organizations/ORG --format=json
                       gcloud projects list --format=json          (project numbers -> ids)
                       bq show --format=prettyjson PROJECT:DATASET (access lists)
                       gcloud iam roles describe ROLE --organization=ORG --format=json (custom roles)
                       PROJECT_ID=FILE for gcloud projects get-iam-policy PROJECT_ID --format=json
  --registry FILE    the organisation's registry (YAML)
  --logs FILE        optional audit logs of the period (as for 'report'); other 'report' options
                     (--storage, --from, --to, --period, --timezone, --workers) apply with them
  --out DIR          output folder (default out/iam)
  --fail-on S        exit with status 4 when a finding of severity S or worse is found:
                     critical, high, medium, low, or none (default none)`;

export async function iamCommand(args: string[]): Promise<number> {
  const { values, tokens } = parseArgs({
    args,
    allowPositionals: true,
    allowNegative: true,
    tokens: true,
    options: REPORT_RUN_OPTIONS,
  });
  if (values.help) {
    console.log(HELP_IAM);
    return 0;
  }
  // Files that the shell expanded from a glob arrive as positionals: each belongs to the
  // --policies or --logs before it.
  const policies = [...(values.policies ?? [])];
  const logs = [...(values.logs ?? [])];
  let listing: "policies" | "logs" = "policies";
  for (const token of tokens) {
    if (token.kind === "option" && (token.name === "policies" || token.name === "logs")) listing = token.name;
    else if (token.kind === "option") listing = "policies";
    else if (token.kind === "positional") (listing === "logs" ? logs : policies).push(token.value);
  }
  if (policies.length === 0) throw new UsageError("iam needs --policies FILE (see bq-chargeback help iam)");
  if (!values.registry) throw new UsageError("iam needs --registry FILE (see bq-chargeback help iam)");
  const failOn = parseFailOn(values["fail-on"]);
  const outDir = values.out ?? "out/iam";
  if (logs.length > 0) {
    // With logs this is the report, audit included: one run, one folder.
    const { main } = await import("./main.ts");
    const named = tokens.flatMap((token) =>
      token.kind === "option" && token.name !== "policies" && token.name !== "logs" && token.name !== "out"
        ? args.slice(token.index, token.index + (token.inlineValue === false ? 2 : 1))
        : [],
    );
    return main([
      "report",
      ...named,
      ...policies.flatMap((file) => ["--policies", file]),
      ...logs.flatMap((file) => ["--logs", file]),
      "--out",
      outDir,
    ]);
  }
  const { loadRegistryFile } = await import("./report-command.ts");
  const { registry } = await loadRegistryFile(values.registry);
  const run = await runIamAudit(policies.map(parseIamInput), registry, undefined, new Date().toISOString());
  const { mkdir } = await import("node:fs/promises");
  await mkdir(outDir, { recursive: true });
  await writeIamFiles(outDir, run);
  const summary = iamSummary(run);
  await writeFile(join(outDir, "summary.json"), `${JSON.stringify({ iam: summary }, null, 2)}\n`);
  await writeFile(join(outDir, "report.md"), `# Who can bill which project\n\n${iamMarkdown(run)}\n`);
  await writeFile(join(outDir, "report.html"), iamHtmlPage(run));
  console.log(iamSummaryText(summary, outDir));
  return failsOn(run, failOn) ? FINDINGS_EXIT_CODE : 0;
}
