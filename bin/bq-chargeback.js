#!/usr/bin/env -S node --max-semi-space-size=2
// --max-semi-space-size=2: V8's nursery otherwise grows to 16 MB a semi-space; a report's garbage
// is short-lived per entry, so a 2 MB nursery keeps peak RSS ~30 MB lower and is no slower
// (docs/performance.md). V8 takes it only at start, hence here and not in the code.
// Entry point of the bq-chargeback command. It runs src/ compiled into dist/ by `npm run build`
// (npm install and npm ci run it) while that build is newer than every source, else the
// TypeScript sources themselves through Node's own type stripping (Node 22.18 and later): an
// edit is run at once, never a stale build (entry-point.js).
import { fileURLToPath, pathToFileURL } from "node:url";

const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  console.error(
    `bq-chargeback needs Node.js 22.18 or later (found ${process.versions.node}). ` +
      "Run it through npm (npm start, npx bq-chargeback) to use the Node 22 the project installs.",
  );
  process.exit(2);
}
// main() answers every error with one line; this is for what escapes it (an error event no one
// listened for): still one line, the stack only with --debug.
const debug = process.argv.includes("--debug") || process.env.BQ_CHARGEBACK_DEBUG === "1";
const fail = (error) => {
  console.error(debug ? error : `bq-chargeback: ${String(error?.message ?? error).split("\n")[0]}`);
  process.exit(1);
};
process.on("uncaughtException", fail);
process.on("unhandledRejection", fail);
const { entryPoint } = await import("./entry-point.js");
const entry = entryPoint(fileURLToPath(new URL("..", import.meta.url)), "cli/main");
const { main } = await import(pathToFileURL(entry).href);
main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
}, fail);
