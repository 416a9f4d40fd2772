// Registry principals: emails, patterns (`*@mkt.acme.example`, `*.acme.example`,
// `etl-*@acme.example`) and federated `principal://` subjects, read and compiled into the maps
// attribution looks principals up in.
import type { Node } from "yaml";
import { pattern, type Rule, type YamlReader } from "./yaml-reader.ts";

/** A principal glob other than the plain `*@domain` and `*.domain` forms, e.g. `etl-*@acme.example`. */
export interface PrincipalGlob {
  /** Canonical, lower case: `etl-*@acme.example`. */
  readonly pattern: string;
  /** Whether a lower-case principal matches: linear in its length (see globMatcher). */
  readonly matches: (principal: string) => boolean;
  /**
   * The same as a regular expression, for BigQuery's REGEXP_CONTAINS (RE2 runs in linear time);
   * never for a backtracking engine such as JavaScript's.
   */
  readonly re2Pattern: string;
  readonly department: string;
  /** How many literal characters it has: among matching patterns the most specific wins. */
  readonly specificity: number;
  /** Position in the file: the earlier wins between equally specific patterns. */
  readonly order: number;
}

export interface PatternTarget {
  readonly department: string;
  readonly specificity: number;
  readonly order: number;
}

/** The compiled principals of every department. */
export interface PrincipalIndex {
  /** Lower-case email, or principal:// subject as written -> department. */
  readonly exactPrincipals: ReadonlyMap<string, string>;
  /** `*@DOMAIN` patterns: lower-case domain -> department. */
  readonly domainPatterns: ReadonlyMap<string, PatternTarget>;
  /** `*.DOMAIN` (= `*@*.DOMAIN`) patterns: lower-case parent domain -> department. */
  readonly subdomainPatterns: ReadonlyMap<string, PatternTarget>;
  /** Other globs, in file order. */
  readonly principalGlobs: readonly PrincipalGlob[];
}

const DOMAIN_PATTERN =
  /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$/;
/** A DNS domain, lower case. */
export const DOMAIN: Rule = pattern(DOMAIN_PATTERN, "a DNS domain such as acme.example");
const EMAIL_LOCAL = /^[^\s@*]+$/;
const GLOB_LOCAL = /^[^\s@]+$/;
const PRINCIPAL = pattern(
  /^\S+$/,
  "an email, a pattern such as *@mkt.acme.example, *.acme.example or etl-*@acme.example, or a principal:// subject",
);

/** `user:`, `serviceAccount:` and `group:` prefixes, as IAM members and principalSubject write them. */
export function stripMemberPrefix(principal: string): string {
  const colon = principal.indexOf(":");
  if (colon > 0 && !principal.includes("://")) {
    const prefix = principal.slice(0, colon);
    if (prefix === "user" || prefix === "serviceAccount" || prefix === "group")
      return principal.slice(colon + 1);
  }
  return principal;
}

export function isFederatedSubject(principal: string): boolean {
  return principal.startsWith("principal://");
}

/** Whether `domain` is `parent` or one of its subdomains. */
export function isWithinDomain(domain: string, parent: string): boolean {
  return domain === parent || domain.endsWith(`.${parent}`);
}

type ParsedPrincipal =
  | { kind: "exact"; key: string }
  | { kind: "domain"; domain: string; canonical: string }
  | { kind: "subdomain"; parent: string; canonical: string }
  | { kind: "glob"; canonical: string; matches: (principal: string) => boolean; re2Pattern: string };

/** Reads one registry principal: an email, a glob, or a federated subject; undefined when malformed. */
function parsePrincipal(written: string): ParsedPrincipal | undefined {
  const value = stripMemberPrefix(written.trim());
  // Federated subjects are compared as written: their subject part comes from the identity provider.
  if (isFederatedSubject(value))
    return value.length > "principal://".length ? { kind: "exact", key: value } : undefined;
  const lower = value.toLowerCase();
  if (!lower.includes("*")) {
    const at = lower.lastIndexOf("@");
    const local = lower.slice(0, at);
    const domain = lower.slice(at + 1);
    return at > 0 && EMAIL_LOCAL.test(local) && DOMAIN_PATTERN.test(domain)
      ? { kind: "exact", key: lower }
      : undefined;
  }
  // `*.acme.example` is shorthand for `*@*.acme.example`: anyone in a subdomain.
  const canonical = lower.startsWith("*.") ? `*@${lower}` : lower;
  const at = canonical.lastIndexOf("@");
  if (at <= 0) return undefined;
  const local = canonical.slice(0, at);
  const domainPart = canonical.slice(at + 1);
  const subdomainsOf = domainPart.startsWith("*.") ? domainPart.slice(2) : undefined;
  const domain = subdomainsOf ?? domainPart;
  if (!GLOB_LOCAL.test(local) || !DOMAIN_PATTERN.test(domain)) return undefined;
  if (local === "*") {
    return subdomainsOf === undefined
      ? { kind: "domain", domain, canonical }
      : { kind: "subdomain", parent: subdomainsOf, canonical };
  }
  const escaped = canonical.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replaceAll("*", "[^@]*");
  return { kind: "glob", canonical, matches: globMatcher(canonical), re2Pattern: `^${escaped}$` };
}

