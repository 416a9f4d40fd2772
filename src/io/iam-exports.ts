// Reads IAM exports as users make them, recognising each file by its shape:
// - `gcloud asset search-all-iam-policies --scope=organizations/ORG --format=json`: IamPolicySearchResult[]
//   (resource, assetType, project "projects/NUMBER", folders, organization, policy.bindings)
// - `gcloud projects get-iam-policy P --format=json`: {bindings, etag, version}; it does not name
//   its project, so it is passed as PROJECT_ID=FILE
// - `bq show --format=prettyjson P:D`: a dataset with access[] entries
// - `gcloud projects list --format=json`: [{projectId, projectNumber, ...}] (number -> id)
// - role definitions: `gcloud iam roles describe ROLE --format=json` (one, or a JSON array of them),
//   or the IAM REST API's roles.list with view=FULL ({roles: [...]}); `gcloud iam roles list` omits
//   includedPermissions and is refused with that said.
// A file that is not JSON, is cut short, or has none of these shapes stops the run (InputError,
// with file and line). A binding the audit cannot judge (unknown member type, malformed entry) is
// kept as a problem with its place and what was expected; nothing is dropped silently.
import { readFile } from "node:fs/promises";
import { isMap, isSeq, LineCounter, type Node, parseDocument } from "yaml";
import type {
  Grant,
  IamCondition,
  IamProblem,
  IamResource,
  IamSource,
  ResourceLevel,
} from "../core/iam/policy.ts";
import { MEMBER_EXPECTED, memberOfEmail, parseMember } from "../core/iam/policy.ts";
import { LEGACY_DATASET_ROLES, type RoleDefinition } from "../core/iam/roles.ts";
import { expandInputs, InputError } from "./log-files.ts";

export type JsonPath = readonly (string | number)[];

export interface IamExport {
  grants: Grant[];
  /** Project number -> project id, from projects lists and from search results that name both. */
  projectNumbers: Map<string, string>;
  roles: RoleDefinition[];
  problems: IamProblem[];
  /** Authorized views, routines and datasets in access lists: resources, not principals. */
  authorizedResources: number;
  files: string[];
}

export interface IamInput {
  file: string;
  /** For a `gcloud projects get-iam-policy` file: the project it is the policy of. */
  project?: string;
}

/** `PROJECT_ID=FILE` names the project of a get-iam-policy file; anything else is a file. */
export function parseIamInput(argument: string): IamInput {
  const match = /^([a-z][a-z0-9-]{4,28}[a-z0-9])=(.+)$/.exec(argument);
  return match ? { project: match[1], file: match[2] as string } : { file: argument };
}

export function pathText(path: JsonPath): string {
  let text = "";
  for (const key of path) text += typeof key === "number" ? `[${key}]` : text === "" ? key : `.${key}`;
  return text || "(top level)";
}

/** Lines of JSON paths, worked out only when asked (a problem or a finding to show). */
export class Locator {
  private readonly texts = new Map<string, string>();
  private readonly docs = new Map<string, { doc: ReturnType<typeof parseDocument>; lines: LineCounter }>();

  add(file: string, text: string): void {
    this.texts.set(file, text);
  }

  line(file: string, path: JsonPath): number {
    const text = this.texts.get(file);
    if (text === undefined) return 0;
    let parsed = this.docs.get(file);
    if (!parsed) {
      const lines = new LineCounter();
      parsed = { doc: parseDocument(text, { lineCounter: lines }), lines };
      this.docs.set(file, parsed);
    }
    // The deepest node of the path that exists: its first line.
    let node: unknown = parsed.doc.contents;
    for (const key of path) {
      const next = isMap(node)
        ? node.get(key, true)
        : isSeq(node)
          ? node.get(key as number, true)
          : undefined;
      if (next === undefined || next === null) break;
      node = next;
    }
    const offset = (node as Node | null)?.range?.[0] ?? 0;
    return parsed.lines.linePos(offset).line;
  }
}

