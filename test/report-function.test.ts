// buildChargebackReport on the real functions-framework server, with the real BigQuery client
// talking to a local endpoint that speaks the jobs.query wire format. Every statement it sends
// is checked by ZetaSQL, and no configuration value is ever part of the SQL text.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { informationSchema, UnsafeIdentifierError } from "../src/cloud/report.ts";
import { BUILT_IN_PRICE_BOOK } from "../src/core/pricebook.ts";
import { priceBookRows } from "../src/core/registry-tables.ts";
import { FakeBigQuery, type QueryRequest } from "./support/fake-bigquery.ts";
import { FunctionServer } from "./support/function-server.ts";
import { ddlTables, informationSchemaViews, type SqlType, ZetaSql } from "./support/zetasql.ts";

const TABLES = ddlTables(new URL("../sql/ddl", import.meta.url).pathname);
const REGISTRY = new URL("./fixtures/functions/registry.yaml", import.meta.url).pathname;

let bigquery: FakeBigQuery;
let server: FunctionServer;
let zetasql: ZetaSql;
let queries: QueryRequest[];

beforeAll(async () => {
  bigquery = new FakeBigQuery();
  bigquery.queryHandler = async (request) => {
    queries.push(request);
    return { fields: [], rows: [] };
  };
  const endpoint = await bigquery.start();
  zetasql = await ZetaSql.start();
  server = await FunctionServer.start({
    target: "buildChargebackReport",
    signatureType: "http",
    env: {
      GOOGLE_CLOUD_PROJECT: "acme-chargeback",
      BQ_CHARGEBACK_DATASET: "chargeback_reports",
      BQ_CHARGEBACK_REGISTRY: REGISTRY,
      BIGQUERY_API_ENDPOINT: endpoint,
    },
  });
}, 60_000);

afterAll(async () => {
  await server?.stop();
  await bigquery?.stop();
  zetasql?.stop();
});

beforeEach(() => {
  queries = [];
});

const post = (body: unknown) =>
  fetch(server.url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });

/** The named parameters of a request as {name: type}, in ZetaSQL's terms. */
function parameterTypes(request: QueryRequest): Record<string, SqlType> {
  const toType = (type: {
    type: string;
    arrayType?: unknown;
    structTypes?: { name: string; type: unknown }[];
  }): SqlType => {
    if (type.type === "ARRAY") return { array: toType(type.arrayType as typeof type) };
    if (type.type === "STRUCT") {
      return {
        struct: (type.structTypes ?? []).map((field) => ({
          name: field.name,
          type: toType(field.type as typeof type),
        })),
      };
    }
    return type.type as SqlType;
  };
  const params = (request.queryParameters ?? []) as {
    name: string;
    parameterType: Parameters<typeof toType>[0];
  }[];
  return Object.fromEntries(params.map((param) => [param.name, toType(param.parameterType)]));
}

