// `bq-chargeback backfill`: past entries from the Cloud Logging API through the same pipeline,
// into local report files (as `report`) or into the BigQuery tables (as the ingest function,
// with the same insert ids, so live and backfilled rows never double).
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { LogAlertSink } from "../cloud/alerts.ts";
import { BigQueryRowSink, createBigQuery } from "../cloud/bigquery.ts";
import { loadRegistry, readCloudConfig } from "../cloud/config.ts";
import { createIngestContext, ingestEntry } from "../cloud/ingest.ts";
import {
  backfillFilter,
  type ListEntries,
  readLoggingPages,
  restListEntries,
} from "../cloud/logging-source.ts";
import { isProjectId } from "../core/identifiers.ts";
import { DEFAULT_TIME_ZONE, isValidTimeZone } from "../core/period.ts";
import { TimeRange, TimeRangeError } from "../core/time-range.ts";
import type { InputChunk } from "../io/log-files.ts";
import { summaryText } from "../report/summary.ts";
import { runReport } from "./report-command.ts";
import { UsageError } from "./usage-error.ts";

export const HELP_BACKFILL = `Usage: bq-chargeback backfill --from DATE --to DATE [--bucket-view VIEW | --project P ...]
                           --registry FILE (--out DIR | --to-bigquery) [options]

Reads past BigQuery audit entries with the Cloud Logging API (entries.list, the same filter as
the deployed sink: deploy/sink-filter.txt), page by page in time order, and runs them through
the same pipeline as 'report' (--out DIR) or as the ingest function (--to-bigquery, configured
by GOOGLE_CLOUD_PROJECT, BQ_CHARGEBACK_DATASET, BIGQUERY_API_ENDPOINT).

Options:
  --from DATE, --to DATE   billing days to read, YYYY-MM-DD, inclusive, in the billing time zone
  --timezone TZ            IANA time zone of billing days (default BQ_CHARGEBACK_TIMEZONE, else
                           America/Los_Angeles, as Google bills)
  --bucket-view VIEW       projects/P/locations/L/buckets/B/views/V: a log bucket an aggregated
                           sink of the organisation fills; it holds every project's entries
  --project P              read this project's own logs (repeatable); without --project and
                           --bucket-view, every project of the registry (an unregistered
                           project's jobs are then not read: use a bucket view to see them)
  --registry FILE          the organisation's registry
  --out DIR                write the report folder (as 'report')
  --to-bigquery            write job_costs, findings and rejected_entries rows
  --checkpoint FILE        where to note progress after each page (default .bq-chargeback-backfill.json)
  --resume                 with --to-bigquery: continue from the checkpoint (a page may be read
                           twice; insert ids and the reports count each job once)
  --page-size N            entries per page, up to 1000 (default 1000)
  --logging-endpoint URL   another endpoint speaking the Logging REST API (tests, emulators)

Needs roles/logging.privateLogViewer (data_access logs are private) on the resources read.
entries.list is rate-limited per project: 429 answers are retried with backoff, honouring Retry-After.`;

const BUCKET_VIEW =
  /^projects\/[^/\s]+\/locations\/[a-z0-9-]+\/buckets\/[A-Za-z0-9_-]+\/views\/[A-Za-z0-9_-]+$/;

const SINK_FILTER = fileURLToPath(new URL("../../deploy/sink-filter.txt", import.meta.url));

/** A bad range is a usage error of this command. */
function usage<T>(read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof TimeRangeError) throw new UsageError(error.message);
    throw error;
  }
}

