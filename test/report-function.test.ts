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
    // TABLE_STORAGE read in a location other than the dataset's: one table per project, with a
    // byte count beyond 2^53 that must arrive exactly; deleted (its physical bytes still bill)
    const project = /^SELECT t\.project_id[\s\S]*FROM `([^`]+)`\.`region-/.exec(request.query)?.[1];
    if (!project) return { fields: [], rows: [] };
    const columns = ["project_id", "table_schema", "table_name", "storage_billing_model"];
    const bytes = ["active_logical_bytes", "long_term_logical_bytes", "active_physical_bytes"];
    const more = ["long_term_physical_bytes", "time_travel_physical_bytes", "fail_safe_physical_bytes"];
    return {
      fields: [
        ...columns.map((name) => ({ name, type: "STRING" })),
        ...[...bytes, ...more].map((name) => ({ name, type: "INTEGER" })),
        { name: "deleted", type: "BOOLEAN" },
      ],
      rows: [
        {
          f: [
            project,
            "lake",
            "events",
            "PHYSICAL",
            "9007199254740993",
            "0",
            "12",
            "0",
            "0",
            "1",
            "true",
          ].map((v) => ({ v })),
        },
      ],
    };
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
      BQ_CHARGEBACK_LOCATION: "US",
      // data in two locations: the dataset's (US) and us-central1
      BQ_CHARGEBACK_STORAGE_LOCATIONS: "us-central1 US",
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
    // one per registered project (five in the fixture registry) and location
    expect(snapshots).toHaveLength(10);
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

  it("reads each location in jobs of its own, the dataset's first, and copies the other's rows exactly", async () => {
    const response = await post({ from: "2026-10-01", to: "2026-10-31", period: "month" });
    // the stand-in refuses a statement touching two locations, or sent to the wrong one
    expect(response.status, await response.clone().text()).toBe(200);
    const jobs = queries.map((q) => ({ location: q.location, first: q.query.split("\n")[0] }));
    for (const job of jobs) expect(job.location, job.first).toMatch(/^(US|us-central1)$/);
    const usSnapshots = queries.filter((q) => q.query.includes("`region-us`"));
    const centralReads = queries.filter((q) => q.query.includes("`region-us-central1`"));
    expect(
      usSnapshots.every(
        (q) => q.query.startsWith("INSERT INTO table_storage_snapshots") && q.location === "US",
      ),
    ).toBe(true);
    expect(centralReads.every((q) => q.query.startsWith("SELECT") && q.location === "us-central1")).toBe(
      true,
    );
    expect([usSnapshots.length, centralReads.length]).toEqual([5, 5]);
    expect(queries.indexOf(usSnapshots.at(-1) as QueryRequest)).toBeLessThan(
      queries.indexOf(centralReads[0] as QueryRequest),
    );
    // each read's rows are written in the dataset's location, byte counts exact
    const copies = queries.filter((q) => q.query.includes("FROM UNNEST(@rows)"));
    expect(copies.map((q) => q.location)).toEqual(["US", "US", "US", "US", "US"]);
    const rows = copies.map((q) =>
      (
        q.queryParameters as {
          name: string;
          parameterValue: { arrayValues: { structValues: Record<string, { value: string }> }[] };
        }[]
      ).find((p) => p.name === "rows"),
    );
    expect(rows.map((p) => p?.parameterValue.arrayValues[0]?.structValues.project_id?.value).sort()).toEqual([
      "acme-etl",
      "acme-fin-bi",
      "acme-fin-lake",
      "acme-mkt-bi",
      "example.com:acme-archive",
    ]);
    expect(rows[0]?.parameterValue.arrayValues[0]?.structValues.active_logical_bytes?.value).toBe(
      "9007199254740993",
    );
    // a deleted table is kept (with physical billing its bytes still bill), and says it is deleted
    expect(rows[0]?.parameterValue.arrayValues[0]?.structValues.deleted?.value).toBe(true);
    expect(queries.some((q) => /WHERE NOT t\.deleted/.test(q.query))).toBe(false);
  });

  it("sends a value for every parameter: a same-day re-run replaces the day's snapshot", async () => {
    const response = await post({ period: "day", from: "2026-10-05", to: "2026-10-05" });
    expect(response.status, await response.clone().text()).toBe(200);
    const removal = queries[0];
    expect(removal?.query).toMatch(
      /^DELETE FROM table_storage_snapshots WHERE snapshot_date = @snapshot_date$/,
    );
    const snapshotDate = (
      (removal?.queryParameters ?? []) as { name: string; parameterValue: { value: string } }[]
    )[0];
    expect(snapshotDate?.parameterValue.value).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    const written = queries.filter((q) => q.query.startsWith("INSERT INTO table_storage_snapshots"));
    for (const q of written) {
      const param = (q.queryParameters as { name: string; parameterValue: { value: string } }[]).find(
        (p) => p.name === "snapshot_date",
      );
      expect(param?.parameterValue.value).toBe(snapshotDate?.parameterValue.value);
    }
    for (const q of queries)
      expect(FakeBigQuery.parameterWithoutValue(q), q.query.slice(0, 60)).toBeUndefined();
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
    // the price book and the report's three, a snapshot per project in US, a copy per project
    // read in us-central1
    expect(checked.filter((s) => s.startsWith("INSERT"))).toHaveLength(4 + projects.length * 2);
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
