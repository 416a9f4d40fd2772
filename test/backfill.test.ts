// Backfill from the Cloud Logging API: a local HTTP endpoint speaks the entries.list REST wire
// format (pages, 429 with Retry-After, 503), the rows go through the real BigQuery client to the
// local BigQuery endpoint, and a run that dies half way resumes from its checkpoint without
// losing or doubling a job.

import { mkdtemp, readFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backfillCommand } from "../src/cli/backfill-command.ts";
import type { EntriesPage } from "../src/cloud/logging-source.ts";
import { jobKey } from "../src/core/job-copies.ts";
import { FakeBigQuery } from "./support/fake-bigquery.ts";
import { matches, parseFilter } from "./support/logging-filter.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const SINK = parseFilter(await readFile(`${ROOT}deploy/sink-filter.txt`, "utf8"));
const ENTRIES = (await readFile(`${ROOT}sample/acme/logs/2026-10-v2-and-v1.ndjson`, "utf8"))
  .split("\n")
  .flatMap((line) => {
    try {
      return [JSON.parse(line)];
    } catch {
      return [];
    }
  })
  .filter((entry) => matches(SINK, entry));

interface LoggingRequest {
  resourceNames: string[];
  filter: string;
  orderBy: string;
  pageSize: number;
  pageToken?: string;
}

class FakeLogging {
  readonly requests: LoggingRequest[] = [];
  /** Answers to give instead of a page, in order: [status, retry-after seconds]. */
  readonly failures: [number, number | undefined][] = [];
  private server: Server | undefined;

