import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseEntry, parseLine } from "../src/core/parse.ts";
import type { JobEvent, ParsedEntry, RejectedEntry, TableReadEvent } from "../src/core/types.ts";
import { type SampleJob, v1Completed, v2Change, v2Insertion, v2TableRead } from "../src/sample/entries.ts";
import { asRejected, sampleJob as job } from "./support/jobs.ts";

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), "utf8");
const source = { file: "f.ndjson", line: 7 };
const parse = (entry: unknown): ParsedEntry => parseEntry(entry, JSON.stringify(entry), source);

function asJob(parsed: ParsedEntry): JobEvent {
  if (parsed.kind !== "job") throw new Error(`expected a job, got ${JSON.stringify(parsed)}`);
  return parsed;
}

describe("real Google entries", () => {
  it("reads the v1 jobcompleted capture from google-cloudevents exactly", () => {
    const parsed = asJob(
      parseLine(fixture("entries/v1-jobcompleted.google-cloudevents.json").replace(/\n\s*/g, ""), source),
    );
    expect(parsed).toMatchObject({
      format: "v1",
      jobId: "test-project:US.bqjob_r3ac45813612fa2d6_0000017d591922c9_1",
      billingProject: "test-project",
      location: "US",
      principal: "robot@test-project.iam.gserviceaccount.com",
      statementType: "SELECT",
      jobType: "QUERY",
      billedBytes: 1450180608n,
      processedBytes: 1449319174n,
      slotMs: 46n,
      cacheHit: false,
      referencedTables: ["projects/bigquery-samples/datasets/reddit/tables/full"],
      endTime: "2021-11-25T21:56:00.236Z",
      source,
    });
    expect(parsed.error).toBeUndefined();
  });

  it("reads the Eventarc sample whose serviceData has no @type", () => {
    const parsed = asJob(
      parseEntry(JSON.parse(fixture("entries/v1-jobcompleted.eventarc-sample.json")), "", source),
    );
    expect(parsed).toMatchObject({
      format: "v1",
      jobId: "test-project:US.sample-job",
      billingProject: "test-project",
    });
  });

  it("reads the DataHub v1 capture and its billed bytes, already rounded by BigQuery", () => {
    const parsed = asJob(parse(JSON.parse(fixture("entries/v1-jobcompleted.datahub.json"))));
    expect(parsed.billedBytes).toBe(315621376n);
    expect(parsed.processedBytes).toBe(315389683n);
    expect(parsed.billedBytes % 2n ** 20n).toBe(0n);
    expect(parsed.principal).toBe("harshal@acryl.io");
  });

  it("reads a real v2 tableDataRead (tabledata.list) as a table read, not a job", () => {
    const parsed = parse(JSON.parse(fixture("entries/v2-tableDataRead-list.datahub.json"))) as TableReadEvent;
    expect(parsed).toMatchObject({
      kind: "table_read",
      dataProject: "harshal-playground-306419",
      table: "projects/harshal-playground-306419/datasets/test_schema/tables/austin311_derived",
      reason: "TABLEDATA_LIST_REQUEST",
      principal: "harshal@acryl.io",
    });
    expect(parsed.readerBillingProject).toBeUndefined();
  });
});

