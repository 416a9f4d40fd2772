// The practical ceiling: split lines and JSON.parse each, nothing else but the same totals the
// other contenders compute (billed bytes per billing project over completed jobs, each job once,
// script parents left out). Prints the totals as JSON.
import { createReadStream } from "node:fs";

const file = process.argv[2] as string;
const totals = new Map<string, bigint>();
const seen = new Set<string>();
let carry = "";
let entries = 0;

function take(line: string): void {
  if (line.length === 0) return;
  entries++;
  let entry: any;
  try {
    entry = JSON.parse(line);
  } catch {
    return;
  }
  const payload = entry?.protoPayload;
  let project: string | undefined;
  let jobId: string | undefined;
  let billed: unknown;
  let statementType: unknown;
  const change = payload?.metadata?.jobChange;
  if (change?.after === "DONE") {
    const job = change.job;
    const parts = String(job?.jobName ?? "").split("/");
    project = parts[1];
    jobId = `${project}:${entry.resource?.labels?.location ?? ""}.${parts[3]}`;
    billed = job?.jobStats?.queryStats?.totalBilledBytes;
    statementType = job?.jobConfig?.queryConfig?.statementType;
  } else if (payload?.methodName === "jobservice.jobcompleted") {
    const job = payload.serviceData?.jobCompletedEvent?.job;
    project = job?.jobName?.projectId;
    jobId = `${project}:${job?.jobName?.location ?? ""}.${job?.jobName?.jobId}`;
    billed = job?.jobStatistics?.totalBilledBytes;
    statementType = job?.jobConfiguration?.query?.statementType;
  } else return;
  if (!project || typeof billed !== "string" || !/^\d+$/.test(billed) || statementType === "SCRIPT") {
    if (project && jobId && billed === undefined) seen.add(jobId);
    return;
  }
  if (seen.has(jobId as string)) return;
  seen.add(jobId as string);
  totals.set(project, (totals.get(project) ?? 0n) + BigInt(billed));
}

const stream = createReadStream(file, { encoding: "utf8", highWaterMark: 1 << 20 });
for await (const chunk of stream) {
  const text = carry + chunk;
  let start = 0;
  for (let nl = text.indexOf("\n"); nl >= 0; nl = text.indexOf("\n", start)) {
    take(text.slice(start, nl));
    start = nl + 1;
  }
  carry = text.slice(start);
}
take(carry);
console.log(
  JSON.stringify({ entries, totals: Object.fromEntries([...totals].map(([k, v]) => [k, v.toString()])) }),
);