/**
 * A matcher for a glob whose `*` stands for any run of characters but `@`. Not a RegExp: one
 * with several `[^@]*` backtracks polynomially on a long principal (seconds per entry at a few
 * thousand characters). The pattern holds one `@` and no `*` can cross it, so each side is
 * matched alone: the literal pieces between stars in order, each at its first place after the
 * last (leftmost-first is exact for `*`), the first piece as a prefix, the last as a suffix.
 */
export function globMatcher(pattern: string): (principal: string) => boolean {
  const at = pattern.lastIndexOf("@");
  const local = pattern.slice(0, at).split("*");
  const domain = pattern.slice(at + 1).split("*");
  return (principal) => {
    const split = principal.indexOf("@");
    if (split < 0 || principal.indexOf("@", split + 1) >= 0) return false;
    return piecesMatch(local, principal.slice(0, split)) && piecesMatch(domain, principal.slice(split + 1));
  };
}

/** Whether `text` is pieces[0] * pieces[1] * ... * pieces[n-1], `*` any run of characters. */
function piecesMatch(pieces: readonly string[], text: string): boolean {
  const first = pieces[0] as string;
  if (pieces.length === 1) return text === first;
  const last = pieces[pieces.length - 1] as string;
  if (text.length < first.length + last.length || !text.startsWith(first) || !text.endsWith(last))
    return false;
  let from = first.length;
  const end = text.length - last.length;
  for (let i = 1; i < pieces.length - 1; i++) {
    const piece = pieces[i] as string;
    const found = text.indexOf(piece, from);
    if (found < 0 || found + piece.length > end) return false;
    from = found + piece.length;
  }
  return true;
}

/** Literal characters of a pattern: `*@mkt.acme.example` (18) beats `*@*.acme.example` (14). */
function specificity(canonical: string): number {
  return canonical.replaceAll("*", "").length;
}

/** Collects the departments' principals in file order; refuses one principal in two departments. */
export class PrincipalIndexBuilder implements PrincipalIndex {
  readonly exactPrincipals = new Map<string, string>();
  readonly domainPatterns = new Map<string, PatternTarget>();
  readonly subdomainPatterns = new Map<string, PatternTarget>();
  readonly principalGlobs: PrincipalGlob[] = [];
  /** Canonical principal or pattern -> department. */
  private readonly owner = new Map<string, string>();
  private order = 0;
  private readonly r: YamlReader;

  constructor(r: YamlReader) {
    this.r = r;
  }

  /** Reads one department's `principals:` list; returns them as written. */
  readDepartment(raw: unknown, field: string, department: string): string[] {
    return this.r.list(raw, field).map((node, j) => this.add(node, `${field}[${j}]`, department));
  }

  private add(node: Node, field: string, department: string): string {
    const written = this.r.scalar(node, field, PRINCIPAL);
    const parsed = parsePrincipal(written);
    if (!parsed) this.r.fail(node, field, `expected ${PRINCIPAL.expected}, found "${written}"`);
    const canonical = parsed.kind === "exact" ? parsed.key : parsed.canonical;
    const owner = this.owner.get(canonical);
    if (owner !== undefined && owner !== department)
      this.r.fail(node, field, `${written} is already in department ${owner}`);
    this.owner.set(canonical, department);
    const target = { department, specificity: specificity(canonical), order: this.order++ };
    if (parsed.kind === "exact") this.exactPrincipals.set(parsed.key, department);
    else if (parsed.kind === "domain") this.domainPatterns.set(parsed.domain, target);
    else if (parsed.kind === "subdomain") this.subdomainPatterns.set(parsed.parent, target);
    else
      this.principalGlobs.push({
        pattern: canonical,
        matches: parsed.matches,
        re2Pattern: parsed.re2Pattern,
        ...target,
      });
    return written;
  }
}