type Json = unknown;
const isObject = (value: Json): value is Record<string, Json> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

interface RawGrant {
  member: string;
  role: string;
  /** Resolved once every file is read (project numbers may come later). */
  resource: (numbers: ReadonlyMap<string, string>, folders: ReadonlyMap<string, string[]>) => IamResource;
  condition?: IamCondition;
  source: IamSource;
  /** The source's path as keys, to find its line when it turns out to be a problem. */
  keys: JsonPath;
}

/** JSON.parse, failing with the line where the text stops making sense (a truncated export ends early). */
function parseJson(text: string, file: string): Json {
  try {
    return JSON.parse(text);
  } catch (error) {
    const message = (error as Error).message;
    const position = /position (\d+)/.exec(message);
    const offset = position ? Number(position[1]) : text.length;
    const line = text.slice(0, offset).split("\n").length;
    const truncated = !position || offset >= text.trimEnd().length;
    throw new InputError(
      `${file}:${line}: ${
        truncated
          ? "the JSON ends before it is complete (a truncated export?)"
          : `not valid JSON (${message})`
      }; expected the JSON output of gcloud or bq --format=json`,
    );
  }
}

class ExportReader {
  readonly locator = new Locator();
  readonly raw: RawGrant[] = [];
  readonly problems: { reason: IamProblem["reason"]; detail: string; file: string; path: JsonPath }[] = [];
  readonly projectNumbers = new Map<string, string>();
  /** Folder -> projects below it, from search results' folders lists. */
  readonly folders = new Map<string, string[]>();
  readonly roles: RoleDefinition[] = [];
  authorizedResources = 0;

