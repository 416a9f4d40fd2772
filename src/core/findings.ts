// The finding kinds and severities, and how a value Google redacted is shown: one table each,
// which detection, aggregation, alerts, the reports and the SQL reports (as a parameter) read.

interface KindRule {
  /** Counted in free_rides_given_usd / free_rides_taken_usd. */
  readonly freeRide: boolean;
  /** Alerted as it happens by the ingest function. */
  readonly alerts: boolean;
  /** Where the report page lists it: with the free rides, or with what the registry does not expect. */
  readonly section: "free_rides" | "unexpected";
}

export const FINDING_KINDS = {
  /** A principal outside the organisation (or a partner) ran a job in our project: we paid. */
  external_free_ride: { freeRide: true, alerts: true, section: "free_rides" },
  /** A department's principal ran a job in another department's project. */
  cross_department_free_ride: { freeRide: true, alerts: false, section: "free_rides" },
  /**
   * A Storage Read API session billed to our project read data for an outsider or another
   * department. Not alerted: the ingest function judges each of a session's many ReadRows entries.
   */
  storage_read_free_ride: { freeRide: true, alerts: false, section: "free_rides" },
  /** Our data read by a job billed to a project nobody expected (or a redacted one: outside). */
  unexpected_billing_project: { freeRide: false, alerts: true, section: "unexpected" },
  /** A job ran in a project the registry does not list. */
  unregistered_project: { freeRide: false, alerts: true, section: "unexpected" },
  /** A Google-managed account of a project number the registry does not list ran a job: register it. */
  unregistered_project_number: { freeRide: false, alerts: false, section: "unexpected" },
} as const satisfies Record<string, KindRule>;

export type FindingKind = keyof typeof FINDING_KINDS;

const kindsWhere = (test: (rule: KindRule) => boolean): readonly FindingKind[] =>
  (Object.keys(FINDING_KINDS) as FindingKind[]).filter((kind) => test(FINDING_KINDS[kind]));

/** The free-ride kinds, also passed to sql/reports/department_costs.sql as @free_ride_kinds. */
export const FREE_RIDE_KINDS: readonly FindingKind[] = kindsWhere((rule) => rule.freeRide);
export const ALERTING_KINDS: readonly FindingKind[] = kindsWhere((rule) => rule.alerts);

/** Severities, most urgent first, with the Cloud Logging severity an alert is written at. */
export const SEVERITIES = {
  critical: { logSeverity: "CRITICAL" },
  high: { logSeverity: "ERROR" },
  medium: { logSeverity: "WARNING" },
  low: { logSeverity: "NOTICE" },
} as const;

export type Severity = keyof typeof SEVERITIES;

/** How a field Google redacted (logged empty) is shown to a reader. */
export const REDACTED = {
  principal: "(redacted principal)",
  /** Google redacts a reading job's billing project when it is outside the organisation. */
  billingProject: "(redacted: outside the organisation)",
  jobId: "(redacted job)",
} as const;

/** The value, or what it means that Google left it empty. */
export function shown(value: string, field: keyof typeof REDACTED): string {
  return value === "" ? REDACTED[field] : value;
}
