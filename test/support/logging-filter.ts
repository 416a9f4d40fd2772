// A small evaluator of the Cloud Logging query language, for the subset deploy/sink-filter.txt
// uses: field paths (with "quoted" segments), =, != and : (has), AND, OR, NOT, parentheses.
// It lets a test prove that the Log Router sink selects exactly the entries the parser uses; the
// deployed sink itself is written by deploy/deploy.sh from deploy/sink-filter.txt.

type Node =
  | { op: "and" | "or"; left: Node; right: Node }
  | { op: "not"; inner: Node }
  | { op: "=" | "!=" | ":"; path: string[]; value: string };

const TOKEN = /\s*(\(|\)|!=|=|:|(?:[^\s()=:!"]+|"(?:[^"\\]|\\.)*")+)/y;

function tokenize(text: string): string[] {
  const tokens: string[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < text.length) {
    if (/^\s*$/.test(text.slice(TOKEN.lastIndex))) break;
    const match = TOKEN.exec(text);
    if (!match)
      throw new SyntaxError(
        `filter: cannot read at ${TOKEN.lastIndex}: ${text.slice(TOKEN.lastIndex, TOKEN.lastIndex + 20)}`,
      );
    tokens.push(match[1] as string);
  }
  return tokens;
}

const unquote = (token: string) => (token.startsWith('"') ? (JSON.parse(token) as string) : token);

export function parseFilter(text: string): Node {
  const tokens = tokenize(text);
  let at = 0;
  const peek = () => tokens[at];
  const next = () => tokens[at++] as string;
  const or = (): Node => {
    let left = and();
    while (peek() === "OR") {
      next();
      left = { op: "or", left, right: and() };
    }
    return left;
  };
  const and = (): Node => {
    let left = unary();
    while (peek() !== undefined && peek() !== "OR" && peek() !== ")") {
      if (peek() === "AND") next();
      left = { op: "and", left, right: unary() };
    }
    return left;
  };
  const unary = (): Node => {
    if (peek() === "NOT") {
      next();
      return { op: "not", inner: unary() };
    }
    if (peek() === "(") {
      next();
      const inner = or();
      if (next() !== ")") throw new SyntaxError("filter: expected )");
      return inner;
    }
    const field = next();
    const op = next();
    if (op !== "=" && op !== "!=" && op !== ":")
      throw new SyntaxError(`filter: expected =, != or : after ${field}, found ${op}`);
    const path = (field.match(/"(?:[^"\\]|\\.)*"|[^.]+/g) ?? []).map(unquote);
    return { op, path, value: unquote(next()) };
  };
  const tree = or();
  if (at !== tokens.length) throw new SyntaxError(`filter: unexpected ${tokens[at]}`);
  return tree;
}

function resolve(entry: unknown, path: string[]): unknown {
  let value = entry;
  for (const segment of path) {
    if (typeof value !== "object" || value === null) return undefined;
    value = (value as Record<string, unknown>)[segment];
  }
  return value;
}

export function matches(filter: Node, entry: unknown): boolean {
  switch (filter.op) {
    case "and":
      return matches(filter.left, entry) && matches(filter.right, entry);
    case "or":
      return matches(filter.left, entry) || matches(filter.right, entry);
    case "not":
      return !matches(filter.inner, entry);
    default: {
      const value = resolve(entry, filter.path);
      if (value === undefined || value === null || typeof value === "object") return filter.op === "!=";
      const text = String(value);
      if (filter.op === ":") return text.toLowerCase().includes(filter.value.toLowerCase());
      return filter.op === "=" ? text === filter.value : text !== filter.value;
    }
  }
}
