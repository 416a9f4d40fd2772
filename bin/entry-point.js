// Which code the bin runs: dist/ (src/ compiled by `npm run build`, which npm install and npm ci
// run) while it is newer than every file of src/, else the TypeScript sources through Node's type
// stripping. Both are the same program; the compiled one starts ~30 MB smaller in every thread
// (type stripping keeps its own state per isolate: docs/performance.md). An edit to src/ is run at
// once, never a stale build.
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";

/** Written by `npm run build` after tsc; its time is the build's. */
export const BUILD_STAMP = "dist/.built";

function newestMtimeMs(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    const time = entry.isDirectory() ? newestMtimeMs(path) : statSync(path).mtimeMs;
    if (time > newest) newest = time;
  }
  return newest;
}

/** The module to import for `relative` (under src/, e.g. "cli/main"), in the project at `root`. */
export function entryPoint(root, relative) {
  const source = join(root, "src", `${relative}.ts`);
  let built;
  try {
    built = statSync(join(root, BUILD_STAMP)).mtimeMs;
  } catch {
    return source;
  }
  let sources = 0;
  try {
    sources = newestMtimeMs(join(root, "src"));
  } catch {
    // no sources beside the build (an installed copy of dist/ alone): the build is all there is
  }
  return built >= sources ? join(root, "dist", `${relative}.js`) : source;
}
