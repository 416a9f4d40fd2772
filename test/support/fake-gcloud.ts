// A recorded Google Cloud for deploy/deploy.sh's tests: stands in for the `gcloud` and `bq`
// commands the script runs (on PATH as bash wrappers that hand their arguments to this process
// over a local socket, see startFakeCloud), keeps what was created and granted, and answers
// look-ups (describe, show, list, get-iam-policy, --format=value(...)) from it. What it models, it models like Google:
// a describe of something absent fails, an alert policy on a log-based metric is refused with
// NOT_FOUND until the metric has reached Cloud Monitoring (FAKE_METRIC_VISIBLE_AFTER refusals),
// a grant to a principal that does not exist yet is refused. It does not model permissions of
// the person deploying, quotas, or what the created resources then do.
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";

export interface CloudState {
  resources: Record<string, Record<string, string>>;
  policies: Record<string, { role: string; member: string }[]>;
  enabledServices: string[];
  /** Every command run, in order; `mutating` tells a look-up from a change. */
  calls: { command: string; argv: string[]; mutating: boolean }[];
  refusedPolicyCreates: number;
}

const VERBS = new Set([
  "create",
  "describe",
  "delete",
  "deploy",
  "update",
  "add-iam-policy-binding",
  "remove-iam-policy-binding",
  "get-iam-policy",
  "list",
  "enable",
  "mk",
  "show",
  "query",
  "rm",
  "cp",
  "ls",
]);
const LOOK_UPS = new Set(["describe", "get-iam-policy", "list", "show", "cp", "ls"]);
const PROJECT_NUMBER = "123456789012";

export interface FakeCloud {
  /** Put first on PATH: holds `gcloud` and `bq`. */
  bin: string;
  state: CloudState;
  /** Alert policies on a log-based metric are refused this many times first (propagation). */
  metricVisibleAfter: number;
  close(): Promise<void>;
}

/**
 * Starts the stand-in on a loopback port and writes the `gcloud` and `bq` wrappers into DIR/bin:
 * each sends its arguments (and, for `bq query`, its standard input) NUL-separated, and prints
 * the answer: exit code, standard error on one line, then standard output.
 */
