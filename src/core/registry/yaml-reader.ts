// Reads a YAML document strictly and fails with the place: file, line and field of the first
// problem. A scalar is read from its source text (6.25 stays the text "6.25", never a float).
import {
  type Alias,
  type Document,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  parseDocument,
  visit,
} from "yaml";
import { parseUsd } from "../money.ts";
import { isIsoDate } from "../period.ts";

/** A registry mistake, located: `registry.yaml:7: departments[1].projects[0]: expected ..., found "..."`. */
export class ConfigError extends Error {
  readonly file: string;
  readonly line: number;
  readonly field: string;
  constructor(file: string, line: number, field: string, problem: string) {
    super(`${file}:${line}: ${field}: ${problem}`);
    this.name = "ConfigError";
    this.file = file;
    this.line = line;
    this.field = field;
  }
}

export type Fields = Map<string, Node | null>;

/** What a scalar must be: a pattern or a predicate, with the words for the error message. */
export interface Rule {
  test: (text: string) => boolean;
  expected: string;
}

/** A rule from a pattern. */
export function pattern(regex: RegExp, expected: string): Rule {
  return { test: (text) => regex.test(text), expected };
}

const USD = pattern(/^\d+(?:\.\d{1,9})?$/, "a USD amount such as 6.25 (at most 9 decimals)");
const ISO_DATE: Rule = { test: isIsoDate, expected: "a date YYYY-MM-DD" };

/** A registry is a few hundred kilobytes; past this it is a mistake (or an attack), not read. */
export const MAX_REGISTRY_CHARS = 4 * 1024 * 1024;
/**
 * Aliases a registry may use (the yaml library's own default limit for expanding them). Each is
 * read again wherever it stands, so a few aliases to aliases multiply: an alias bomb.
 */
export const MAX_ALIASES = 100;

/** Walks the YAML tree, reading each scalar from its source text, and fails with the location. */
export class YamlReader {
  readonly file: string;
  /** The document's top node. */
  readonly contents: unknown;
  private readonly text: string;
  private readonly lines: LineCounter;
  private readonly doc: Document;
  /** Each alias's anchored node, found in one pass (the library's Alias.resolve walks the whole document each time). */
  private readonly aliasTargets = new Map<Alias, Node | undefined>();

  /** Parses the text; a syntax error is a ConfigError at its line. */
  constructor(text: string, file: string) {
    this.file = file;
    this.text = text;
    this.lines = new LineCounter();
    if (text.length > MAX_REGISTRY_CHARS) {
      throw new ConfigError(
        file,
        1,
        "(file)",
        `expected a registry of at most ${MAX_REGISTRY_CHARS / 1024 / 1024} MiB, found ${(text.length / 1024 / 1024).toFixed(1)} MiB`,
      );
    }
    this.doc = parseDocument(text, { lineCounter: this.lines, prettyErrors: false, uniqueKeys: true });
    const syntax = this.doc.errors[0];
    if (syntax) {
      const line = this.lines.linePos(syntax.pos[0]).line;
      throw new ConfigError(file, line, "(YAML)", `not valid YAML: ${syntax.message.split("\n")[0]}`);
    }
    this.indexAliases();
    this.contents = this.doc.contents;
  }

  /** Resolves every alias to the latest anchor before it, in document order; refuses too many. */
  private indexAliases(): void {
    const anchors = new Map<string, Node>();
    visit(this.doc, {
      Node: (_key, node) => {
        if (isAlias(node)) {
          if (this.aliasTargets.size >= MAX_ALIASES)
            this.fail(node, "(YAML)", `expected at most ${MAX_ALIASES} aliases (*name), found more`);
          this.aliasTargets.set(node, anchors.get(node.source));
        } else if (node.anchor) anchors.set(node.anchor, node);
      },
    });
  }

  lineOf(node: unknown): number {
    const offset = (node as Node | null | undefined)?.range?.[0];
    return offset === undefined ? 1 : this.lines.linePos(offset).line;
  }

