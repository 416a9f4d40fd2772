// The SQL files of sql/, read with their shared parts: a line `-- include: common/NAME.sql`
// stands for that file's query (its comments dropped), so a rule the reports share, such as
// counting each job once, is written in one file. Every runner and test reads SQL through here.
import { readFileSync } from "node:fs";

const SQL_ROOT = new URL("../../sql/", import.meta.url);
const INCLUDE = /^([ \t]*)-- include: (common\/[\w-]+\.sql)[ \t]*$/gm;

/** A file of sql/ (e.g. `reports/department_costs.sql`), includes expanded, without a final `;`. */
export function readSql(path: string): string {
  const text = readFileSync(new URL(path, SQL_ROOT), "utf8").replace(/;\s*$/, "");
  return text.replace(INCLUDE, (_, indent: string, included: string) =>
    readSql(included)
      .split("\n")
      .filter((line) => !line.startsWith("--"))
      .map((line) => (line === "" ? line : `${indent}${line}`))
      .join("\n")
      .trimEnd(),
  );
}
