// A hostile or careless registry (issue 12, defect 8): bounded time and memory, and a located
// error; principal patterns matched in time linear in the principal.
import { describe, expect, it } from "vitest";
import { classifyPrincipal } from "../src/core/attribute.ts";
import { globMatcher } from "../src/core/registry/principals.ts";
import { ConfigError, parseRegistry } from "../src/core/registry.ts";
import { configError } from "./support/config-error.ts";

const yaml = (...lines: string[]) => `${lines.join("\n")}\n`;
const HEAD = ["organization:", "  domains: [acme.example]", "departments:"];

describe("8. YAML aliases and size are bounded", () => {
  it("100 000 aliases are refused at the first one past the limit, with its line", () => {
    const text = yaml(
      ...HEAD,
      "  - id: finance",
      "    projects: [&p acme-fin-bi]",
      "    principals:",
      ...Array.from({ length: 100_000 }, () => "      - *p"),
    );
    const error = configError(text);
    expect(error.message).toMatch(/^registry\.yaml:107: \(YAML\): expected at most 100 aliases/);
  });

  it("an alias bomb (aliases of aliases) is refused the same way", () => {
    const levels = ["x0: &a0 [carol@acme.example]"];
    for (let i = 1; i < 12; i++)
      levels.push(
        `x${i}: &a${i} [${Array(10)
          .fill(`*a${i - 1}`)
          .join(", ")}]`,
      );
    expect(configError(yaml(...levels)).message).toMatch(/expected at most 100 aliases/);
  });

  it("a few aliases still work", () => {
    const registry = parseRegistry(
      yaml(
        ...HEAD,
        "  - id: finance",
        "    projects: &fin [acme-fin-bi]",
        "  - id: sales",
        "    projects: [acme-sales-bi]",
      ),
      "registry.yaml",
    );
    expect(registry.departments.map((d) => d.id)).toEqual(["finance", "sales"]);
  });

  it("a 50 MB file is refused before it is parsed", () => {
    const text = yaml(...HEAD, "  - id: finance", `    name: "${"x".repeat(50 * 1024 * 1024)}"`);
    expect(configError(text).message).toMatch(
      /^registry\.yaml:1: \(file\): expected a registry of at most 4 MiB/,
    );
  });

  it.each([
    ["a duplicate key", yaml(...HEAD, "  - id: finance", "    id: sales"), 5],
    ["a tab for indentation", yaml(...HEAD, "  - id: finance", "\tprojects: [a]"), 5],
    ["a merge key", yaml(...HEAD, "  - id: finance", "    <<: {projects: [a]}"), 5],
  ])("%s is a located error", (_name, text, line) => {
    expect(configError(text).line).toBe(line);
  });
});

describe("8. principal patterns match in linear time", () => {
  it("a pattern with several * on a long principal answers at once", () => {
    const registry = parseRegistry(
      yaml(
        ...HEAD,
        "  - id: finance",
        "    projects: [acme-fin-bi]",
        '    principals: ["a*b*c*d*e@acme.example"]',
      ),
      "registry.yaml",
    );
    const long = `a${"bcd".repeat(200_000)}x@acme.example`;
    expect(classifyPrincipal(long, registry)).toMatchObject({ kind: "organization" });
    expect(classifyPrincipal(`a${"bcd".repeat(200_000)}e@acme.example`, registry)).toMatchObject({
      department: "finance",
      kind: "registered",
    });
  });

  it("answers as the glob's definition says: * is any run of characters but @", () => {
    const cases: [string, string, boolean][] = [
      ["etl-*@acme.example", "etl-nightly@acme.example", true],
      ["etl-*@acme.example", "etl-@acme.example", true],
      ["etl-*@acme.example", "xetl-a@acme.example", false],
      ["etl-*@acme.example", "etl-a@b@acme.example", false],
      ["*-bot@*.acme.example", "ci-bot@build.acme.example", true],
      ["*-bot@*.acme.example", "ci-bot@acme.example", false],
      ["a*a@acme.example", "a@acme.example", false],
      ["a*a@acme.example", "aa@acme.example", true],
      ["a*b*a@acme.example", "aba@acme.example", true],
      ["a*b*a@acme.example", "abba@acme.example", true],
      ["a*b*a@acme.example", "ab@acme.example", false],
      ["*x*@acme.example", "yyy@acme.example", false],
    ];
    for (const [pattern, principal, expected] of cases)
      expect([pattern, principal, globMatcher(pattern)(principal)]).toEqual([pattern, principal, expected]);
  });

  it("agrees with a regular expression on many short principals", () => {
    const patterns = ["a*b@x.example", "*a*b*@x.example", "ab*ba@*.x.example", "*@*.x.example"];
    const letters = ["a", "b", "."];
    let seed = 7;
    const next = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed;
    };
    for (const pattern of patterns) {
      const regex = new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replaceAll("*", "[^@]*")}$`);
      const matches = globMatcher(pattern);
      for (let i = 0; i < 2000; i++) {
        const local = Array.from({ length: next() % 7 }, () => letters[next() % 2]).join("");
        const domain = ["x.example", "a.x.example", "ab.x.example", "x.exampleb"][next() % 4];
        const principal = `${local}@${domain}`;
        expect([pattern, principal, matches(principal)]).toEqual([pattern, principal, regex.test(principal)]);
      }
    }
  });
});
