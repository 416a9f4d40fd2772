// A local HTTP endpoint speaking the Cloud Asset Inventory REST wire format (v1) for
// searchAllIamPolicies: GET /v1/{scope}:searchAllIamPolicies?pageSize&pageToken, answering
// {results, nextPageToken} pages of IamPolicySearchResult JSON. It refuses what Google refuses:
// no bearer token (401 UNAUTHENTICATED), a scope the caller may not search (403
// PERMISSION_DENIED: cloudasset.assets.searchAllIamPolicies is needed on it), a page size over
// 500 or a page token it did not issue (400 INVALID_ARGUMENT). Google Cloud cannot be reached from
// the test machines; the real @google-cloud/asset client talks to this stand-in.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export class FakeAssetInventory {
  readonly requests: { path: string; query: Record<string, string>; authorization: string }[] = [];
  private server: Server | undefined;
  private readonly scope: string;
  private readonly results: unknown[];
  private readonly perPage: number;

  /** `results`: what a search of `scope` finds, served `perPage` at a time. */
  constructor(scope: string, results: unknown[], perPage = 5) {
    this.scope = scope;
    this.results = results;
    this.perPage = perPage;
  }

  async start(): Promise<string> {
    this.server = createServer((request, response) => {
      const url = new URL(request.url ?? "", "http://localhost");
      const query = Object.fromEntries(url.searchParams);
      const authorization = request.headers.authorization ?? "";
      this.requests.push({ path: url.pathname, query, authorization });
      const reply = (status: number, body: unknown) => {
        response.writeHead(status, { "content-type": "application/json; charset=UTF-8" });
        response.end(JSON.stringify(body));
      };
      const error = (code: number, status: string, message: string) =>
        reply(code, { error: { code, message, status } });
      if (!/^Bearer \S+$/.test(authorization))
        return error(401, "UNAUTHENTICATED", "Request is missing required authentication credential.");
      const match = /^\/v1\/(.+):searchAllIamPolicies$/.exec(url.pathname);
      if (request.method !== "GET" || !match)
        return error(404, "NOT_FOUND", `no method ${request.method} ${url.pathname}`);
      if (match[1] !== this.scope)
        return error(
          403,
          "PERMISSION_DENIED",
          `The caller does not have permission: cloudasset.assets.searchAllIamPolicies on ${match[1]}`,
        );
      const pageSize = Number(query.pageSize ?? 100);
      if (!Number.isInteger(pageSize) || pageSize < 0 || pageSize > 500)
        return error(400, "INVALID_ARGUMENT", "page_size must be between 0 and 500");
      const start = query.pageToken ? Number(/^page-(\d+)$/.exec(query.pageToken)?.[1] ?? Number.NaN) : 0;
      if (!Number.isInteger(start) || start > this.results.length)
        return error(400, "INVALID_ARGUMENT", "Invalid page token");
      const size = Math.min(pageSize || 100, this.perPage);
      const end = start + size;
      reply(200, {
        results: this.results.slice(start, end),
        ...(end < this.results.length ? { nextPageToken: `page-${end}` } : {}),
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, "127.0.0.1", resolve));
    const { port } = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
