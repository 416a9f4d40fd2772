// A headless Chromium for page tests on any machine: Debian's when installed, else the one
// @sparticuz/chromium ships inside its npm package (nothing is downloaded at install or run).
import { existsSync } from "node:fs";
import sparticuz from "@sparticuz/chromium";
import { type Browser, chromium } from "playwright-core";

const SYSTEM_CHROMIUM = "/usr/bin/chromium";

// Without the background-networking flags Chromium keeps dialling Google's hosts, which this
// closed network refuses; the page under test needs no network at all.
const QUIET = [
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export async function launchChromium(): Promise<Browser> {
  if (existsSync(SYSTEM_CHROMIUM)) {
    return chromium.launch({
      executablePath: SYSTEM_CHROMIUM,
      args: ["--headless", "--no-sandbox", ...QUIET],
    });
  }
  return chromium.launch({
    executablePath: await sparticuz.executablePath(),
    args: [...sparticuz.args, ...QUIET],
    headless: true,
  });
}
