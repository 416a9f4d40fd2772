// The one rule for Google Cloud names, and how a name is quoted before it reaches SQL text.
import { describe, expect, it } from "vitest";
import { readCloudConfig } from "../src/cloud/config.ts";
import {
  informationSchema,
  isProjectId,
  quotedProject,
  UnsafeIdentifierError,
} from "../src/core/identifiers.ts";

describe("project ids", () => {
  it("accepts plain and domain-scoped ids, and nothing else", () => {
    for (const id of ["acme-fin-bi", "a12345", "example.com:acme-archive", "corp.example.co.uk:p-1234"])
      expect(isProjectId(id), id).toBe(true);
    for (const id of [
      "Acme",
      "acme",
      "acme-",
      "1acme-bi",
      "example.com:",
      ":acme-bi",
      "a`b-cdef",
      "acme bi x",
    ])
      expect(isProjectId(id), id).toBe(false);
  });

  it("quotes a project, colon and all, as one identifier; refuses what could break out", () => {
    expect(quotedProject("example.com:acme-archive")).toBe("`example.com:acme-archive`");
    expect(() => quotedProject("acme`.x")).toThrow(UnsafeIdentifierError);
    expect(() => informationSchema("acme-bi-1", "us`; --")).toThrow(UnsafeIdentifierError);
  });

  it("is the rule the functions' configuration uses, for the project and the alerts topic", () => {
    const env = { GOOGLE_CLOUD_PROJECT: "example.com:acme-ops", BQ_CHARGEBACK_REGISTRY: "r.yaml" };
    expect(readCloudConfig(env).projectId).toBe("example.com:acme-ops");
    const topic = "projects/example.com:acme-ops/topics/chargeback-alerts";
    expect(readCloudConfig({ ...env, BQ_CHARGEBACK_ALERTS_TOPIC: topic }).alertsTopic).toBe(topic);
    expect(() => readCloudConfig({ ...env, GOOGLE_CLOUD_PROJECT: "Acme Ops" })).toThrow(
      /GOOGLE_CLOUD_PROJECT/,
    );
    expect(() =>
      readCloudConfig({ ...env, BQ_CHARGEBACK_ALERTS_TOPIC: "projects/Bad/topics/chargeback" }),
    ).toThrow(/BQ_CHARGEBACK_ALERTS_TOPIC/);
  });
});