describe("v2 BigQueryAuditMetadata", () => {
  it("takes a completed job from jobChange, with the location from the resource labels", () => {
    const parsed = asJob(parse(v2Change(job())));
    expect(parsed).toMatchObject({
      format: "v2",
      event: "jobChange",
      jobId: "acme-fin-bi:US.bquxjob_1a2b3c4d_19b2c3d4e5f",
      location: "US",
      billedBytes: 3097493504n,
      processedBytes: 3096864198n,
      billedBytesPresent: true,
      slotMs: 259581n,
      reservation: "unreserved",
      endTimeMs: Date.parse("2026-10-14T17:02:19.877Z"),
    });
  });

  it("takes the location from the resource, not the job name, and keeps EU jobs apart", () => {
    const eu = asJob(parse(v2Change(job({ location: "EU" }))));
    expect(eu.jobId).toBe("acme-fin-bi:EU.bquxjob_1a2b3c4d_19b2c3d4e5f");
    const entry = v2Change(job()) as { resource: { labels: Record<string, string> } };
    delete entry.resource.labels.location;
    expect(asJob(parse(entry)).jobId).toBe("acme-fin-bi:bquxjob_1a2b3c4d_19b2c3d4e5f");
  });

  it("ignores a job insertion that is not done, and ignores non-job events", () => {
    expect(parse(v2Insertion(job()))).toMatchObject({ kind: "ignored", reason: "job_not_done" });
    const tableDeletion = {
      protoPayload: {
        serviceName: "bigquery.googleapis.com",
        metadata: {
          "@type": "type.googleapis.com/google.cloud.audit.BigQueryAuditMetadata",
          tableDeletion: { reason: "QUERY" },
        },
      },
    };
    expect(parse(tableDeletion)).toMatchObject({ kind: "ignored", reason: "not_a_job_event" });
  });

  it("reads a cache hit: no bytes, no tables", () => {
    const parsed = asJob(
      parse(
        v2Change(
          job({ cacheHit: true, processedBytes: 0n, billedBytes: 0n, slotMs: 0n, referencedTables: [] }),
        ),
      ),
    );
    expect(parsed).toMatchObject({
      cacheHit: true,
      billedBytes: 0n,
      billedBytesPresent: false,
      referencedTables: [],
    });
  });

  it("drops partition and snapshot decorators from referenced tables, whichever comes first", () => {
    const tables = (...names: string[]) => names.map((name) => `projects/p/datasets/d/tables/${name}`);
    const parsed = asJob(
      parse(
        v2Change(
          job({
            referencedTables: tables("t$20240101", "u@1700000000000", "v@-3600000$20240101", "w$2024@1", "t"),
          }),
        ),
      ),
    );
    expect(parsed.referencedTables).toEqual(tables("t", "u", "v", "w"));
  });

  it("reads a failed job's error", () => {
    const parsed = asJob(
      parse(v2Change(job({ error: { code: 5, message: "Not found: Dataset acme-fin-bi:tmp" } }))),
    );
    expect(parsed.error).toEqual({ code: 5, message: "Not found: Dataset acme-fin-bi:tmp" });
  });

  it("links a script child to its parent, with the child's location", () => {
    const child = asJob(
      parse(
        v2Change(
          job({ jobId: "script_job_9f_0", parentJobName: "projects/acme-fin-bi/jobs/bquxjob_parent" }),
        ),
      ),
    );
    expect(child.parentJobId).toBe("acme-fin-bi:US.bquxjob_parent");
    const parent = asJob(parse(v2Change(job({ statementType: "SCRIPT" }))));
    expect(parent.statementType).toBe("SCRIPT");
    expect(parent.parentJobId).toBeUndefined();
  });

  it("reads a DDL job whose queryStats is empty as zero bytes", () => {
    const entry = v2Change(job({ statementType: "DROP_TABLE" })) as Record<string, any>;
    entry.protoPayload.metadata.jobChange.job.jobStats.queryStats = {};
    delete entry.protoPayload.metadata.jobChange.job.jobStats.totalSlotMs;
    expect(asJob(parse(entry))).toMatchObject({
      billedBytes: 0n,
      slotMs: 0n,
      billedBytesPresent: false,
      statementType: "DROP_TABLE",
    });
  });

  it("strips partition and snapshot decorators and repeats from referenced tables", () => {
    const parsed = asJob(
      parse(
        v2Change(
          job({
            referencedTables: [
              "projects/a-proj1/datasets/d/tables/t$20261001",
              "projects/a-proj1/datasets/d/tables/t",
              "projects/b-proj2/datasets/d/tables/u@1700000000000",
            ],
          }),
        ),
      ),
    );
    expect(parsed.referencedTables).toEqual([
      "projects/a-proj1/datasets/d/tables/t",
      "projects/b-proj2/datasets/d/tables/u",
    ]);
  });

  it("reads int64 values written as JSON numbers too, and never through a float", () => {
    const entry = v2Change(job()) as Record<string, any>;
    entry.protoPayload.metadata.jobChange.job.jobStats.queryStats.totalBilledBytes = 10485760;
    expect(asJob(parse(entry)).billedBytes).toBe(10485760n);
    const big = v2Change(job({ billedBytes: 9007199254740993n, processedBytes: 9007199254740993n }));
    expect(asJob(parse(big)).billedBytes).toBe(9007199254740993n);
  });

  it("reads the BigQuery sink's metadataJson string form", () => {
    const entry = v2Change(job()) as Record<string, any>;
    entry.protoPayload.metadataJson = JSON.stringify(entry.protoPayload.metadata);
    delete entry.protoPayload.metadata;
    expect(asJob(parse(entry)).billedBytes).toBe(3097493504n);
  });

  it("reads the principal from principalSubject when there is no email, and the delegation chain", () => {
    const entry = v2Change(job()) as Record<string, any>;
    entry.protoPayload.authenticationInfo = {
      principalSubject: "principal://iam.googleapis.com/locations/global/workforcePools/acme/subject/u-42",
      serviceAccountDelegationInfo: [
        { firstPartyPrincipal: { principalEmail: "runner@acme-etl.iam.gserviceaccount.com" } },
      ],
    };
    expect(asJob(parse(entry))).toMatchObject({
      principal: "principal://iam.googleapis.com/locations/global/workforcePools/acme/subject/u-42",
      delegation: ["runner@acme-etl.iam.gserviceaccount.com"],
    });
    delete entry.protoPayload.authenticationInfo;
    expect(asJob(parse(entry)).principal).toBe("");
  });

  it("reads a table read's billing project from its job name, or none when redacted", () => {
    const read = parse(
      v2TableRead({
        table: "projects/acme-mkt-lake/datasets/campaigns/tables/leads",
        principal: "pat@partner-x.example",
        readerJobName: "projects/px-analytics/jobs/bquxjob_77",
        timeMs: Date.parse("2026-10-02T10:00:00Z"),
        insertId: "r1",
      }),
    ) as TableReadEvent;
    expect(read).toMatchObject({
      kind: "table_read",
      dataProject: "acme-mkt-lake",
      reason: "JOB",
      readerBillingProject: "px-analytics",
      readerJobId: "px-analytics:bquxjob_77",
      entryKey: "projects/acme-mkt-lake/logs/cloudaudit.googleapis.com%2Fdata_access#r1",
    });
    const redacted = parse(
      v2TableRead({
        table: "projects/acme-mkt-lake/datasets/campaigns/tables/leads",
        principal: "",
        timeMs: 0,
        insertId: "r2",
      }),
    ) as TableReadEvent;
    expect(redacted.readerBillingProject).toBeUndefined();
    expect(redacted.readerJobId).toBeUndefined();
  });
});