describe("buildChargebackReport", () => {
  it("snapshots storage, then replaces the period's report rows, all in the configured dataset", async () => {
    const response = await post({ from: "2026-10-01", to: "2026-10-31", period: "month" });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      from: "2026-10-01",
      to: "2026-10-31",
      granularity: "month",
    });
    for (const request of queries) {
      expect(request.useLegacySql).toBe(false);
      expect(request.defaultDataset).toEqual({
        projectId: "acme-chargeback",
        datasetId: "chargeback_reports",
      });
      expect(String(request.parameterMode).toUpperCase()).toBe("NAMED");
    }
    const sql = queries.map((q) => q.query);
    expect(sql[0]).toMatch(/^DELETE FROM table_storage_snapshots WHERE snapshot_date = @snapshot_date$/);
    const snapshots = sql.filter((text) => text.includes("INFORMATION_SCHEMA.TABLE_STORAGE"));
    // one per registered project (five in the fixture registry) and storage-priced location
    expect(snapshots.length % 5).toBe(0);
    expect(snapshots.some((text) => text.includes("`acme-fin-lake`.`region-us`.INFORMATION_SCHEMA"))).toBe(
      true,
    );
    // a domain-scoped project is one quoted name, colon included
    expect(
      snapshots.some((text) => text.includes("`example.com:acme-archive`.`region-us`.INFORMATION_SCHEMA")),
    ).toBe(true);
    const replaced = sql.filter((text) => text.startsWith("BEGIN TRANSACTION"));
    expect(replaced.map((text) => /INSERT INTO (\w+)/.exec(text)?.[1])).toEqual([
      "price_book",
      "storage_costs",
      "department_costs",
      "chargeback_matrix",
    ]);
    // parameter values arrive, typed (a DATE given as a plain string would be dropped by the client)
    const matrix = queries.find((q) => q.query.includes("INSERT INTO chargeback_matrix"));
    expect(matrix?.queryParameters).toEqual(
      expect.arrayContaining([
        { name: "from_date", parameterType: { type: "DATE" }, parameterValue: { value: "2026-10-01" } },
        { name: "to_date", parameterType: { type: "DATE" }, parameterValue: { value: "2026-10-31" } },
        { name: "granularity", parameterType: { type: "STRING" }, parameterValue: { value: "month" } },
      ]),
    );
    // the price book arrives whole, as data: one row per price (storage: one per class)
    const book = queries.find((q) => q.query.includes("INSERT INTO price_book"));
    const parameter = (book?.queryParameters ?? []).find(
      (p) => (p as { name: string }).name === "price_book",
    ) as { parameterValue: { arrayValues: unknown[] } } | undefined;
    const rows = parameter?.parameterValue.arrayValues;
    expect(rows).toHaveLength(priceBookRows(BUILT_IN_PRICE_BOOK).length);
    expect(rows).toContainEqual({
      structValues: {
        item: { value: "storage_active_logical_per_gib_month" },
        location: { value: "us-central1" },
        from_date: { value: "2000-01-01" },
        nanos: { value: "20000000" },
        source: { value: expect.stringContaining("TABLE_STORAGE") },
      },
    });
    // the registry's departments arrive as a parameter, never as SQL text
    const departments = queries.find((q) => q.query.includes("INSERT INTO department_costs"));
    expect(JSON.stringify(departments?.queryParameters)).toContain("marketing");
    for (const text of sql) expect(text).not.toContain("marketing");
  });

  it("sends only statements BigQuery's analyser accepts", async () => {
    await post({ period: "day", from: "2026-10-05", to: "2026-10-05" });
    const checked: string[] = [];
    // the registry's projects' INFORMATION_SCHEMA views, so the snapshot statements are checked too
    const projects = ["acme-fin-bi", "acme-fin-lake", "example.com:acme-archive", "acme-mkt-bi", "acme-etl"];
    const locations = ["us", "us-central1"];
    const views = projects.flatMap((project) => locations.map((l) => informationSchemaViews(project, l)));
    for (const request of queries) {
      const statements = request.query
        .split(/;\n/)
        .map((text) => text.trim().replace(/;$/, ""))
        .filter((text) => text !== "" && !/^(BEGIN|COMMIT) TRANSACTION$/.test(text));
      for (const statement of statements) {
        await expect(
          zetasql.analyze(statement, TABLES, parameterTypes(request), views),
          statement.slice(0, 80),
        ).resolves.toBeUndefined();
        checked.push(statement);
      }
    }
    expect(checked.filter((s) => s.startsWith("DELETE"))).toHaveLength(5);
    expect(checked.filter((s) => s.includes("INFORMATION_SCHEMA"))).toHaveLength(
      projects.length * locations.length,
    );
    expect(checked.filter((s) => s.startsWith("INSERT"))).toHaveLength(
      4 + projects.length * locations.length,
    );
  });

  it("answers 400 to a request it does not understand, and runs nothing", async () => {
    const response = await post({ period: "fortnight" });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: 'period: expected "month" or "day", found "fortnight"' });
    expect(queries).toHaveLength(0);
  });

  it("never builds a project or region name into SQL unless it is a plain identifier", () => {
    expect(informationSchema("acme-fin-lake", "EU")).toBe("`acme-fin-lake`.`region-eu`.INFORMATION_SCHEMA");
    expect(informationSchema("example.com:acme-archive", "europe-west1")).toBe(
      "`example.com:acme-archive`.`region-europe-west1`.INFORMATION_SCHEMA",
    );
    expect(() => informationSchema("acme`; DROP TABLE x; --", "us")).toThrow(UnsafeIdentifierError);
    expect(() => informationSchema("acme-fin-lake", "us`.x")).toThrow(UnsafeIdentifierError);
  });
});
