// One job, several copies (issue 11 C.12, C.13): the key drops the location, and the most complete
// copy is the one counted, in the core, on the CLI, and in the SQL reports (sql.test.ts).
import { readFileSync } from "node:fs";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runReport } from "../src/cli/report-command.ts";
import { jobKey } from "../src/core/job-copies.ts";
import { assessEntry, ChargebackPipeline, entryContext } from "../src/core/pipeline.ts";
import { parseRegistry } from "../src/core/registry.ts";
import { parseCsv } from "../src/io/csv.ts";
import { jobCopies } from "./support/job-copies.ts";

const REGISTRY_FILE = new URL("./fixtures/functions/registry.yaml", import.meta.url).pathname;
const registry = parseRegistry(readFileSync(REGISTRY_FILE, "utf8"), "registry.yaml");

describe("the de-duplication key of a job", () => {
  it("is PROJECT:JOB whatever the location and its case", () => {
    expect(jobKey("acme-fin-bi:US.bquxjob_4f1a")).toBe("acme-fin-bi:bquxjob_4f1a");
    expect(jobKey("acme-fin-bi:us.bquxjob_4f1a")).toBe("acme-fin-bi:bquxjob_4f1a");
    expect(jobKey("acme-fin-bi:europe-west1.bquxjob_4f1a")).toBe("acme-fin-bi:bquxjob_4f1a");
    expect(jobKey("acme-fin-bi:bquxjob_4f1a")).toBe("acme-fin-bi:bquxjob_4f1a");
  });

  it("keeps a domain-scoped project whole", () => {
    expect(jobKey("example.com:analytics:EU.job_1")).toBe("example.com:analytics:job_1");
    expect(jobKey("example.com:analytics:job_1")).toBe("example.com:analytics:job_1");
  });
});

function run(lines: string[]) {
  const pipeline = new ChargebackPipeline({ registry });
  const context = entryContext(registry);
  const outcomes = lines.map((line, i) =>
    pipeline.accept(assessEntry(line, { file: "copies", line: i + 1 }, context)),
  );
  return { outcomes, report: pipeline.report(), counters: pipeline.counters };
}

describe("copies of one job in the pipeline", () => {
  const copies = jobCopies();

  it("counts a job seen with and without its location (and in lower case) once", () => {
    const { report, counters } = run([copies.full, copies.noLocation, copies.lowerCaseLocation]);
    expect(counters.jobs).toBe(1);
    expect(counters.duplicateJobs).toBe(2);
    expect(report.chargebackMatrix.reduce((sum, row) => sum + row.jobs, 0n)).toBe(1n);
  });

  it("keeps the copy with a principal and statistics over an earlier one without", () => {
    const { outcomes, report, counters } = run([
      copies.emptyAuthentication,
      copies.noStatistics,
      copies.full,
    ]);
    expect(counters.jobs).toBe(1);
    expect(report.topPrincipals.map((row) => row.principal)).toEqual(["pat@partner-x.example"]);
    // the copy kept prices the job: 549755813888 B at 6.25 USD/TiB = 3.125 USD
    expect(report.totals.compute).toBe(3_125_000_000n);
    expect(outcomes[0]?.kind).toBe("held");
    expect(outcomes[1]).toMatchObject({
      kind: "duplicate",
      copy: { dropped: { source: { line: 1 } }, kept: { source: { line: 2 } } },
    });
    expect(outcomes[2]).toMatchObject({
      kind: "duplicate",
      copy: { dropped: { source: { line: 2 } }, kept: { source: { line: 3 }, completeness: 15 } },
    });
  });

  it("refuses a job once all entries are in: the set of keys seen is gone, so it would count again", () => {
    const pipeline = new ChargebackPipeline({ registry });
    const context = entryContext(registry);
    pipeline.accept(assessEntry(copies.full, { file: "copies", line: 1 }, context));
    pipeline.report();
    expect(() => pipeline.accept(assessEntry(copies.full, { file: "copies", line: 2 }, context))).toThrow(
      /after all entries were in/,
    );
    expect(pipeline.counters.jobs).toBe(1);
  });

  it("does not let a later, less complete copy replace a complete one", () => {
    const { report, outcomes } = run([copies.full, copies.emptyAuthentication]);
    expect(report.topPrincipals.map((row) => row.principal)).toEqual(["pat@partner-x.example"]);
    expect(outcomes[1]).toMatchObject({ kind: "duplicate", copy: { dropped: { source: { line: 2 } } } });
  });
});

describe("copies of one job on the command line", () => {
  it("writes one job_costs row, from the most complete copy, and says in duplicates.ndjson which won", async () => {
    const copies = jobCopies();
    const dir = await mkdtemp(join(tmpdir(), "bqcb-copies-"));
    const logs = join(dir, "copies.ndjson");
    await writeFile(logs, `${[copies.emptyAuthentication, copies.noLocation, copies.full].join("\n")}\n`);
    const out = join(dir, "out");
    const { summary } = await runReport({
      logs: [logs],
      registryFile: REGISTRY_FILE,
      granularity: "month",
      outDir: out,
      progress: false,
    });
    expect(summary.jobs).toBe(1);
    expect(summary.duplicate_job_entries).toBe(2);
    const [header, ...rows] = parseCsv(await readFile(join(out, "job_costs.csv"), "utf8"));
    expect(rows).toHaveLength(1);
    const principal = header?.cells.indexOf("principal") ?? -1;
    expect(rows[0]?.cells[principal]).toBe("pat@partner-x.example");
    const duplicates = (await readFile(join(out, "duplicates.ndjson"), "utf8"))
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(duplicates).toEqual([
      {
        job_key: "acme-fin-bi:bquxjob_4f1a_19b2c3d4e5f",
        dropped: { source: `${logs}:1`, audit_format: "v2", completeness: 7 },
        kept: { source: `${logs}:2`, audit_format: "v2", completeness: 13 },
      },
      {
        job_key: "acme-fin-bi:bquxjob_4f1a_19b2c3d4e5f",
        dropped: { source: `${logs}:2`, audit_format: "v2", completeness: 13 },
        kept: { source: `${logs}:3`, audit_format: "v2", completeness: 15 },
      },
    ]);
  });
});
