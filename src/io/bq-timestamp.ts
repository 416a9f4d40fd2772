// A TIMESTAMP as BigQuery's tools write it out of a table, in RFC 3339. One reading for every
// export the tool takes (billing export, INFORMATION_SCHEMA.JOBS, Log Router sink rows):
// - `bq query --format=json|csv`: "2026-10-01 07:00:00", the fraction of a second dropped (bq's
//   TablePrinter._NormalizeTimestamp, google-cloud-sdk platform/bq);
// - `bq extract`, the console: "2026-10-01 07:00:00 UTC", "2015-05-20 21:34:02.123456 UTC"
//   (googleapis/google-cloud-php#3422, shun0102/embulk-parser-jsonl#7);
// - the REST API's rows: epoch seconds, "1.6330752E9" ("a decimal number of seconds since the
//   epoch in the API", https://developers.google.com/bigquery/timestamp);
// - RFC 3339, as a client library or a user's own SQL may write it.

const CALENDAR = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?)(?: ?(UTC|Z|[+-]\d{2}:?\d{2}))?$/i;
const EPOCH_SECONDS = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/;

/** The TIMESTAMP in RFC 3339, or undefined for a value of none of those forms. */
export function rfc3339FromBq(value: unknown): string | undefined {
  if (typeof value !== "string" && typeof value !== "number") return undefined;
  const text = String(value).trim();
  const calendar = CALENDAR.exec(text);
  if (calendar) {
    const zone = calendar[3] ?? "Z";
    const offset = /^(UTC|Z)$/i.test(zone)
      ? "Z"
      : zone.includes(":")
        ? zone
        : `${zone.slice(0, 3)}:${zone.slice(3)}`;
    return `${calendar[1]}T${calendar[2]}${offset}`;
  }
  const epoch = EPOCH_SECONDS.exec(text);
  if (!epoch) return undefined;
  // Exact to the microsecond, BigQuery's precision: the decimal digits are shifted, not multiplied as a float.
  const [, sign, whole = "", fraction = "", exponent = "0"] = epoch;
  const shift = Number(exponent) - fraction.length + 6;
  if (Math.abs(shift) > 30) return undefined;
  const digits = BigInt(whole + fraction) * (sign ? -1n : 1n);
  const micros = shift >= 0 ? digits * 10n ** BigInt(shift) : digits / 10n ** BigInt(-shift);
  const subMilli = ((micros % 1000n) + 1000n) % 1000n;
  const date = new Date(Number((micros - subMilli) / 1000n));
  if (Number.isNaN(date.getTime())) return undefined;
  return `${date.toISOString().slice(0, 23)}${String(subMilli).padStart(3, "0")}Z`;
}
