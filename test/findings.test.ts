// The finding kinds and severities are one table (src/core/findings.ts): the SQL reports take the
// free-ride kinds as a parameter instead of naming them again.
import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { alertPayload } from "../src/cloud/alerts.ts";
import { ALERTING_KINDS, FINDING_KINDS, FREE_RIDE_KINDS, shown } from "../src/core/findings.ts";
import type { Finding } from "../src/core/types.ts";

const REPORTS = new URL("../sql/reports/", import.meta.url);

describe("finding kinds", () => {
  it("says which kinds are free rides and which alert as they happen", () => {
    expect(FREE_RIDE_KINDS).toEqual([
      "external_free_ride",
      "cross_department_free_ride",
      "storage_read_free_ride",
    ]);
    expect(ALERTING_KINDS).toEqual([
      "external_free_ride",
      "unexpected_billing_project",
      "unregistered_project",
    ]);
  });

  it("is named in no SQL report: they take @free_ride_kinds", () => {
    for (const file of readdirSync(REPORTS)) {
      const sql = readFileSync(new URL(file, REPORTS), "utf8");
      for (const kind of Object.keys(FINDING_KINDS))
        expect(sql, `${file}: ${kind}`).not.toContain(`'${kind}'`);
    }
  });

  it("shows what Google redacted, in the alert as on the page", () => {
    const finding: Finding = {
      kind: "unexpected_billing_project",
      severity: "critical",
      jobId: "",
      billingProject: "",
      principal: "",
      dataProjects: ["acme-fin-lake"],
      cost: 0n,
      remediation: "",
      time: "2026-10-14T17:02:20Z",
      usageDate: "2026-10-14",
    };
    expect(alertPayload(finding)).toMatchObject({
      severity: "CRITICAL",
      message: "unexpected_billing_project: (redacted principal) on (redacted: outside the organisation)",
    });
    expect(shown("", "jobId")).toBe("(redacted job)");
    expect(shown("acme-fin-bi", "billingProject")).toBe("acme-fin-bi");
  });
});