export async function backfillCommand(args: string[], listOverride?: ListEntries): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      from: { type: "string" },
      to: { type: "string" },
      organization: { type: "string" },
      folder: { type: "string" },
      project: { type: "string", multiple: true },
      "bucket-view": { type: "string" },
      registry: { type: "string" },
      out: { type: "string" },
      "to-bigquery": { type: "boolean" },
      checkpoint: { type: "string" },
      resume: { type: "boolean" },
      "page-size": { type: "string" },
      "logging-endpoint": { type: "string" },
      timezone: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(HELP_BACKFILL);
    return 0;
  }
  const range = usage(() => TimeRange.of(values.from, values.to, "day", { from: "--from", to: "--to" }));
  // organizations/ID and folders/ID hold only their own logs: a project's BigQuery audit entries
  // stay in that project's buckets unless an aggregated sink routes them to a log bucket.
  for (const flag of ["organization", "folder"] as const) {
    if (values[flag]) {
      throw new UsageError(
        `--${flag}: ${flag}s/ID holds only the ${flag}'s own logs, not its projects' BigQuery audit entries; leave it out to read every registered project, or give --bucket-view for a log bucket an aggregated sink fills`,
      );
    }
  }
  if (!values.registry) throw new UsageError("--registry FILE is needed");
  const view = values["bucket-view"];
  if (view !== undefined && !BUCKET_VIEW.test(view))
    throw new UsageError(`--bucket-view: expected projects/P/locations/L/buckets/B/views/V, found "${view}"`);
  for (const project of values.project ?? []) {
    if (!isProjectId(project)) throw new UsageError(`projects/${project}: expected a project id`);
  }
  const projects =
    values.project ?? (view ? [] : [...(await loadRegistry(values.registry)).projectIndex.keys()].sort());
  const resourceNames = [...(view ? [view] : []), ...projects.map((project) => `projects/${project}`)];
  if (Boolean(values.out) === Boolean(values["to-bigquery"]))
    throw new UsageError("give one of --out DIR and --to-bigquery");
  // A report folder is written whole at the end: a resumed run would hold only the rest.
  if (values.resume && values.out)
    throw new UsageError("--resume goes with --to-bigquery (a report folder is rebuilt whole: run again)");
  const pageSize = Number(values["page-size"] ?? 1000);
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 1000)
    throw new UsageError("--page-size: expected 1 to 1000");
  const endpoint = values["logging-endpoint"];
  if (endpoint !== undefined && !/^https?:\/\/[^\s/]+/.test(endpoint))
    throw new UsageError("--logging-endpoint: expected http(s)://host[:port]");

  const timeZone = values.timezone ?? (process.env.BQ_CHARGEBACK_TIMEZONE || DEFAULT_TIME_ZONE);
  if (!isValidTimeZone(timeZone))
    throw new UsageError(`--timezone ${timeZone}: expected an IANA time zone such as America/Los_Angeles`);
  const { start, end } = range.instants(timeZone);
  const filter = await backfillFilter(SINK_FILTER, start, end);
  const list = listOverride ?? restListEntries({ endpoint });
  const pages = readLoggingPages(list, {
    resourceNames,
    filter,
    pageSize,
    checkpointFile: values.checkpoint ?? ".bq-chargeback-backfill.json",
    resume: values.resume,
  });
  const label = `logging:${resourceNames.join(",")}`;

  if (values.out) {
    let page = 0;
    const chunks = (async function* (): AsyncGenerator<InputChunk> {
      for await (const texts of pages) {
        page++;
        yield {
          kind: "records",
          batch: { file: `${label} page ${page}`, texts, lines: texts.map((_, i) => i + 1) },
        };
      }
    })();
    const result = await runReport({
      logs: [label],
      source: chunks,
      registryFile: values.registry,
      granularity: "month",
      timeZone,
      outDir: values.out,
      workers: 0,
    });
    console.log(summaryText(result.summary, values.out));
    return 0;
  }

  const config = readCloudConfig({ ...process.env, BQ_CHARGEBACK_REGISTRY: values.registry });
  const registry = await loadRegistry(config.registry);
  const context = createIngestContext({
    registry,
    timeZone,
    sink: new BigQueryRowSink(
      createBigQuery({ projectId: config.projectId, apiEndpoint: config.bigqueryEndpoint }),
      config.dataset,
    ),
    alerts: new LogAlertSink({ write: () => undefined }),
  });
  const counts: Record<string, number> = {};
  let page = 0;
  for await (const texts of pages) {
    page++;
    for (const [i, text] of texts.entries()) {
      const result = await ingestEntry(text, { file: `${label} page ${page}`, line: i + 1 }, context);
      counts[result.kind] = (counts[result.kind] ?? 0) + 1;
    }
  }
  console.log(
    `backfilled ${page} pages: ${
      Object.entries(counts)
        .map(([kind, n]) => `${kind} ${n}`)
        .join(", ") || "no entries"
    }`,
  );
  return 0;
}
