// The scheduled IAM audit in Google Cloud: the organisation's IAM policies from the Cloud Asset
// Inventory API (searchAllIamPolicies, through @google-cloud/asset), judged by the same reader and
// audit as `bq-chargeback iam`, written as iam_findings rows, with one structured alert line per
// critical finding (the ingest function's alert name, so the deployed log-based metric counts it).
import { createHash } from "node:crypto";
import { AssetServiceClient } from "@google-cloud/asset";
import type { BigQuery } from "@google-cloud/bigquery";
import { addDays } from "date-fns/addDays";
import { lightFormat as format } from "date-fns/lightFormat";
import { parseISO } from "date-fns/parseISO";
import { SEVERITIES } from "../core/findings.ts";
import type { IamFinding } from "../core/iam/audit.ts";
import { iamFindingRecord } from "../core/iam/rows.ts";
import { GrantUsage } from "../core/iam/usage.ts";
import { parseUsd } from "../core/money.ts";
import { DayClock, DEFAULT_TIME_ZONE, isIsoDate } from "../core/period.ts";
import type { Registry } from "../core/registry.ts";
import { readIamExports } from "../io/iam-exports.ts";
import { auditExport } from "../io/iam-files.ts";
import { readSql } from "../io/sql-files.ts";
import { ALERT_NAME } from "./alerts.ts";
import { offlineAuthClient } from "./google-auth.ts";
import type { InsertRow } from "./ingest.ts";

/** Where the rows go: BigQueryRowSink, or a test's. */
export interface IamRowSink {
  insert(table: "iam_findings", rows: InsertRow[]): Promise<void>;
}

/** The IamPolicySearchResult objects of a scope, every page, in their JSON (REST) form. */
export type IamPolicySearch = (scope: string) => Promise<unknown[]>;

const SCOPE = /^(organizations|folders)\/\d+$|^projects\/[a-z0-9-]{6,30}$/;

export class IamScopeError extends Error {}

/** `organizations/N`, `folders/N` or `projects/P`, as searchAllIamPolicies takes it. */
export function iamScope(value: string | undefined): string {
  if (!value || !SCOPE.test(value))
    throw new IamScopeError(
      `BQ_CHARGEBACK_IAM_SCOPE: expected organizations/NUMBER, folders/NUMBER or projects/PROJECT_ID, found "${value ?? ""}"`,
    );
  return value;
}

/**
 * searchAllIamPolicies over the client library's REST transport (the JSON the API and gcloud
 * speak), at Google or, with `apiEndpoint` (http://host:port), at a local endpoint with a fixed token.
 */
export function assetInventorySearch(options: { apiEndpoint?: string } = {}): IamPolicySearch {
  let client: AssetServiceClient;
  if (options.apiEndpoint) {
    const url = new URL(options.apiEndpoint);
    const auth = offlineAuthClient();
    client = new AssetServiceClient({
      fallback: true,
      apiEndpoint: url.hostname,
      port: Number(url.port),
      protocol: url.protocol.replace(":", ""),
      authClient: auth,
    } as unknown as ConstructorParameters<typeof AssetServiceClient>[0]);
  } else client = new AssetServiceClient({ fallback: true });
  return async (scope) => {
    const results: unknown[] = [];
    // Every page: the iterator follows nextPageToken.
    for await (const result of client.searchAllIamPoliciesAsync(
      { scope, pageSize: 500 },
      { autoPaginate: false },
    )) {
      const message = result as { toJSON?: () => unknown };
      results.push(typeof message.toJSON === "function" ? message.toJSON() : result);
    }
    return results;
  };
}

/** One row of sql/iam/grant_usage.sql. */
export interface UsageRow {
  principal: string;
  billing_project: string;
  jobs: number;
  /** NUMERIC: text, or the client's Big.js value. */
  compute_cost_usd: string | { toFixed(decimals: number): string };
}

/** Runs sql/iam/grant_usage.sql for a period of usage days. */
export type UsageQuery = (from: string, to: string) => Promise<UsageRow[]>;

const GRANT_USAGE_SQL = readSql("iam/grant_usage.sql");

/** The usage query in BigQuery, over the dataset's job_costs; the dates go as DATE parameters. */
export function bigQueryUsage(bigquery: BigQuery, projectId: string, dataset: string): UsageQuery {
  return async (from, to) => {
    const [rows] = await bigquery.query({
      query: GRANT_USAGE_SQL,
      // DATE parameters must be BigQueryDate values: the client drops a plain string given type DATE.
      params: { from_date: bigquery.date(from), to_date: bigquery.date(to) },
      types: { from_date: "DATE", to_date: "DATE" },
      defaultDataset: { projectId, datasetId: dataset },
    });
    return rows as UsageRow[];
  };
}

