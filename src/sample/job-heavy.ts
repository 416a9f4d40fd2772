// The job-heavy mix for benchmarks: what many real exports look like once the RUNNING
// jobInsertion entries are filtered out: v2 jobChange DONE entries only, 1-6 referenced tables
// each, ~300 principals of the sample organisation, and about 15 % of jobs with a finding
// (a department's principal in another department's project, or a partner's user). The same seed
// always gives the same lines.
import { billedFor, type SampleJob, v2Change } from "./entries.ts";
import { hex, random } from "./generate.ts";
import { TABLES } from "./organisation.ts";

/** Departments whose principals the registry matches by a domain wildcard, with their own projects. */
const HOMES = [
  { domain: "mkt.acme.example", project: "acme-mkt-bi", lake: "acme-mkt-lake" },
  { domain: "ds.acme.example", project: "acme-ds-bi", lake: "acme-ds-lake" },
] as const;
/** Other departments' projects: a principal billed here rides for free. */
const OTHER_PROJECTS = ["acme-fin-bi", "acme-sales-bi"] as const;
const PRINCIPALS_PER_HOME = 145;
const PARTNER_USERS = 10;
const SHARED_TABLES = Object.values(TABLES);

/** Share of jobs with a finding: cross-department free rides, and partners' jobs in our projects. */
const CROSS_SHARE = 0.13;
const PARTNER_SHARE = 0.02;
/** Share of entries Google delivers twice (at-least-once export). */
const REPEAT_SHARE = 0.02;

/** Endless job-heavy NDJSON lines (without newline), jobs ending in time order from `startMs`. */
export function* generateJobHeavyEntries(seed: number, startMs = Date.UTC(2025, 0, 1)): Generator<string> {
  const rand = random(seed);
  let at = startMs;
  for (let n = 0; ; n++) {
    at += 1 + Math.floor(rand() * 20_000);
    const home = HOMES[Math.floor(rand() * HOMES.length)] as (typeof HOMES)[number];
    const who = rand();
    let principal = `user${Math.floor(rand() * PRINCIPALS_PER_HOME)}@${home.domain}`;
    let project: string = home.project;
    if (who < PARTNER_SHARE) principal = `user${Math.floor(rand() * PARTNER_USERS)}@partner-x.example`;
    else if (who < PARTNER_SHARE + CROSS_SHARE)
      project = OTHER_PROJECTS[Math.floor(rand() * OTHER_PROJECTS.length)] as string;
    const tables: string[] = [];
    const count = 1 + Math.floor(rand() * 6);
    for (let t = 0; t < count; t++) {
      const own = `projects/${home.lake}/datasets/d${Math.floor(rand() * 8)}/tables/t${Math.floor(rand() * 40)}`;
      const table = rand() < 0.5 ? own : (SHARED_TABLES[Math.floor(rand() * SHARED_TABLES.length)] as string);
      if (!tables.includes(table)) tables.push(table);
    }
    const processed = BigInt(Math.floor(rand() * rand() * 200 * 2 ** 30)) + BigInt(n % 1000);
    const durationMs = 500 + Math.floor(rand() * 60_000);
    const job: SampleJob = {
      project,
      jobId: `bquxjob_${hex(rand, 8)}_${hex(rand, 11)}`,
      location: rand() < 0.8 ? "US" : "EU",
      principal,
      statementType: "SELECT",
      jobType: "QUERY",
      query: `SELECT * FROM \`${tables[0]
        ?.split("/")
        .filter((_, i) => i % 2 === 1)
        .join(".")}\` WHERE day = CURRENT_DATE()`,
      createMs: at - durationMs,
      endMs: at,
      processedBytes: processed,
      billedBytes: billedFor(processed),
      slotMs: processed / 4_000_000n + BigInt(Math.floor(rand() * 5000)),
      referencedTables: tables,
      reservation: "unreserved",
      cacheHit: false,
      insertId: `${hex(rand, 6)}${n.toString(36)}`,
    };
    const line = JSON.stringify(v2Change(job));
    yield line;
    if (rand() < REPEAT_SHARE) yield line;
  }
}
