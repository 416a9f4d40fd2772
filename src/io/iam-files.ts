// The IAM audit run from files: exports read, audited, lines of findings looked up; and its
// output files (iam_findings.csv, iam_rejected.ndjson).
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { auditIam, type IamAudit } from "../core/iam/audit.ts";
import { RoleTable } from "../core/iam/roles.ts";
import { IAM_FINDING_COLUMNS, iamFindingCells } from "../core/iam/rows.ts";
import type { GrantUsage } from "../core/iam/usage.ts";
import type { Registry } from "../core/registry.ts";
import { csvLine } from "./csv.ts";
import { type IamExport, type IamInput, loadIamExports } from "./iam-exports.ts";

export interface IamRun {
  audit: IamAudit;
  /** RFC 3339: when the audit ran. */
  auditTime: string;
  inputs: string[];
  authorizedResources: number;
}

/** The audit of what the exports hold: their grants, with their roles and project numbers. */
export function auditExport(exported: IamExport, registry: Registry, usage?: GrantUsage): IamAudit {
  return auditIam({
    grants: exported.grants,
    registry,
    roles: new RoleTable(exported.roles),
    projectNumbers: exported.projectNumbers,
    usage,
    problems: exported.problems,
  });
}

/** Reads the exports and audits them; lines of findings and problems are looked up for the output. */
export async function runIamAudit(
  inputs: readonly IamInput[],
  registry: Registry,
  usage: GrantUsage | undefined,
  auditTime: string,
): Promise<IamRun> {
  const exported = await loadIamExports(inputs);
  const audit = auditExport(exported, registry, usage);
  const located = <T extends { source: { file: string; line: number; path: string } }>(item: T): T =>
    item.source.line > 0
      ? item
      : {
          ...item,
          source: {
            ...item.source,
            line: exported.locator.line(item.source.file, pathKeys(item.source.path)),
          },
        };
  return {
    audit: { ...audit, findings: audit.findings.map(located), problems: audit.problems.map(located) },
    auditTime,
    inputs: exported.files,
    authorizedResources: exported.authorizedResources,
  };
}

/** `results[3].policy.bindings[1]` back into keys. */
function pathKeys(path: string): (string | number)[] {
  const keys: (string | number)[] = [];
  for (const match of path.matchAll(/([^.[\]]+)|\[(\d+)\]/g))
    keys.push(match[2] !== undefined ? Number(match[2]) : (match[1] as string));
  return keys;
}

/** iam_findings.csv and iam_rejected.ndjson (every binding that could not be judged, with where and why). */
export async function writeIamFiles(dir: string, run: IamRun): Promise<string[]> {
  const rows = run.audit.findings.map((finding) => csvLine(iamFindingCells(finding, run.auditTime)));
  await writeFile(join(dir, "iam_findings.csv"), [csvLine(IAM_FINDING_COLUMNS), ...rows].join(""));
  const rejected = run.audit.problems.map((problem) =>
    JSON.stringify({
      file: problem.source.file,
      line: problem.source.line,
      path: problem.source.path,
      reason: problem.reason,
      detail: problem.detail,
    }),
  );
  await writeFile(join(dir, "iam_rejected.ndjson"), rejected.map((line) => `${line}\n`).join(""));
  return ["iam_findings.csv", "iam_rejected.ndjson"];
}