  read(text: string, input: IamInput): void {
    const { file } = input;
    this.locator.add(file, text);
    const value = parseJson(text, file);
    const fail = (path: JsonPath, problem: string): never => {
      throw new InputError(`${file}:${this.locator.line(file, path)}: ${pathText(path)}: ${problem}`);
    };
    if (input.project !== undefined) {
      if (!isObject(value) || !Array.isArray(value.bindings))
        fail(
          [],
          "expected a project's IAM policy ({bindings, etag, version}) as gcloud projects get-iam-policy writes it",
        );
      const project = input.project;
      this.bindings((value as Record<string, Json>).bindings as Json[], file, ["bindings"], () => ({
        level: "project",
        name: project,
        project,
      }));
      return;
    }
    if (isObject(value) && Array.isArray(value.bindings))
      fail(
        [],
        "a project's IAM policy (gcloud projects get-iam-policy) does not name its project: pass it as PROJECT_ID=FILE",
      );
    const list = Array.isArray(value) ? (value as Json[]) : undefined;
    const first = list?.[0];
    if (isObject(value) && Array.isArray(value.access)) this.dataset(value, file);
    else if (isObject(value) && Array.isArray(value.roles)) this.roleList(value.roles, file, ["roles"]);
    else if (isObject(value) && typeof value.name === "string" && "includedPermissions" in value)
      this.roleList([value], file, [], true);
    else if (isObject(value) && Array.isArray(value.results))
      this.searchResults(value.results, file, ["results"]);
    else if (!list) fail([], `expected ${SHAPES}`);
    else if (list.length === 0) {
      // an empty search or list: nothing granted
    } else if (isObject(first) && "policy" in first && "resource" in first)
      this.searchResults(list, file, []);
    else if (isObject(first) && "projectId" in first && "projectNumber" in first)
      this.projectList(list, file);
    else if (isObject(first) && typeof first.name === "string" && /\broles\//.test(first.name))
      this.roleList(list, file, []);
    else if (isObject(first) && Array.isArray(first.access))
      list.forEach((dataset, i) => {
        if (!isObject(dataset)) fail([i], "expected a dataset as bq show --format=prettyjson writes it");
        this.dataset(dataset as Record<string, Json>, file, [i]);
      });
    else fail([0], `expected ${SHAPES}`);
  }

  private problem(reason: IamProblem["reason"], detail: string, file: string, path: JsonPath): void {
    this.problems.push({ reason, detail, file, path });
  }

  private bindings(bindings: Json[], file: string, at: JsonPath, resource: RawGrant["resource"]): void {
    bindings.forEach((binding, b) => {
      const path = [...at, b];
      if (!isObject(binding) || typeof binding.role !== "string" || !Array.isArray(binding.members)) {
        this.problem("bad_entry", "expected a binding {role, members[], condition?}", file, path);
        return;
      }
      const condition = readCondition(binding.condition);
      binding.members.forEach((member, m) => {
        if (typeof member !== "string") {
          this.problem(
            "unknown_member",
            `expected ${MEMBER_EXPECTED}, found ${JSON.stringify(member)}`,
            file,
            [...path, "members", m],
          );
          return;
        }
        this.raw.push({
          member,
          role: binding.role as string,
          resource,
          ...(condition ? { condition } : {}),
          source: { file, line: 0, path: pathText([...path, "members", m]) },
          keys: [...path, "members", m],
        });
      });
    });
  }

  private searchResults(results: Json[], file: string, at: JsonPath): void {
    results.forEach((result, i) => {
      const path = [...at, i];
      if (!isObject(result) || typeof result.resource !== "string" || !isObject(result.policy)) {
        this.problem(
          "bad_entry",
          "expected an IamPolicySearchResult {resource, assetType, project, policy}",
          file,
          path,
        );
        return;
      }
      const projectNumber =
        typeof result.project === "string" ? result.project.replace(/^projects\//, "") : "";
      const folders = Array.isArray(result.folders)
        ? result.folders.filter((f) => typeof f === "string")
        : [];
      const parsed = parseResourceName(result.resource);
      if (!parsed) {
        // Policies on other resources (buckets, topics...) do not bear on BigQuery billing or reads.
        return;
      }
      if (/^\d+$/.test(parsed.project) === false && parsed.project !== "" && /^\d+$/.test(projectNumber))
        this.projectNumbers.set(projectNumber, parsed.project);
      const bindings = Array.isArray(result.policy.bindings) ? result.policy.bindings : [];
      const resource: RawGrant["resource"] = (numbers, folderProjects) => {
        // An organization's grants reach every project; the audit knows which are ours.
        if (parsed.level === "organization") return { level: parsed.level, name: parsed.name, project: "" };
        if (parsed.level === "folder")
          return {
            level: parsed.level,
            name: parsed.name,
            project: "",
            projectsBelow: [
              ...new Set(
                (folderProjects.get(parsed.name) ?? []).map((p) =>
                  /^\d+$/.test(p) ? (numbers.get(p) ?? `projects/${p}`) : p,
                ),
              ),
            ].sort(),
          };
        let project = parsed.project;
        let unmappedNumber: string | undefined;
        if (/^\d+$/.test(project)) {
          const id = numbers.get(project);
          if (id) project = id;
          else unmappedNumber = project;
        }
        const shown = unmappedNumber ? `projects/${unmappedNumber}` : project;
        const name =
          parsed.level === "project"
            ? shown
            : parsed.level === "dataset"
              ? `${shown}:${parsed.dataset}`
              : `${shown}:${parsed.dataset}.${parsed.table}`;
        return { level: parsed.level, name, project: shown, ...(unmappedNumber ? { unmappedNumber } : {}) };
      };
      if (parsed.level === "project") {
        for (const folder of folders) {
          const list = this.folders.get(folder) ?? [];
          list.push(parsed.project);
          this.folders.set(folder, list);
        }
      }
      this.bindings(bindings, file, [...path, "policy", "bindings"], resource);
    });
  }

  private dataset(dataset: Record<string, Json>, file: string, at: JsonPath = []): void {
    const reference = isObject(dataset.datasetReference) ? dataset.datasetReference : undefined;
    const project = typeof reference?.projectId === "string" ? reference.projectId : "";
    const datasetId = typeof reference?.datasetId === "string" ? reference.datasetId : "";
    if (project === "" || datasetId === "") {
      throw new InputError(
        `${file}:${this.locator.line(file, [...at, "datasetReference"])}: ${pathText([...at, "datasetReference"])}: expected {projectId, datasetId} as bq show --format=prettyjson writes it`,
      );
    }
    const resource: RawGrant["resource"] = () => ({
      level: "dataset",
      name: `${project}:${datasetId}`,
      project,
    });
    (dataset.access as Json[]).forEach((entry, i) => {
      const path = [...at, "access", i];
      if (!isObject(entry)) {
        this.problem(
          "bad_entry",
          "expected an access entry {role, userByEmail|groupByEmail|domain|specialGroup|iamMember}",
          file,
          path,
        );
        return;
      }
      if ("view" in entry || "routine" in entry || "dataset" in entry) {
        this.authorizedResources++;
        return;
      }
      const member = accessMember(entry);
      const role = typeof entry.role === "string" ? (LEGACY_DATASET_ROLES[entry.role] ?? entry.role) : "";
      if (member === undefined || role === "") {
        this.problem(
          member === undefined ? "unknown_member" : "bad_entry",
          `expected an access entry with a role and one of userByEmail, groupByEmail, domain, specialGroup, iamMember, view, routine, dataset; found keys ${Object.keys(entry).join(", ")}`,
          file,
          path,
        );
        return;
      }
      // projectReaders/Writers/Owners: the project's basic-role holders, judged at project level.
      if (member === "") return;
      const condition = readCondition(entry.condition);
      this.raw.push({
        member,
        role,
        resource,
        ...(condition ? { condition } : {}),
        source: { file, line: 0, path: pathText(path) },
        keys: path,
      });
    });
  }

  private projectList(list: Json[], file: string): void {
    list.forEach((project, i) => {
      const number = isObject(project) ? project.projectNumber : undefined;
      const id = isObject(project) ? project.projectId : undefined;
      // int64 arrive as JSON strings from gcloud; accept a plain number too.
      const numberText = typeof number === "number" ? String(number) : number;
      if (typeof id !== "string" || typeof numberText !== "string" || !/^\d+$/.test(numberText)) {
        this.problem(
          "bad_entry",
          "expected {projectId, projectNumber} as gcloud projects list writes it",
          file,
          [i],
        );
        return;
      }
      this.projectNumbers.set(numberText, id);
    });
  }

  private roleList(list: Json[], file: string, at: JsonPath, single = false): void {
    list.forEach((role, i) => {
      const path = single ? at : [...at, i];
      if (!isObject(role) || typeof role.name !== "string") {
        this.problem("bad_entry", "expected a role {name, includedPermissions[]}", file, path);
        return;
      }
      if (!Array.isArray(role.includedPermissions)) {
        throw new InputError(
          `${file}:${this.locator.line(file, path)}: ${pathText([...path, "includedPermissions"])}: missing; gcloud iam roles list omits permissions (view BASIC): export each role with gcloud iam roles describe ROLE --organization=ORG --format=json, or roles.list with view=FULL`,
        );
      }
      this.roles.push({
        name: role.name,
        includedPermissions: role.includedPermissions.filter((p): p is string => typeof p === "string"),
        deleted: role.deleted === true,
        source: `${file}: ${pathText(path)}`,
      });
    });
  }

  finish(files: string[]): IamExport {
    const grants: Grant[] = [];
    const problems: IamProblem[] = this.problems.map((p) => ({
      reason: p.reason,
      detail: p.detail,
      source: { file: p.file, line: this.locator.line(p.file, p.path), path: pathText(p.path) },
    }));
    for (const raw of this.raw) {
      const member = parseMember(raw.member);
      if (!member) {
        problems.push({
          reason: "unknown_member",
          detail: `expected ${MEMBER_EXPECTED}, found "${raw.member}"`,
          source: { ...raw.source, line: this.locator.line(raw.source.file, raw.keys) },
        });
        continue;
      }
      grants.push({
        member,
        role: raw.role,
        resource: raw.resource(this.projectNumbers, this.folders),
        ...(raw.condition ? { condition: raw.condition } : {}),
        source: raw.source,
      });
    }
    return {
      grants,
      projectNumbers: this.projectNumbers,
      roles: this.roles,
      problems,
      authorizedResources: this.authorizedResources,
      files,
    };
  }
}

const SHAPES =
  "one of: gcloud asset search-all-iam-policies --format=json (a list of {resource, policy}), bq show --format=prettyjson P:D (a dataset with access[]), gcloud projects list --format=json, role definitions ({name, includedPermissions}), or PROJECT_ID=FILE for gcloud projects get-iam-policy";

function readCondition(value: Json): IamCondition | undefined {
  if (!isObject(value)) return undefined;
  const expression = typeof value.expression === "string" ? value.expression : "";
  const title = typeof value.title === "string" ? value.title : "";
  return expression === "" && title === "" ? undefined : { title, expression };
}

/** The IAM member of a dataset access entry; "" for projectReaders/Writers/Owners; undefined if none. */
function accessMember(entry: Record<string, Json>): string | undefined {
  if (typeof entry.userByEmail === "string") return memberOfEmail(entry.userByEmail);
  if (typeof entry.groupByEmail === "string") return `group:${entry.groupByEmail}`;
  if (typeof entry.domain === "string") return `domain:${entry.domain}`;
  if (typeof entry.iamMember === "string") return entry.iamMember;
  if (typeof entry.specialGroup === "string") {
    if (entry.specialGroup === "allAuthenticatedUsers" || entry.specialGroup === "allUsers")
      return entry.specialGroup;
    if (/^project(Readers|Writers|Owners)$/.test(entry.specialGroup)) return "";
    return `specialGroup:${entry.specialGroup}`;
  }
  return undefined;
}

interface ParsedResource {
  level: ResourceLevel;
  name: string;
  project: string;
  dataset?: string;
  table?: string;
}

/** Cloud Asset Inventory's full resource names of the levels that matter; undefined for others. */
function parseResourceName(resource: string): ParsedResource | undefined {
  let match = /^\/\/cloudresourcemanager\.googleapis\.com\/(organizations|folders)\/(\d+)$/.exec(resource);
  if (match) {
    const level = match[1] === "organizations" ? "organization" : "folder";
    return { level, name: `${match[1]}/${match[2]}`, project: "" };
  }
  match = /^\/\/cloudresourcemanager\.googleapis\.com\/projects\/([^/]+)$/.exec(resource);
  if (match) return { level: "project", name: match[1] as string, project: match[1] as string };
  match = /^\/\/bigquery\.googleapis\.com\/projects\/([^/]+)\/datasets\/([^/]+)(?:\/tables\/([^/]+))?$/.exec(
    resource,
  );
  if (match) {
    const [, project, dataset, table] = match as unknown as [string, string, string, string | undefined];
    return table === undefined
      ? { level: "dataset", name: `${project}:${dataset}`, project, dataset }
      : { level: "table", name: `${project}:${dataset}.${table}`, project, dataset, table };
  }
  return undefined;
}

/** Reads every IAM export given (globs expanded); fails on the first file that cannot be read as one. */
export async function loadIamExports(inputs: readonly IamInput[]): Promise<IamExport & { locator: Locator }> {
  const reader = new ExportReader();
  const files: string[] = [];
  for (const input of inputs) {
    for (const file of await expandInputs([input.file], "--policies")) {
      reader.read(await readFile(file, "utf8"), { ...input, file });
      files.push(file);
    }
  }
  return { ...reader.finish(files), locator: reader.locator };
}

/** The same from texts already in memory (tests, the cloud adapter). */
export function readIamExports(
  texts: readonly (IamInput & { text: string })[],
): IamExport & { locator: Locator } {
  const reader = new ExportReader();
  for (const input of texts) reader.read(input.text, input);
  return { ...reader.finish(texts.map((input) => input.file)), locator: reader.locator };
}