  fail(node: unknown, field: string, problem: string): never {
    throw new ConfigError(this.file, this.lineOf(node), field || "(top level)", problem);
  }

  /** An alias's target; an alias to no anchor is almost always an unquoted `*@domain` pattern. */
  private resolve(node: unknown, field: string): unknown {
    if (!isAlias(node)) return node;
    const target = this.aliasTargets.get(node);
    if (target === undefined) {
      this.fail(
        node,
        field,
        `*${node.source} is read as a YAML alias to a missing anchor: quote values that start with *, such as "*@mkt.acme.example"`,
      );
    }
    return target;
  }

  private found(node: unknown): string {
    if (node === null || node === undefined) return "nothing";
    if (isScalar(node)) return node.value === null ? "nothing" : `"${this.source(node)}"`;
    if (isSeq(node)) return "a list";
    if (isMap(node)) return "a mapping";
    return "something else";
  }

  /** A scalar as written (so 6.25 stays the text "6.25", never a float). */
  private source(node: Node): string {
    if (isScalar(node) && typeof node.value === "string") return node.value;
    const range = node.range;
    return range ? this.text.slice(range[0], range[1]).trim() : String((node as { value?: unknown }).value);
  }

  /** A mapping with only the allowed keys (others are typos); fails on a missing required key. */
  map(raw: unknown, field: string, allowed: readonly string[], required: readonly string[] = []): Fields {
    const node = this.resolve(raw, field);
    if (!isMap(node)) this.fail(node, field, `expected a mapping, found ${this.found(node)}`);
    const fields: Fields = new Map();
    for (const pair of node.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : "";
      const path = field ? `${field}.${key}` : key;
      if (!allowed.includes(key)) {
        const hint = closest(key, allowed);
        this.fail(
          pair.key,
          path,
          `unknown key${hint ? ` (did you mean ${hint}?)` : ""}; expected one of: ${allowed.join(", ")}`,
        );
      }
      fields.set(key, this.resolve(pair.value, path) as Node | null);
    }
    for (const key of required) {
      if (!fields.has(key)) this.fail(node, field ? `${field}.${key}` : key, "required, but missing");
    }
    return fields;
  }

  /** A list; an absent or empty value is an empty list. */
  list(raw: unknown, field: string): Node[] {
    const node = this.resolve(raw, field);
    if (node === undefined || node === null || (isScalar(node) && node.value === null)) return [];
    if (!isSeq(node)) this.fail(node, field, `expected a list, found ${this.found(node)}`);
    return node.items.map((item, i) => this.resolve(item, `${field}[${i}]`) as Node);
  }

  /** A list that must hold at least one item. */
  nonEmptyList(raw: unknown, field: string, what: string): Node[] {
    const items = this.list(raw, field);
    if (items.length === 0) this.fail(raw, field, `expected at least one ${what}`);
    return items;
  }

  /** A scalar's source text, checked against a rule. */
  scalar(raw: unknown, field: string, rule: Rule): string {
    const { test, expected: words } = rule;
    const node = this.resolve(raw, field);
    if (!isScalar(node) || node.value === null) {
      this.fail(node, field, `expected ${words}, found ${this.found(node)}`);
    }
    const value = this.source(node);
    if (!test(value)) this.fail(node, field, `expected ${words}, found "${value}"`);
    return value;
  }

  usd(raw: unknown, field: string): bigint {
    return parseUsd(this.scalar(raw, field, USD));
  }

  date(raw: unknown, field: string): string {
    return this.scalar(raw, field, ISO_DATE);
  }

  oneOf<T extends string>(raw: unknown, field: string, values: readonly T[]): T {
    return this.scalar(raw, field, {
      test: (text) => values.includes(text as T),
      expected: `one of ${values.join(", ")}`,
    }) as T;
  }
}

/** The allowed key within two edits of a typo, for the error message. */
function closest(key: string, allowed: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of allowed) {
    const distance = editDistance(key.toLowerCase(), candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] as number;
}
