// What is kept of an entry that could not be used: a bounded prefix and a hash of the whole.
// A rejected entry can hold query text and personal data, and a 10 MB entry must not become a
// 10 MB row; the hash still tells two entries apart and finds the original in the source log.
import { createHash } from "node:crypto";

/** Characters of the raw entry kept: enough to see what it is and why it was refused. */
export const RAW_KEPT_CHARS = 4096;

export interface KeptRaw {
  /** The entry as read, cut to RAW_KEPT_CHARS. */
  raw: string;
  /** Length of the whole entry in UTF-8 bytes. */
  rawBytes: number;
  /** SHA-256 of the whole entry's UTF-8 bytes, hex. */
  rawSha256: string;
}

export function keptRaw(raw: string): KeptRaw {
  const bytes = Buffer.from(raw, "utf8");
  let prefix = raw.length > RAW_KEPT_CHARS ? raw.slice(0, RAW_KEPT_CHARS) : raw;
  // Never end on half a surrogate pair: the prefix must stay valid Unicode for a STRING column.
  if (/[\uD800-\uDBFF]$/.test(prefix)) prefix = prefix.slice(0, -1);
  return { raw: prefix, rawBytes: bytes.length, rawSha256: createHash("sha256").update(bytes).digest("hex") };
}
