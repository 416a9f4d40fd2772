// The flags of a report run, shared by `report` and `iam` (which, given logs, runs the report too),
// so that the two commands cannot drift apart on what they accept.
export const REPORT_RUN_OPTIONS = {
  logs: { type: "string", multiple: true },
  registry: { type: "string" },
  storage: { type: "string" },
  "storage-location": { type: "string" },
  from: { type: "string" },
  to: { type: "string" },
  period: { type: "string" },
  timezone: { type: "string" },
  out: { type: "string" },
  progress: { type: "boolean" },
  workers: { type: "string" },
  policies: { type: "string", multiple: true },
  "fail-on": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;