describe("v1 AuditData", () => {
  it("reads load jobs as IMPORT, a dry run, and a reservation", () => {
    const load = asJob(parse(v1Completed(job({ jobType: "IMPORT", statementType: "" }))));
    expect(load.jobType).toBe("IMPORT");
    const entry = v1Completed(job({ reservation: "acme-platform:US.prod" })) as Record<string, any>;
    entry.protoPayload.serviceData.jobCompletedEvent.job.jobConfiguration.dryRun = true;
    expect(asJob(parse(entry))).toMatchObject({ dryRun: true, reservation: "acme-platform:US.prod" });
  });

  it("calls a query with neither bytes nor slots nor error a cache hit, as Google's v1 view does", () => {
    expect(asJob(parse(v1Completed(job({ cacheHit: true })))).cacheHit).toBe(true);
    expect(asJob(parse(v1Completed(job()))).cacheHit).toBe(false);
  });

  it("treats an empty error object as success and a filled one as failure", () => {
    expect(asJob(parse(v1Completed(job()))).error).toBeUndefined();
    expect(asJob(parse(v1Completed(job({ error: { code: 3, message: "Syntax error" } })))).error).toEqual({
      code: 3,
      message: "Syntax error",
    });
  });
});

describe("bad input is rejected with where and why", () => {
  it("rejects text that is not JSON, naming the position", () => {
    const parsed = asRejected(parseLine('{"insertId": "x", ', source));
    expect(parsed.reason).toBe("invalid_json");
    expect(parsed.detail).toMatch(/position|JSON/);
    expect(parsed.raw).toBe('{"insertId": "x", ');
    expect(parsed.source).toEqual(source);
  });

  it("rejects JSON that is not a LogEntry object, and entries of other services", () => {
    expect(asRejected(parseLine("[1,2]", source)).reason).toBe("not_bigquery_audit");
    expect(asRejected(parseLine("42", source)).reason).toBe("not_bigquery_audit");
    expect(asRejected(parse({ jsonPayload: { message: "hello" } })).detail).toContain("jsonPayload");
    const gce = asRejected(
      parse({
        protoPayload: { serviceName: "compute.googleapis.com", methodName: "v1.compute.instances.insert" },
      }),
    );
    expect(gce.detail).toBe(
      'protoPayload.serviceName: expected "bigquery.googleapis.com", found "compute.googleapis.com"',
    );
  });

  it("rejects a completed job without an end time, naming the field", () => {
    const entry = v2Change(job()) as Record<string, any>;
    delete entry.protoPayload.metadata.jobChange.job.jobStats.endTime;
    const parsed = asRejected(parse(entry));
    expect(parsed.reason).toBe("missing_field");
    expect(parsed.detail).toBe(
      "protoPayload.metadata.jobChange.job.jobStats.endTime: expected an RFC 3339 timestamp, found nothing",
    );
  });

  it("rejects a billed-bytes value that is not an int64, and negative counts", () => {
    const entry = v2Change(job()) as Record<string, any>;
    entry.protoPayload.metadata.jobChange.job.jobStats.queryStats.totalBilledBytes = "12.5";
    const parsed = asRejected(parse(entry));
    expect(parsed.reason).toBe("invalid_field");
    expect(parsed.detail).toBe(
      'protoPayload.metadata.jobChange.job.jobStats.queryStats.totalBilledBytes: expected an int64 (a string of digits), found "12.5"',
    );
    entry.protoPayload.metadata.jobChange.job.jobStats.queryStats.totalBilledBytes = "-5";
    expect(asRejected(parse(entry)).detail).toContain("non-negative");
  });

  it("rejects a job name that is not projects/P/jobs/J and a timestamp that is not RFC 3339", () => {
    const entry = v2Change(job()) as Record<string, any>;
    entry.protoPayload.metadata.jobChange.job.jobName = "bquxjob_1";
    expect(asRejected(parse(entry)).detail).toContain("jobName: expected projects/PROJECT/jobs/JOB");
    const late = v2Change(job()) as Record<string, any>;
    late.protoPayload.metadata.jobChange.job.jobStats.endTime = "yesterday";
    expect(asRejected(parse(late)).detail).toContain('found "yesterday"');
  });

  it("never throws on hostile shapes", () => {
    const hostile = [
      null,
      "str",
      { protoPayload: "x" },
      { protoPayload: { metadata: { jobChange: "x" } } },
      { protoPayload: { metadata: { jobChange: { job: [] } } } },
      { protoPayload: { serviceData: { jobCompletedEvent: { job: { jobName: 5 } } } } },
      { protoPayload: { metadataJson: "{not json" } },
    ];
    for (const entry of hostile) expect(() => parse(entry)).not.toThrow();
    expect(asRejected(parse({ protoPayload: { metadataJson: "{not json" } })).detail).toContain(
      "metadataJson",
    );
  });
});
