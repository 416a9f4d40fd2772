// Runs the real functions-framework server on localhost with our functions/index.ts, as Cloud
// Functions would, and collects what it prints (the structured alert lines).
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { tableSchemas } from "./bigquery-values.ts";
import { FakeBigQuery } from "./fake-bigquery.ts";
import { freePort } from "./free-port.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const FRAMEWORK = `${ROOT}node_modules/@google-cloud/functions-framework/build/src/main.js`;

export class FunctionServer {
  readonly url: string;
  readonly stdout: string[] = [];
  readonly stderr: string[] = [];
  private readonly child: ChildProcess;

  private constructor(url: string, child: ChildProcess) {
    this.url = url;
    this.child = child;
    let carry = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      const lines = (carry + chunk.toString("utf8")).split("\n");
      carry = lines.pop() ?? "";
      this.stdout.push(...lines);
    });
    child.stderr?.on("data", (chunk: Buffer) => this.stderr.push(chunk.toString("utf8")));
  }

  static async start(options: {
    target: string;
    signatureType: "cloudevent" | "http";
    env: Record<string, string>;
  }): Promise<FunctionServer> {
    const port = await freePort();
    const child = spawn(
      process.execPath,
      [
        FRAMEWORK,
        `--target=${options.target}`,
        `--signature-type=${options.signatureType}`,
        "--source=functions/index.ts",
        `--port=${port}`,
      ],
      {
        cwd: ROOT,
        env: { ...process.env, ...options.env, NODE_ENV: "test" },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    const server = new FunctionServer(`http://127.0.0.1:${port}`, child);
    const deadline = Date.now() + 20_000;
    for (;;) {
      if (child.exitCode !== null) {
        throw new Error(`function server exited with ${child.exitCode}: ${server.stderr.join("")}`);
      }
      try {
        await fetch(server.url, { method: "GET" });
        return server;
      } catch {
        if (Date.now() > deadline)
          throw new Error(`function server did not start: ${server.stderr.join("")}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }

  /** Structured JSON lines the function printed. */
  jsonLines(): Record<string, unknown>[] {
    return this.stdout.flatMap((line) => {
      try {
        const value: unknown = JSON.parse(line);
        return typeof value === "object" && value !== null ? [value as Record<string, unknown>] : [];
      } catch {
        return [];
      }
    });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once("exit", resolve));
    this.child.kill("SIGTERM");
    await exited;
  }
}

/** The ingest function on the framework, writing to a local BigQuery endpoint, with this registry. */
export async function startIngestFunction(
  registryFile: string,
): Promise<{ bigquery: FakeBigQuery; server: FunctionServer }> {
  const bigquery = new FakeBigQuery();
  bigquery.columnTypes = tableSchemas();
  const endpoint = await bigquery.start();
  const server = await FunctionServer.start({
    target: "ingestAuditLog",
    signatureType: "cloudevent",
    env: {
      GOOGLE_CLOUD_PROJECT: "acme-chargeback",
      BQ_CHARGEBACK_DATASET: "bq_chargeback",
      BQ_CHARGEBACK_REGISTRY: registryFile,
      BIGQUERY_API_ENDPOINT: endpoint,
    },
  });
  return { bigquery, server };
}
