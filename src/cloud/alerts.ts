// Alerts as they happen: one structured JSON line per alerting finding on stdout, which Cloud
// Logging turns into a jsonPayload that the deployed log-based metric and alert policy match
// (`jsonPayload.alert="bq_chargeback_finding"`), and optionally a Pub/Sub message.
import { SEVERITIES, shown } from "../core/findings.ts";
import { bigQueryJson, FINDINGS, findingRow } from "../core/rows.ts";
import type { Finding } from "../core/types.ts";
import type { AlertSink } from "./ingest.ts";

export const ALERT_NAME = "bq_chargeback_finding";

export function alertPayload(finding: Finding): Record<string, unknown> {
  return {
    severity: SEVERITIES[finding.severity].logSeverity,
    alert: ALERT_NAME,
    message: `${finding.kind}: ${shown(finding.principal, "principal")} on ${shown(finding.billingProject, "billingProject")}`,
    // the findings table's row, as the ingest function writes it
    finding: bigQueryJson(findingRow(finding), FINDINGS),
  };
}

export interface Publisher {
  publish(topic: string, data: Buffer, attributes: Record<string, string>): Promise<void>;
}

export class LogAlertSink implements AlertSink {
  private readonly write: (line: string) => void;
  private readonly publisher: Publisher | undefined;
  private readonly topic: string | undefined;

  constructor(options: { write?: (line: string) => void; publisher?: Publisher; topic?: string } = {}) {
    this.write = options.write ?? ((line) => process.stdout.write(`${line}\n`));
    this.publisher = options.publisher;
    this.topic = options.topic;
  }

  async alert(finding: Finding): Promise<void> {
    const payload = alertPayload(finding);
    this.write(JSON.stringify(payload));
    if (this.publisher && this.topic) {
      await this.publisher.publish(this.topic, Buffer.from(JSON.stringify(payload.finding)), {
        kind: finding.kind,
        severity: finding.severity,
      });
    }
  }
}
