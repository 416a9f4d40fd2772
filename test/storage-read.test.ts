// Issue 11, Beyond: the Storage Read API as a free-ride path of its own. Entries: the real
// tableDataRead capture (test/fixtures/entries/v2-tableDataRead-list.datahub.json) moved to our
// data project and turned into Storage Read API entries as Google documents them: methodName
// google.cloud.bigquery.storage.v1.BigQueryRead.ReadRows / CreateReadSession, tableDataRead
// reason READ_ROWS with readStream, offset, rowCount, serializedResponseBytes and scannedBytes
// (int64 strings), or CREATE_READ_SESSION with sessionName `projects/P/locations/L/sessions/S`
// (BigQueryAuditMetadata.TableDataRead, cloud.google.com/bigquery/docs/reference/auditlogs/rest/
// Shared.Types/BigQueryAuditMetadata; "Monitor Storage Read API use",
// cloud.google.com/bigquery/docs/reference/storage). No raw ReadRows capture is public.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { FREE_RIDE_KINDS } from "../src/core/findings.ts";
import { parseEntry } from "../src/core/parse.ts";
import { assessEntry, ChargebackPipeline, entryContext } from "../src/core/pipeline.ts";
import { parseRegistry } from "../src/core/registry.ts";
import { storageReadCost } from "../src/core/storage-read.ts";
import { storageEntry } from "./support/storage-read-entries.ts";

const read = (path: string) => readFileSync(new URL(`fixtures/${path}`, import.meta.url), "utf8");
const registry = parseRegistry(read("functions/registry.yaml"), "registry.yaml");
const TIB = 2n ** 40n;

const context = entryContext(registry, { timeZone: "America/Los_Angeles" });
const assess = (entry: unknown) => assessEntry(JSON.stringify(entry), { file: "t", line: 1 }, context);

describe("Storage Read API reads", () => {
  it("are read: the session, its project and location, and the bytes scanned", () => {
    const parsed = parseEntry(
      storageEntry({ principal: "pat@partner-x.example", sessionProject: "acme-fin-bi" }),
      "",
      { file: "t", line: 1 },
    );
    expect(parsed).toMatchObject({
      kind: "table_read",
      reason: "READ_ROWS",
      dataProject: "acme-fin-lake",
      scannedBytes: 2n * TIB,
      readSession: {
        name: "projects/acme-fin-bi/locations/us/sessions/CAISDHRhYmxlX3JlYWQ",
        project: "acme-fin-bi",
        location: "us",
      },
    });
  });

  it("are priced at 1.10 USD per TiB scanned in the US and EU multi-regions, and not elsewhere", () => {
    expect(storageReadCost(2n * TIB, "US", "2026-10-14")).toBe(2_200_000_000n);
    expect(storageReadCost(TIB / 3n, "eu", "2026-10-14")).toBe(366_666_667n);
    expect(storageReadCost(TIB, "asia-northeast1", "2026-10-14")).toBeUndefined();
  });

  it("an outsider's read session billed to our project is a free ride with the grant to remove", () => {
    const assessed = assess(
      storageEntry({ principal: "pat@partner-x.example", sessionProject: "acme-fin-bi" }),
    );
    expect(assessed.kind === "table_read" && assessed.finding).toMatchObject({
      kind: "storage_read_free_ride",
      severity: "high",
      jobId: "projects/acme-fin-bi/locations/us/sessions/CAISDHRhYmxlX3JlYWQ",
      billingProject: "acme-fin-bi",
      dataProjects: ["acme-fin-lake"],
      cost: 2_200_000_000n,
    });
    expect(assessed.kind === "table_read" && assessed.finding?.remediation).toContain(
      "remove roles/bigquery.readSessionUser (bigquery.readsessions.create) for user:pat@partner-x.example on project acme-fin-bi",
    );
    expect(FREE_RIDE_KINDS).toContain("storage_read_free_ride");
  });

  it("one of ours billing another department's project is one too; in their own project it is not", () => {
    const other = assess(storageEntry({ principal: "joe@mkt.acme.example", sessionProject: "acme-fin-bi" }));
    expect(other.kind === "table_read" && other.finding).toMatchObject({
      kind: "storage_read_free_ride",
      severity: "medium",
    });
    const own = assess(storageEntry({ principal: "joe@mkt.acme.example", sessionProject: "acme-mkt-bi" }));
    expect(own.kind === "table_read" && own.finding).toBeUndefined();
    // a session billed outside the organisation is not our bill
    const theirs = assess(
      storageEntry({ principal: "pat@partner-x.example", sessionProject: "px-analytics" }),
    );
    expect(theirs.kind === "table_read" && theirs.finding).toBeUndefined();
  });

  it("a session's entries add up to one finding; a repeated entry counts once; the session's creation costs nothing", () => {
    const pipeline = new ChargebackPipeline({ registry, timeZone: "America/Los_Angeles" });
    const outsider = { principal: "pat@partner-x.example", sessionProject: "acme-fin-bi" };
    for (const entry of [
      storageEntry({ ...outsider, reason: "CREATE_READ_SESSION", insertId: "create" }),
      storageEntry({ ...outsider, insertId: "rows-1", scannedBytes: TIB }),
      storageEntry({ ...outsider, insertId: "rows-2", scannedBytes: TIB }),
      storageEntry({ ...outsider, insertId: "rows-2", scannedBytes: TIB }),
    ]) {
      const assessed = assess(entry);
      if (assessed.kind === "job") throw new Error("expected a read");
      pipeline.accept(assessed);
    }
    const findings = pipeline.readFindings();
    expect(findings).toHaveLength(1);
    expect(findings[0]?.cost).toBe(2_200_000_000n);
  });

  it("a region without a price leaves the bytes unpriced, and says so", () => {
    const assessed = assess(
      storageEntry({
        principal: "pat@partner-x.example",
        sessionProject: "acme-fin-bi",
        location: "asia-northeast1",
      }),
    );
    expect(assessed.kind === "table_read" && assessed.finding?.cost).toBe(0n);
    expect(assessed.kind === "table_read" && assessed.finding?.remediation).toContain(
      "its bytes are not priced: no Storage Read API price for asia-northeast1 on 2026-10-14",
    );
  });
});