/** The logs' jobs as the audit joins them, from the usage rows. */
export function grantUsageOf(rows: readonly UsageRow[]): GrantUsage {
  const usage = new GrantUsage();
  for (const row of rows) {
    const cost =
      typeof row.compute_cost_usd === "string" ? row.compute_cost_usd : row.compute_cost_usd.toFixed(9);
    usage.addJobs(row.principal, row.billing_project, Number(row.jobs), parseUsd(cost));
  }
  return usage;
}

export class IamRequestError extends Error {}

/**
 * The usage period: `{from, to}` in the body, else the 30 billing days before the audit's billing
 * day, in the billing time zone (the days of job_costs.usage_date).
 */
export function usagePeriod(
  body: unknown,
  now: Date,
  timeZone: string = DEFAULT_TIME_ZONE,
): { from: string; to: string } {
  const given = (typeof body === "object" && body !== null ? body : {}) as { from?: unknown; to?: unknown };
  if (given.from === undefined && given.to === undefined) {
    const today = parseISO(new DayClock(timeZone).dayOf(now.getTime()));
    const day = (offset: number) => format(addDays(today, -offset), "yyyy-MM-dd");
    return { from: day(30), to: day(1) };
  }
  if (
    typeof given.from !== "string" ||
    !isIsoDate(given.from) ||
    typeof given.to !== "string" ||
    !isIsoDate(given.to)
  )
    throw new IamRequestError('expected {"from": "YYYY-MM-DD", "to": "YYYY-MM-DD"} or {}');
  if (given.from > given.to) throw new IamRequestError(`from ${given.from} is after to ${given.to}`);
  return { from: given.from, to: given.to };
}

/** One alert line per critical finding, shaped as the ingest function's. */
export function iamAlertPayload(finding: IamFinding): Record<string, unknown> {
  return {
    severity: SEVERITIES[finding.severity].logSeverity,
    alert: ALERT_NAME,
    message: `${finding.kind}: ${finding.member} holds ${finding.role} on ${finding.resource}`,
    finding: {
      kind: finding.kind,
      severity: finding.severity,
      status: finding.status,
      project: finding.project,
      resource: finding.resource,
      member: finding.member,
      role: finding.role,
      condition: finding.condition,
      remediation: finding.remediation,
    },
  };
}

export interface IamAuditDeps {
  scope: string;
  registry: Registry;
  search: IamPolicySearch;
  sink: IamRowSink;
  /** job_costs of the period, to tell realized grants from latent ones; without it: not_checked. */
  usage?: UsageQuery;
  /** The request body: `{}` or `{from, to}` (usage days). */
  body?: unknown;
  /** Role definitions (custom roles), as `gcloud iam roles describe --format=json` writes them. */
  roles?: { file: string; text: string }[];
  /** IANA zone of billing days (BQ_CHARGEBACK_TIMEZONE); Los Angeles by default, as Google bills. */
  timeZone?: string;
  /** Where alert lines go (stdout in Cloud Functions: Cloud Logging reads it). */
  write?: (line: string) => void;
  now?: () => Date;
}

export interface IamAuditOutcome {
  status: number;
  body: Record<string, unknown>;
}

/** One scheduled audit: search, judge, write the rows, alert on the critical. */
export async function runScheduledIamAudit(deps: IamAuditDeps): Promise<IamAuditOutcome> {
  const now = deps.now?.() ?? new Date();
  const auditTime = now.toISOString();
  let period: { from: string; to: string };
  try {
    period = usagePeriod(deps.body, now, deps.timeZone);
  } catch (error) {
    if (error instanceof IamRequestError) return { status: 400, body: { error: error.message } };
    throw error;
  }
  const usage = deps.usage ? grantUsageOf(await deps.usage(period.from, period.to)) : undefined;
  const results = await deps.search(deps.scope);
  const source = `cloudasset:${deps.scope}`;
  const exported = readIamExports([{ file: source, text: JSON.stringify(results) }, ...(deps.roles ?? [])]);
  const audit = auditExport(exported, deps.registry, usage);
  const rows: InsertRow[] = audit.findings.map((finding) => {
    const json = iamFindingRecord(finding, auditTime) as unknown as Record<string, unknown>;
    // The same finding of the same audit is one row, however often the run is retried.
    const insertId = createHash("sha256")
      .update(
        [
          auditTime,
          finding.kind,
          finding.project,
          finding.resource,
          finding.member,
          finding.role,
          finding.condition,
        ].join("\u0000"),
      )
      .digest("hex")
      .slice(0, 32);
    return { insertId, json };
  });
  await deps.sink.insert("iam_findings", rows);
  const write = deps.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  for (const finding of audit.findings)
    if (finding.severity === "critical") write(JSON.stringify(iamAlertPayload(finding)));
  const problems = audit.problems.map((p) => ({ ...p.source, reason: p.reason, detail: p.detail }));
  return {
    status: 200,
    body: {
      scope: deps.scope,
      audit_time: auditTime,
      usage_period: usage ? period : null,
      policies: results.length,
      grants: audit.counts.grants,
      findings: audit.findings.length,
      by_severity: audit.counts.findingsBySeverity,
      rejected: problems,
    },
  };
}