  async start(): Promise<string> {
    this.server = createServer(async (request, response) => {
      const chunks: Buffer[] = [];
      for await (const chunk of request) chunks.push(chunk as Buffer);
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as LoggingRequest;
      this.requests.push(body);
      const failure = this.failures.shift();
      if (failure) {
        response.writeHead(failure[0], {
          "content-type": "application/json",
          ...(failure[1] ? { "retry-after": String(failure[1]) } : {}),
        });
        response.end(
          JSON.stringify({
            error: {
              code: failure[0],
              message: "injected",
              status: failure[0] === 429 ? "RESOURCE_EXHAUSTED" : "UNAVAILABLE",
            },
          }),
        );
        return;
      }
      // As Cloud Logging: a project holds the entries logged in it (logName projects/P/logs/...);
      // an organisation or folder only its own, none of its projects' BigQuery entries; a log
      // bucket view filled by the organisation's aggregated sink, every project's.
      const held = ENTRIES.filter((entry) =>
        body.resourceNames.some(
          (name) =>
            /\/buckets\/[^/]+\/views\//.test(name) || String(entry.logName).startsWith(`${name}/logs/`),
        ),
      );
      const start = Number(body.pageToken ?? 0);
      const entries = held.slice(start, start + body.pageSize);
      const next = start + body.pageSize < held.length ? String(start + body.pageSize) : undefined;
      response.writeHead(200, { "content-type": "application/json" });
      response.end(JSON.stringify({ entries, ...(next ? { nextPageToken: next } : {}) }));
    });
    const server = this.server;
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

let logging: FakeLogging;
let loggingUrl: string;
let bigquery: FakeBigQuery;
const saved = { ...process.env };

beforeAll(async () => {
  logging = new FakeLogging();
  loggingUrl = await logging.start();
  bigquery = new FakeBigQuery();
  process.env.GOOGLE_CLOUD_PROJECT = "acme-chargeback";
  process.env.BIGQUERY_API_ENDPOINT = await bigquery.start();
});

afterAll(async () => {
  process.env = saved;
  await logging.stop();
  await bigquery.stop();
});

const registry = `${ROOT}sample/acme/registry.yaml`;
const VIEW = "projects/acme-chargeback/locations/global/buckets/bq-chargeback-audit/views/_AllLogs";
const base = (dir: string) => [
  "--from",
  "2026-10-01",
  "--to",
  "2026-10-31",
  "--bucket-view",
  VIEW,
  "--registry",
  registry,
  "--page-size",
  "100",
  "--logging-endpoint",
  loggingUrl,
  "--checkpoint",
  join(dir, "checkpoint.json"),
];

describe("bq-chargeback backfill", () => {
  it("reads every page with the sink's filter in time order, into a report folder", async () => {
    const dir = await mkdtemp(join(tmpdir(), "bqcb-backfill-"));
    logging.requests.length = 0;
    logging.failures.push([429, 1], [503, undefined]);
    expect(await backfillCommand([...base(dir), "--out", join(dir, "report")])).toBe(0);
    const first = logging.requests[0] as LoggingRequest;
    expect(first.resourceNames).toEqual([VIEW]);
    expect(first.orderBy).toBe("timestamp asc");
    expect(first.filter).toContain('protoPayload.metadata.jobChange.after="DONE"');
    // October's billing days in Los Angeles (PDT, UTC-7), as Google bills
    expect(first.filter).toContain(
      'timestamp>="2026-10-01T07:00:00.000Z" AND timestamp<"2026-11-01T07:00:00.000Z"',
    );
    // two answers were retried, then every page was read once
    const pages = Math.ceil(ENTRIES.length / 100);
    expect(logging.requests).toHaveLength(pages + 2);
    const summary = JSON.parse(await readFile(join(dir, "report", "summary.json"), "utf8"));
    expect(summary.entries_read).toBe(ENTRIES.length);
    expect(summary.jobs).toBeGreaterThan(500);
  }, 60_000);

  it("resumes after a crash without losing or doubling a job", async () => {
    const dir = await mkdtemp(join(tmpdir(), "bqcb-resume-"));
    bigquery.tables.clear();
    // a lasting error on the fourth page: the run stops, its checkpoint says where
    logging.requests.length = 0;
    const crashAt = 3;
    const original = logging.failures;
    let served = 0;
    const crash = new Promise<unknown>((resolve) => {
      void backfillCommand([...base(dir), "--to-bigquery"], async (request) => {
        if (++served > crashAt) throw Object.assign(new Error("connection reset"), { status: 0 });
        const response = await fetch(`${loggingUrl}/v2/entries:list`, {
          method: "POST",
          body: JSON.stringify(request),
        });
        return (await response.json()) as EntriesPage;
      }).then(resolve, resolve);
    });
    expect(await crash).toBeInstanceOf(Error);
    expect(original).toHaveLength(0);
    const checkpoint = JSON.parse(await readFile(join(dir, "checkpoint.json"), "utf8"));
    expect(checkpoint).toMatchObject({
      pages: crashAt,
      entries: crashAt * 100,
      pageToken: String(crashAt * 100),
    });
    const before = bigquery.rows("job_costs").length;
    expect(await backfillCommand([...base(dir), "--to-bigquery", "--resume"])).toBe(0);
    const rows = bigquery.rows("job_costs");
    expect(rows.length).toBeGreaterThan(before);
    // a job's copies share an insert id only when equally complete (src/core/job-copies.ts): its v1
    // and v2 copies are both kept, for the reports to choose the most complete
    const ids = rows.map((row) => `${jobKey(String(row.job_id))}#${row.audit_format}`);
    const jobs = new Set(rows.map((row) => jobKey(String(row.job_id))));
    // every completed job of the entries is there exactly once
    const full = await mkdtemp(join(tmpdir(), "bqcb-full-"));
    expect(await backfillCommand([...base(full), "--out", join(full, "report")])).toBe(0);
    const summary = JSON.parse(await readFile(join(full, "report", "summary.json"), "utf8"));
    expect(new Set(ids).size).toBe(ids.length);
    expect(jobs.size).toBe(summary.jobs + summary.jobs_outside_period);
  }, 60_000);

  it("reads a domain-scoped project (example.com:p) by its resource name", async () => {
    const dir = await mkdtemp(join(tmpdir(), "bqcb-scoped-"));
    logging.requests.length = 0;
    const args = base(dir);
    args.splice(args.indexOf("--bucket-view"), 2, "--project", "example.com:acme-archive");
    expect(await backfillCommand([...args, "--out", join(dir, "report")])).toBe(0);
    expect(logging.requests[0]?.resourceNames).toEqual(["projects/example.com:acme-archive"]);
  }, 60_000);

  it("refuses bad arguments with a clear message", async () => {
    const dir = await mkdtemp(join(tmpdir(), "bqcb-bad-"));
    await expect(backfillCommand(["--from", "2026-13-01", "--to", "2026-10-31"])).rejects.toThrow(
      /--from: expected a date/,
    );
    await expect(backfillCommand([...base(dir)])).rejects.toThrow(/one of --out DIR and --to-bigquery/);
    await expect(backfillCommand([...base(dir), "--out", dir, "--resume"])).rejects.toThrow(
      /--resume goes with --to-bigquery/,
    );
    await expect(
      backfillCommand([
        "--from",
        "2026-10-01",
        "--to",
        "2026-10-02",
        "--project",
        "Bad Project",
        "--registry",
        registry,
        "--out",
        dir,
      ]),
    ).rejects.toThrow(/projects\/Bad Project: expected a project id/);
  });

  it("reads each registered project by default: an organisation holds none of its projects' entries", async () => {
    const dir = await mkdtemp(join(tmpdir(), "bqcb-projects-"));
    const args = base(dir);
    args.splice(args.indexOf("--bucket-view"), 2);
    logging.requests.length = 0;
    expect(await backfillCommand([...args, "--out", join(dir, "report")])).toBe(0);
    expect(logging.requests[0]?.resourceNames).toEqual([
      "projects/acme-ds-bi",
      "projects/acme-ds-lake",
      "projects/acme-etl",
      "projects/acme-fin-bi",
      "projects/acme-fin-lake",
      "projects/acme-mkt-bi",
      "projects/acme-mkt-lake",
      "projects/acme-platform",
      "projects/acme-platform-lake",
      "projects/acme-sales-bi",
    ]);
    const summary = JSON.parse(await readFile(join(dir, "report", "summary.json"), "utf8"));
    // an unregistered project's own log is not read this way (a bucket view holds it)
    const unregistered = ENTRIES.filter((entry) =>
      String(entry.logName).startsWith("projects/acme-sandbox-42/"),
    );
    expect(unregistered.length).toBeGreaterThan(0);
    expect(summary.entries_read).toBe(ENTRIES.length - unregistered.length);
    await expect(backfillCommand([...args, "--organization", "123456789012", "--out", dir])).rejects.toThrow(
      /--organization: organizations\/ID holds only the organization's own logs/,
    );
  }, 60_000);
});
