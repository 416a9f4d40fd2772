// Job label rules: `label_keys` (which keys attribute, in order of precedence) and each
// department's `labels` (`team:growth`), read and compiled into the map attribution looks a
// job's labels up in. A `key:value` belongs to one department only.
import type { Node } from "yaml";
import type { Rule, YamlReader } from "./yaml-reader.ts";

/** The compiled label rules. */
export interface LabelIndex {
  /** Label keys that attribute, in order of precedence: of the keys a job carries, the first with a known value decides. */
  readonly labelKeys: readonly string[];
  /** `key:value` -> department. */
  readonly labelDepartments: ReadonlyMap<string, string>;
}

// BigQuery's label rules (https://cloud.google.com/bigquery/docs/labels-intro#requirements):
// keys 1-63 characters, values 0-63; lower-case letters (international ones too), digits, _ and
// -; a key starts with a letter. Neither can hold ":", so `key:value` splits at its colon.
const KEY = /^[\p{Ll}\p{Lo}][\p{Ll}\p{Lo}\p{Nd}_-]{0,62}$/u;
const VALUE = /^[\p{Ll}\p{Lo}\p{Nd}_-]{0,63}$/u;
const LABEL_KEY: Rule = {
  test: (text) => KEY.test(text),
  expected:
    "a BigQuery label key (1-63 lower-case letters, digits, _ or -, starting with a letter), such as team or cost-center",
};
const LABEL: Rule = {
  test: (text) => {
    const colon = text.indexOf(":");
    return colon > 0 && KEY.test(text.slice(0, colon)) && VALUE.test(text.slice(colon + 1));
  },
  expected:
    "a job label key:value as bq query --label writes it, such as team:growth (lower-case letters, digits, _ or -; quote it if it holds a space)",
};

/** Reads `label_keys` first, then each department's `labels`; refuses a label in two departments. */
export class LabelIndexBuilder implements LabelIndex {
  readonly labelKeys: string[] = [];
  readonly labelDepartments = new Map<string, string>();
  private readonly r: YamlReader;

  constructor(r: YamlReader) {
    this.r = r;
  }

  /** `label_keys`: unique keys, in order of precedence. */
  readKeys(raw: unknown): void {
    this.r.list(raw, "label_keys").forEach((node, i) => {
      const field = `label_keys[${i}]`;
      const key = this.r.scalar(node, field, LABEL_KEY);
      if (this.labelKeys.includes(key)) this.r.fail(node, field, `label key ${key} is listed twice`);
      this.labelKeys.push(key);
    });
  }

  /** One department's `labels:` list; returns them as written. */
  readDepartment(raw: unknown, field: string, department: string): string[] {
    return this.r.list(raw, field).map((node, j) => this.add(node, `${field}[${j}]`, department));
  }

  private add(node: Node, field: string, department: string): string {
    const label = this.r.scalar(node, field, LABEL);
    const key = label.slice(0, label.indexOf(":"));
    if (!this.labelKeys.includes(key)) {
      const listed =
        this.labelKeys.length > 0 ? `label_keys lists ${this.labelKeys.join(", ")}` : "no label_keys";
      this.r.fail(
        node,
        field,
        `the key ${key} is not in label_keys (${listed}): add it there, at the place that sets its precedence`,
      );
    }
    const owner = this.labelDepartments.get(label);
    if (owner !== undefined && owner !== department)
      this.r.fail(node, field, `${label} is already a label of department ${owner}`);
    this.labelDepartments.set(label, department);
    return label;
  }
}
