// `bq-chargeback registry push` through the real BigQuery client library against a local
// endpoint speaking BigQuery's REST wire format (test/support/fake-bigquery.ts), with the tables
// and columns of sql/sink/ddl: an insert into a missing table or with an unknown field is refused
// as BigQuery refuses it. Google Cloud cannot be reached from the test machines.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { main } from "../src/cli/main.ts";
import { registryVersion } from "../src/cloud/registry-push.ts";
import { parseRegistry } from "../src/core/registry.ts";
import { REGISTRY_TABLES, versionedRegistryTables } from "../src/core/registry-tables.ts";
import { FakeBigQuery } from "./support/fake-bigquery.ts";
import { ddlTables } from "./support/zetasql.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const REGISTRY = `${ROOT}sample/acme/registry.yaml`;
const registry = parseRegistry(readFileSync(REGISTRY, "utf8"), REGISTRY);
const SCHEMAS = new Map(
  [...ddlTables(`${ROOT}sql/ddl`), ...ddlTables(`${ROOT}sql/sink/ddl`)].map((table) => [
    table.name,
    table.columns.map((column) => column.name),
  ]),
);

let bigquery: FakeBigQuery;
let endpoint: string;
let output: string[];

beforeAll(async () => {
  bigquery = new FakeBigQuery();
  endpoint = await bigquery.start();
});
afterAll(() => bigquery.stop());

beforeEach(() => {
  bigquery.tables.clear();
  bigquery.inserts.length = 0;
  bigquery.requests.length = 0;
  bigquery.schemas = new Map(SCHEMAS);
  // The version check answers from what the endpoint holds, as BigQuery would.
  bigquery.queryHandler = async (request) => {
    const version = (request.queryParameters as { parameterValue: { value: string } }[])[0]?.parameterValue
      .value;
    const pushed = bigquery
      .rows("registry_versions")
      .filter((row) => row.registry_version === version).length;
    return { fields: [{ name: "pushed", type: "INTEGER" }], rows: [{ f: [{ v: String(pushed) }] }] };
  };
  output = [];
  vi.spyOn(console, "log").mockImplementation((text: string) => void output.push(text));
  vi.spyOn(console, "error").mockImplementation((text: string) => void output.push(text));
  vi.stubEnv("GOOGLE_CLOUD_PROJECT", "acme-chargeback");
  vi.stubEnv("BQ_CHARGEBACK_DATASET", "chargeback");
  vi.stubEnv("BIGQUERY_API_ENDPOINT", endpoint);
  vi.stubEnv("BQ_CHARGEBACK_TIMEZONE", "America/Los_Angeles");
});

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

/** The rows the endpoint holds for a table. */
const stored = (table: string) => bigquery.rows(table);

describe("bq-chargeback registry push", () => {
  it("writes every registry table of one version, registry_versions last", async () => {
    expect(await main(["registry", "push", "--registry", REGISTRY])).toBe(0);
    const version = registryVersion(registry, "America/Los_Angeles");
    expect(output.join("\n")).toContain(`pushed registry version ${version} to acme-chargeback.chargeback`);
    const expected = versionedRegistryTables(registry, {
      version,
      pushedAt: String(stored("registry_versions")[0]?.pushed_at),
      source: REGISTRY,
      timeZone: "America/Los_Angeles",
    });
    for (const table of REGISTRY_TABLES) {
      expect(stored(table), table).toEqual(
        expected[table].map((row) =>
          Object.fromEntries(
            Object.entries(row).map(([k, v]) => [k, typeof v === "bigint" ? v.toString() : v]),
          ),
        ),
      );
    }
    expect(stored("registry_principals").map((row) => row.match_kind)).toEqual(
      expect.arrayContaining(["exact", "domain"]),
    );
    expect(stored("price_book").length).toBeGreaterThan(20);
    // the pipeline uses the newest version in registry_versions: it must be written after its rows
    expect(bigquery.inserts.at(-1)?.table).toBe("registry_versions");
    const check = bigquery.requests.find((request) => request.path.endsWith("/queries"))?.body as Record<
      string,
      unknown
    >;
    expect(check.defaultDataset).toEqual({ projectId: "acme-chargeback", datasetId: "chargeback" });
    expect(check.query).not.toContain(version); // the version is a parameter, never SQL text
  });

  it("pushing the same registry again writes nothing; another time zone is another version", async () => {
    expect(await main(["registry", "push", "--registry", REGISTRY])).toBe(0);
    const inserts = bigquery.inserts.length;
    expect(await main(["registry", "push", "--registry", REGISTRY])).toBe(0);
    expect(bigquery.inserts.length).toBe(inserts);
    expect(output.at(-1)).toContain("is already in acme-chargeback.chargeback: nothing written");
    vi.stubEnv("BQ_CHARGEBACK_TIMEZONE", "UTC");
    expect(await main(["registry", "push", "--registry", REGISTRY])).toBe(0);
    expect(new Set(stored("registry_versions").map((row) => row.registry_version)).size).toBe(2);
    expect(registryVersion(registry, "UTC")).not.toBe(registryVersion(registry, "America/Los_Angeles"));
  });

  it("refuses an invalid registry with its file, line and field, and sends nothing", async () => {
    const dir = mkdtempSync(join(tmpdir(), "registry-push-"));
    const broken = join(dir, "registry.yaml.broken");
    writeFileSync(broken, readFileSync(REGISTRY, "utf8").replace("edition: enterprise", "edition: premium"));
    try {
      expect(await main(["registry", "push", "--registry", broken])).toBe(2);
    } finally {
      rmSync(dir, { recursive: true });
    }
    expect(output.join("\n")).toMatch(
      /registry\.yaml\.broken:\d+: reservations\[0\]\.edition: expected one of standard, enterprise, enterprise_plus, found "premium"/,
    );
    expect(bigquery.requests).toEqual([]);
  });

  it("--dry-run validates and prints the version without a request", async () => {
    expect(await main(["registry", "push", "--registry", REGISTRY, "--dry-run"])).toBe(0);
    expect(output.join("\n")).toMatch(
      /is valid: version [0-9a-f]{16} \(registry_versions 1, .*price_book \d+\)/,
    );
    expect(bigquery.requests).toEqual([]);
  });

  it("fails, naming the field, when the dataset's table lacks a column (as BigQuery refuses)", async () => {
    bigquery.schemas?.set("registry_principals", [
      "registry_version",
      "match_kind",
      "match_key",
      "department",
    ]);
    expect(await main(["registry", "push", "--registry", REGISTRY])).toBe(1);
    expect(output.join("\n")).toContain(
      "BigQuery refused rows of chargeback.registry_principals: invalid: no such field: regex.",
    );
    expect(stored("registry_versions")).toEqual([]);
  });
});
