// `node src/deploy/registry-projects.ts REGISTRY.yaml`: the registered projects, one a line.
// deploy/deploy.sh grants the report's service account what reading their storage needs on
// exactly these projects (least privilege), not on a whole organisation or folder.
import { readFileSync } from "node:fs";
import { ConfigError, parseRegistry } from "../core/registry.ts";

const file = process.argv[2];
if (!file) {
  process.stderr.write("usage: registry-projects.ts REGISTRY.yaml\n");
  process.exit(2);
}
try {
  const registry = parseRegistry(readFileSync(file, "utf8"), file);
  process.stdout.write(
    [...registry.projectIndex.keys()]
      .sort()
      .map((project) => `${project}\n`)
      .join(""),
  );
} catch (error) {
  if (!(error instanceof ConfigError) && (error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  process.stderr.write(`${(error as Error).message}\n`);
  process.exit(2);
}
