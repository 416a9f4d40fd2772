// Past audit entries from the Cloud Logging API, for backfills: entries.list page by page in the
// REST form (JSON, exactly as `gcloud logging read --format=json` and the Pub/Sub sink give
// them; @google-cloud/logging's getEntries() hands protoPayload back as protobuf bytes), with the
// application default credentials (google-auth.ts), rate limits respected, and a checkpoint to
// resume from.
import { readFile, writeFile } from "node:fs/promises";
import { authHeaders, SCOPES } from "./google-auth.ts";

export interface ListRequest {
  resourceNames: string[];
  filter: string;
  orderBy: string;
  pageSize: number;
  pageToken?: string;
}

export interface EntriesPage {
  entries?: unknown[];
  nextPageToken?: string;
}

/** One entries.list call; errors carry the HTTP status (and Retry-After seconds when given). */
export type ListEntries = (request: ListRequest) => Promise<EntriesPage>;

export class LoggingApiError extends Error {
  readonly status: number;
  readonly retryAfterSeconds: number | undefined;
  constructor(status: number, message: string, retryAfterSeconds?: number) {
    super(message);
    this.status = status;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** entries.list over REST, with the application default credentials, or unauthenticated against a local endpoint. */
export function restListEntries(options: { endpoint?: string } = {}): ListEntries {
  const endpoint = options.endpoint ?? "https://logging.googleapis.com";
  return async (request) => {
    const headers: Record<string, string> = {
      "content-type": "application/json",
      ...(options.endpoint ? {} : await authHeaders(SCOPES.loggingRead)),
    };
    const response = await fetch(`${endpoint}/v2/entries:list`, {
      method: "POST",
      headers,
      body: JSON.stringify(request),
    });
    if (!response.ok) {
      const retryAfter = Number(response.headers.get("retry-after"));
      throw new LoggingApiError(
        response.status,
        `entries.list answered ${response.status}: ${(await response.text()).slice(0, 300)}`,
        Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined,
      );
    }
    return (await response.json()) as EntriesPage;
  };
}

/** The sink filter (what the parser uses) within [from, to) of receive time. */
export async function backfillFilter(
  sinkFilterFile: string,
  fromIso: string,
  toIso: string,
): Promise<string> {
  const sink = (await readFile(sinkFilterFile, "utf8")).trim();
  return `(${sink})\nAND timestamp>="${fromIso}" AND timestamp<"${toIso}"`;
}

export interface Checkpoint {
  filter: string;
  resourceNames: string[];
  pageToken: string;
  pages: number;
  entries: number;
}

export interface ReadOptions {
  resourceNames: string[];
  filter: string;
  pageSize: number;
  checkpointFile?: string;
  resume?: boolean;
  /** Attempts per page for 429 and 5xx answers. */
  attempts?: number;
  /** Wait in ms before attempt n (1-based); defaults to exponential backoff with jitter. */
  backoffMs?: (attempt: number) => number;
  sleep?: (ms: number) => Promise<void>;
}

const RETRYABLE = new Set([429, 500, 502, 503, 504]);

/**
 * Pages of entries (as JSON text). The checkpoint is written after the consumer has taken a page
 * (when it asks for the next), so a crash replays at most one page, which job de-duplication absorbs.
 */
export async function* readLoggingPages(list: ListEntries, options: ReadOptions): AsyncGenerator<string[]> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const backoff =
    options.backoffMs ??
    ((attempt: number) => Math.min(60_000, 1000 * 2 ** (attempt - 1)) * (0.5 + Math.random() / 2));
  const attempts = options.attempts ?? 6;
  let checkpoint: Checkpoint = {
    filter: options.filter,
    resourceNames: options.resourceNames,
    pageToken: "",
    pages: 0,
    entries: 0,
  };
  if (options.resume && options.checkpointFile) {
    const saved = JSON.parse(await readFile(options.checkpointFile, "utf8")) as Checkpoint;
    if (
      saved.filter !== options.filter ||
      JSON.stringify(saved.resourceNames) !== JSON.stringify(options.resourceNames)
    ) {
      throw new Error(
        `${options.checkpointFile}: the checkpoint is for another filter or resource; start without --resume`,
      );
    }
    if (saved.pageToken === "") return; // it had finished
    checkpoint = saved;
  }
  let pageToken = checkpoint.pageToken || undefined;
  for (;;) {
    let page: EntriesPage | undefined;
    for (let attempt = 1; page === undefined; attempt++) {
      try {
        page = await list({
          resourceNames: options.resourceNames,
          filter: options.filter,
          orderBy: "timestamp asc",
          pageSize: options.pageSize,
          ...(pageToken ? { pageToken } : {}),
        });
      } catch (error) {
        const status = error instanceof LoggingApiError ? error.status : 0;
        if (!RETRYABLE.has(status) || attempt >= attempts) throw error;
        const retryAfter = error instanceof LoggingApiError ? error.retryAfterSeconds : undefined;
        await sleep(retryAfter !== undefined ? retryAfter * 1000 : backoff(attempt));
      }
    }
    const texts = (page.entries ?? []).map((entry) => JSON.stringify(entry));
    yield texts;
    checkpoint = {
      ...checkpoint,
      pageToken: page.nextPageToken ?? "",
      pages: checkpoint.pages + 1,
      entries: checkpoint.entries + texts.length,
    };
    if (options.checkpointFile)
      await writeFile(options.checkpointFile, `${JSON.stringify(checkpoint, null, 2)}\n`);
    if (!page.nextPageToken) return;
    pageToken = page.nextPageToken;
  }
}