export async function startFakeCloud(dir: string): Promise<FakeCloud> {
  const state: CloudState = {
    resources: {},
    policies: {},
    enabledServices: [],
    calls: [],
    refusedPolicyCreates: 0,
  };
  const cloud: FakeCloud = { bin: join(dir, "bin"), state, metricVisibleAfter: 0, close: async () => {} };
  const server = createServer((socket) => {
    let request = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      request += chunk;
      if (!request.endsWith("\0\0\0")) return;
      const [head = "", stdin = ""] = request.slice(0, -3).split("\0\0");
      const answer = handle(head.split("\0"), stdin, cloud);
      socket.end(`${answer.code}\n${answer.stderr.replace(/\n/g, " ").trim()}\n${answer.stdout}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  mkdirSync(cloud.bin, { recursive: true });
  for (const tool of ["gcloud", "bq"]) {
    const wrapper = join(cloud.bin, tool);
    writeFileSync(
      wrapper,
      `#!/usr/bin/env bash
exec 3<>/dev/tcp/127.0.0.1/${port}
{
  printf '%s' ${tool}
  printf '\\0%s' "$@"
  printf '\\0\\0'
  # bq query reads its statement from standard input: the first word that is not a flag
  if [ ${tool} = bq ]; then
    for word in "$@"; do
      case "$word" in -*) ;; query) cat; break ;; *) break ;; esac
    done
  fi
  printf '\\0\\0\\0'
} >&3
read -r code <&3
read -r err <&3
cat <&3
[ -z "$err" ] || echo "$err" >&2
exit "$code"
`,
    );
    chmodSync(wrapper, 0o755);
  }
  cloud.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return cloud;
}

interface Parsed {
  positionals: string[];
  flags: Record<string, string>;
}

function parse(args: string[]): Parsed {
  const positionals: string[] = [];
  const flags: Record<string, string> = {};
  for (const arg of args) {
    const flag = /^--([^=]+)(?:=(.*))?$/s.exec(arg);
    if (flag?.[1]) flags[flag[1]] = flag[2] ?? "true";
    else if (!arg.startsWith("-")) positionals.push(arg);
  }
  return { positionals, flags };
}

/** The last path segment of a full resource name (projects/P/topics/T -> T), the id of an email. */
function shortName(name: string): string {
  if (name.startsWith("gs://")) return name.replace(/\/+$/, "");
  if (/^[^@\s]+@[^@\s]+\.iam\.gserviceaccount\.com$/.test(name)) return name.split("@")[0] ?? name;
  return name.split("/").pop() ?? name;
}

function key(group: string[], name: string, flags: Record<string, string>): string {
  const scope = ["organization", "folder", "project", "project_id"]
    .filter((flag) => flags[flag])
    .map((flag) => `${flag === "project_id" ? "project" : flag}=${flags[flag]}`);
  return [...group, shortName(name), ...scope].join(" ");
}

/** What the real command would print and exit with; the state is saved all the same. */
class Refused extends Error {
  readonly code: number;
  constructor(message: string, code: number) {
    super(message);
    this.code = code;
  }
}

function fail(message: string, code = 1): never {
  throw new Refused(`ERROR: ${message}`, code);
}

/** `value(a.b,c)` answered from a resource's recorded flags (and a few values Google derives). */
function formatValue(
  format: string,
  resource: Record<string, string>,
  name: string,
  flags: Record<string, string>,
) {
  const fields = /^value\((.*)\)$/.exec(format)?.[1]?.split(",") ?? [];
  const derived: Record<string, string> = {
    writerIdentity: `serviceAccount:o${PROJECT_NUMBER}-fake@gcp-sa-logging.iam.gserviceaccount.com`,
    "serviceConfig.uri": `https://${name}-fake.a.run.app`,
    "eventTrigger.trigger": `projects/${flags.project}/locations/${flags.region}/triggers/${name}-trigger`,
    "transport.pubsub.subscription": `projects/${flags.project}/subscriptions/eventarc-${name.replace(/-trigger$/, "")}-sub`,
    projectNumber: PROJECT_NUMBER,
  };
  return fields
    .map((field) => {
      if (field in derived) return derived[field];
      const label = /^labels\.(.+)$/.exec(field)?.[1];
      if (label) {
        const labels = resource["update-labels"] ?? resource.labels ?? "";
        return (
          labels
            .split(",")
            .find((pair) => pair.startsWith(`${label}=`))
            ?.slice(label.length + 1) ?? ""
        );
      }
      const last = field.split(".").pop() ?? field;
      const kebab = last.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
      const aliases: Record<string, string> = { "retry-count": "max-retry-attempts" };
      return resource[aliases[kebab] ?? kebab] ?? "";
    })
    .join("\t");
}

