// The bin runs dist/ (src/ compiled by npm run build) only while that build is newer than every
// source, else the TypeScript sources: an edit must never run against a stale build.
import { mkdir, mkdtemp, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
// @ts-expect-error: plain JavaScript beside the bin, without types
import { BUILD_STAMP, entryPoint } from "../bin/entry-point.js";

async function project() {
  const root = await mkdtemp(join(tmpdir(), "entry-point-"));
  await mkdir(join(root, "src/cli/deep"), { recursive: true });
  await writeFile(join(root, "src/cli/main.ts"), "");
  await writeFile(join(root, "src/cli/deep/other.ts"), "");
  return root;
}

const at = (root: string, path: string, seconds: number) => utimes(join(root, path), seconds, seconds);

/** A project with a build made at `builtAt` and its sources last changed at `main` and `other` (seconds). */
async function built(builtAt: number, main: number, other: number) {
  const root = await project();
  await mkdir(join(root, "dist"));
  await writeFile(join(root, BUILD_STAMP), "");
  await at(root, "src/cli/main.ts", main);
  await at(root, "src/cli/deep/other.ts", other);
  await at(root, BUILD_STAMP, builtAt);
  return root;
}

describe("entryPoint", () => {
  it("runs the sources when there is no build", async () => {
    const root = await project();
    expect(entryPoint(root, "cli/main")).toBe(join(root, "src/cli/main.ts"));
  });

  it("runs the build when it is newer than every source", async () => {
    const root = await built(2_000, 1_000, 1_000);
    expect(entryPoint(root, "cli/main")).toBe(join(root, "dist/cli/main.js"));
  });

  it("runs the build when there are no sources beside it", async () => {
    const root = await mkdtemp(join(tmpdir(), "entry-point-"));
    await mkdir(join(root, "dist"));
    await writeFile(join(root, BUILD_STAMP), "");
    expect(entryPoint(root, "cli/main")).toBe(join(root, "dist/cli/main.js"));
  });

  it("runs the sources when any source, however deep, is newer than the build", async () => {
    const root = await built(2_000, 1_000, 3_000);
    expect(entryPoint(root, "cli/main")).toBe(join(root, "src/cli/main.ts"));
  });
});
