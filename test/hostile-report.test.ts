// Log strings in report.html and report.md (issue 12): a principal or department named like
// markup renders as text, wherever it appears (tables, chart labels, titles).
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { assessEntry, ChargebackPipeline, entryContext } from "../src/core/pipeline.ts";
import { parseRegistry } from "../src/core/registry.ts";
import { renderHtml } from "../src/report/html.ts";
import { renderMarkdown } from "../src/report/markdown.ts";
import { buildSummary } from "../src/report/summary.ts";

const ROOT = new URL("..", import.meta.url);
const HOSTILE_DOMAIN = `e.example</style><script>alert(1)</script>"'[a](http://evil.example)|![i](http://evil.example/i.png)<img src=x>`;

function hostileReport() {
  const registry = parseRegistry(
    readFileSync(new URL("sample/acme/registry.yaml", ROOT), "utf8"),
    "registry.yaml",
  );
  const context = entryContext(registry);
  const pipeline = new ChargebackPipeline({ registry });
  const lines = readFileSync(new URL("sample/acme/logs/2026-10-v2-and-v1.ndjson", ROOT), "utf8")
    .split("\n")
    .filter(Boolean)
    .slice(0, 400);
  for (const [i, line] of lines.entries()) {
    let text = line;
    // (the sample holds some broken lines on purpose: those stay as they are)
    const entry = line.startsWith('{"') && line.endsWith("}") ? JSON.parse(line) : undefined;
    if (i % 3 === 0 && entry?.protoPayload?.authenticationInfo) {
      entry.protoPayload.authenticationInfo.principalEmail = `mallory${i}@${HOSTILE_DOMAIN}`;
      text = JSON.stringify(entry);
    }
    const assessed = assessEntry(text, { file: "x", line: i + 1 }, context);
    pipeline.accept(assessed.kind === "job" ? { kind: "job", job: assessed.job } : assessed);
  }
  const report = pipeline.report();
  const summary = buildSummary(report, { inputs: ["x"], bytesRead: 0, elapsedMs: 1 });
  expect(report.departmentCosts.some((row) => row.department.includes("<script>"))).toBe(true);
  return { report, summary };
}

describe("log strings in the rendered reports", () => {
  const { report, summary } = hostileReport();

  it("report.html: no markup from the logs survives, in tables, charts or titles", () => {
    const html = renderHtml(report);
    expect(html).not.toContain("<script>");
    expect(html).not.toContain("</style><script>");
    expect(html).not.toContain("<img src=x>");
    expect(html).not.toMatch(/<[^>]*\s(?:on\w+|src)=/i);
    expect(html).toContain("&lt;/style&gt;&lt;script&gt;");
  });

  it("report.md: a log string cannot open a link, an image, HTML or a table cell", () => {
    const markdown = renderMarkdown(report, summary);
    const rows = markdown
      .split("\n")
      .filter((line) => line.includes("mallory") || line.includes("evil.example"));
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) {
      expect(row).not.toMatch(/(?<!\\)\[a\]/);
      expect(row).not.toMatch(/(?<!\\)!\[i\]/);
      expect(row).not.toMatch(/(?<!\\)</);
      // the table keeps its columns: every | inside a cell is escaped
      const header = markdown.split("\n").find((line) => line.startsWith("| period | department |"));
      if (row.startsWith("| 2026") && header && row.includes("external:"))
        expect(row.split(/(?<!\\)\|/).length).toBeGreaterThanOrEqual(3);
    }
  });
});