function handle(
  argv: string[],
  stdin: string,
  cloud: FakeCloud,
): { code: number; stdout: string; stderr: string } {
  const [tool, ...args] = argv;
  const { state } = cloud;
  let stdout = "";
  const { positionals, flags } = parse(args);
  while (positionals[0] === "alpha" || positionals[0] === "beta") positionals.shift();
  const verbAt = positionals.findIndex((word) => VERBS.has(word));
  if (verbAt < 0) return { code: 2, stdout: "", stderr: `fake ${tool}: no verb in ${args.join(" ")}` };
  const group = [tool ?? "", ...positionals.slice(0, verbAt)];
  const verb = positionals[verbAt] ?? "";
  let rest = positionals.slice(verbAt + 1);
  if (group.join(" ") === "gcloud scheduler jobs" && rest[0] === "http") rest = rest.slice(1);
  const name = rest[0] ?? "";
  const mutating = !LOOK_UPS.has(verb);
  state.calls.push({ command: [tool, ...args].join(" "), argv: [tool ?? "", ...args], mutating });
  const exists = (k: string) => k in state.resources;
  const principalExists = (member: string) => {
    const account = /^serviceAccount:(bq-chargeback-[a-z-]+)@/.exec(member)?.[1];
    return (
      !account ||
      Object.keys(state.resources).some((k) => k.startsWith(`gcloud iam service-accounts ${account} `))
    );
  };
  const out = (text: string) => {
    stdout += text.endsWith("\n") ? text : `${text}\n`;
  };

  // The Data Transfer Service's configs (bq mk/ls/update/rm --transfer_config), kept by resource
  // name; bq ls lists a project's configs in one location as JSON, as --format=prettyjson does.
  const transferConfigs = (verb: string, name: string, flags: Record<string, string>) => {
    const prefix = "bq transfer_config ";
    const configs = Object.entries(state.resources).filter(([k]) => k.startsWith(prefix));
    if (verb === "ls") {
      if (!flags.transfer_location) fail("Need to specify transfer_location for list transfer configs.");
      const location = flags.transfer_location.toLowerCase();
      out(
        JSON.stringify(
          configs
            .map(([, config]) => config)
            .filter((config) => config.name?.includes(`/locations/${location}/`))
            .map(({ name: configName, displayName, notificationPubsubTopic, schedule }) => ({
              name: configName,
              displayName,
              dataSourceId: "scheduled_query",
              schedule,
              ...(notificationPubsubTopic ? { notificationPubsubTopic } : {}),
            })),
          null,
          2,
        ),
      );
      return;
    }
    if (verb === "mk") {
      const id = `6f${String(configs.length + 1).padStart(6, "0")}-0000-2d4e-9f8a-089e08e4d7a1`;
      const configName = `projects/${PROJECT_NUMBER}/locations/${(flags.location ?? "US").toLowerCase()}/transferConfigs/${id}`;
      state.resources[`${prefix}${configName}`] = {
        name: configName,
        displayName: flags.display_name ?? "",
        schedule: flags.schedule ?? "",
        notificationPubsubTopic: flags.notification_pubsub_topic ?? "",
      };
      return;
    }
    const config = state.resources[`${prefix}${name}`];
    if (!config) fail(`Not found: ${name}`);
    if (verb === "update") {
      if (flags.notification_pubsub_topic !== undefined)
        config.notificationPubsubTopic = flags.notification_pubsub_topic;
      return;
    }
    if (verb === "rm") {
      delete state.resources[`${prefix}${name}`];
      return;
    }
    fail(`fake bq: not modelled: ${verb} --transfer_config`, 2);
  };

  const act = (): void => {
    const g = group.join(" ");
    if (g === "gcloud services" && verb === "list") {
      out(state.enabledServices.join("\n"));
      return;
    }
    if (g === "gcloud services" && verb === "enable") {
      state.enabledServices = [...new Set([...state.enabledServices, ...rest])];
      return;
    }
    if (g === "gcloud projects" && verb === "describe") {
      out(formatValue(flags.format ?? "", {}, name, flags));
      return;
    }
    if (g === "gcloud monitoring policies") {
      if (verb === "list") {
        const wanted = /displayName\s*=\s*"([^"]*)"/.exec(flags.filter ?? "")?.[1];
        const found = Object.entries(state.resources).filter(
          ([k, r]) => k.startsWith("gcloud monitoring policies ") && r.displayName === wanted,
        );
        out(found.map(([, r]) => r.name).join("\n"));
        return;
      }
      if (verb === "create") {
        const policy = JSON.parse(readFileSync(flags["policy-from-file"] ?? "", "utf8"));
        const onLogMetric = JSON.stringify(policy).includes("logging.googleapis.com/user/");
        const refusals = cloud.metricVisibleAfter;
        if (onLogMetric && state.refusedPolicyCreates < refusals) {
          state.refusedPolicyCreates++;
          fail(
            '(gcloud.alpha.monitoring.policies.create) NOT_FOUND: Cannot find metric(s) that match type = "logging.googleapis.com/user/bq_chargeback_findings"',
          );
        }
        const id = Object.keys(state.resources).length + 1;
        state.resources[`gcloud monitoring policies ${id} project=${flags.project}`] = {
          displayName: policy.displayName,
          name: `projects/${flags.project}/alertPolicies/${id}`,
        };
        return;
      }
      if (verb === "delete") {
        for (const [k, r] of Object.entries(state.resources)) if (r.name === name) delete state.resources[k];
        return;
      }
    }
    if (verb === "add-iam-policy-binding") {
      const resource = key(group, tool === "bq" ? (rest.at(-1) ?? "") : name, flags);
      const member = flags.member ?? "";
      if (!principalExists(member)) fail(`INVALID_ARGUMENT: Service account ${member} does not exist.`);
      const bindings = state.policies[resource] ?? [];
      if (!bindings.some((b) => b.role === flags.role && b.member === member)) {
        bindings.push({ role: flags.role ?? "", member });
      }
      state.policies[resource] = bindings;
      return;
    }
    if (verb === "remove-iam-policy-binding") {
      const resource = key(group, tool === "bq" ? (rest.at(-1) ?? "") : name, flags);
      state.policies[resource] = (state.policies[resource] ?? []).filter(
        (b) => !(b.role === flags.role && b.member === flags.member),
      );
      return;
    }
    if (verb === "get-iam-policy") {
      const resource = key(group, tool === "bq" ? (rest.at(-1) ?? "") : name, flags);
      const byRole = new Map<string, string[]>();
      for (const b of state.policies[resource] ?? [])
        byRole.set(b.role, [...(byRole.get(b.role) ?? []), b.member]);
      if (
        flags.flatten === "bindings[].members" &&
        flags.format === "csv[no-heading](bindings.role,bindings.members)"
      ) {
        out((state.policies[resource] ?? []).map((b) => `${b.role},${b.member}`).join("\n"));
        return;
      }
      out(JSON.stringify({ bindings: [...byRole].map(([role, members]) => ({ role, members })) }));
      return;
    }
    if (tool === "bq" && flags.transfer_config) {
      transferConfigs(verb, rest.at(-1) ?? "", flags);
      return;
    }
    if (tool === "bq") {
      const target = rest.at(-1) ?? "";
      if (verb === "show") {
        if (!exists(`bq ${target}`)) fail(`Not found: ${target}`);
        return;
      }
      if (verb === "mk") {
        if (exists(`bq ${target}`)) fail(`Dataset '${target}' already exists.`);
        state.resources[`bq ${target}`] = flags;
        return;
      }
      if (verb === "query") {
        const table = /CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?`?([A-Za-z0-9_]+)`?/i.exec(stdin)?.[1];
        if (table && flags.dataset_id) state.resources[`bq ${flags.dataset_id}.${table}`] = {};
        return;
      }
      if (verb === "rm") {
        // -r: the dataset with its tables
        for (const k of Object.keys(state.resources)) {
          if (k === `bq ${target}` || k.startsWith(`bq ${target}.`)) delete state.resources[k];
        }
        return;
      }
    }
    const k = key(group, name, flags);
    if (verb === "describe") {
      const resource = state.resources[k];
      if (!resource) fail(`NOT_FOUND: ${k}`);
      if (flags.format) out(formatValue(flags.format, resource, shortName(name), flags));
      return;
    }
    if (verb === "create" || verb === "deploy") {
      if (verb === "create" && exists(k)) fail(`ALREADY_EXISTS: ${k}`);
      state.resources[k] = { ...(state.resources[k] ?? {}), ...flags };
      if (g === "gcloud iam service-accounts") {
        // create is given the id; look-ups and grants the email
        return;
      }
      if (g === "gcloud functions" && flags["trigger-topic"]) {
        state.resources[key(["gcloud", "eventarc", "triggers"], `${name}-trigger`, flags)] = {};
        state.resources[key(["gcloud", "pubsub", "subscriptions"], `eventarc-${name}-sub`, flags)] = {
          topic: flags["trigger-topic"],
        };
      }
      return;
    }
    if (verb === "update") {
      if (!exists(k)) fail(`NOT_FOUND: ${k}`);
      state.resources[k] = { ...state.resources[k], ...flags };
      return;
    }
    if (verb === "delete") {
      // a resource's IAM policy goes with it; a function takes its Cloud Run service, its
      // Eventarc trigger and that trigger's subscription along
      const gone = [k];
      if (g === "gcloud functions") {
        gone.push(
          key(["gcloud", "run", "services"], name, flags),
          key(["gcloud", "eventarc", "triggers"], `${name}-trigger`, flags),
          key(["gcloud", "pubsub", "subscriptions"], `eventarc-${name}-sub`, flags),
        );
      }
      for (const resource of gone) {
        delete state.resources[resource];
        delete state.policies[resource];
      }
      return;
    }
    fail(`fake ${tool}: not modelled: ${args.join(" ")}`, 2);
  };
  try {
    act();
  } catch (error) {
    if (!(error instanceof Refused)) throw error;
    return { code: error.code, stdout, stderr: error.message };
  }
  return { code: 0, stdout, stderr: "" };
}
