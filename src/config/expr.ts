import { ConfigError } from "../util/errors.js";

/**
 * A small, safe expression language for sweep filters (`{type: expr, expr: "..."}`), replacing the
 * original's Python `eval`: comparisons (== != < > <= >=), `and`/`or`/`not` (also && || !),
 * parentheses, strings, numbers, booleans, null/None, and dotted config keys such as
 * `model.id == "FFNN" and seed > 2`. Nothing is ever evaluated as code.
 */
export type ExprValue = string | number | boolean | null;

type Node =
  | { kind: "literal"; value: ExprValue }
  | { kind: "key"; path: string }
  | { kind: "not"; operand: Node }
  | { kind: "logic"; op: "and" | "or"; left: Node; right: Node }
  | { kind: "compare"; op: CompareOp; left: Node; right: Node };

type CompareOp = "==" | "!=" | "<" | ">" | "<=" | ">=";

type Token =
  | { type: "num"; value: number }
  | { type: "str"; value: string }
  | { type: "ident"; value: string }
  | { type: "op"; value: string }
  | { type: "end" };

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const fail = (why: string): never => {
    throw new ConfigError("expr", `cannot parse '${source}' at position ${i}: ${why}`);
  };
  while (i < source.length) {
    const c = source[i] as string;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const two = source.slice(i, i + 2);
    if (["==", "!=", "<=", ">=", "&&", "||"].includes(two)) {
      tokens.push({ type: "op", value: two });
      i += 2;
      continue;
    }
    if ("<>()!".includes(c)) {
      tokens.push({ type: "op", value: c });
      i++;
      continue;
    }
    if (c === '"' || c === "'") {
      let j = i + 1;
      let text = "";
      while (j < source.length && source[j] !== c) {
        if (source[j] === "\\" && j + 1 < source.length) j++;
        text += source[j];
        j++;
      }
      if (j >= source.length) fail("unterminated string");
      tokens.push({ type: "str", value: text });
      i = j + 1;
      continue;
    }
    const num = /^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?/.exec(source.slice(i));
    if (num && (c !== "-" || /[\d.]/.test(source[i + 1] ?? ""))) {
      tokens.push({ type: "num", value: Number(num[0]) });
      i += num[0].length;
      continue;
    }
    const ident = /^[A-Za-z_][\w-]*(\.[A-Za-z_][\w-]*)*/.exec(source.slice(i));
    if (ident) {
      tokens.push({ type: "ident", value: ident[0] });
      i += ident[0].length;
      continue;
    }
    fail(`unexpected character '${c}'`);
  }
  tokens.push({ type: "end" });
  return tokens;
}

/** Parses an expression into a tree (throws ConfigError with the position on a syntax error). */
export function parseExpr(source: string): Node {
  const tokens = tokenize(source);
  let pos = 0;
  const peek = (): Token => tokens[pos] as Token;
  const fail = (why: string): never => {
    throw new ConfigError("expr", `cannot parse '${source}': ${why}`);
  };
  const isWord = (t: Token, ...words: string[]) =>
    (t.type === "ident" || t.type === "op") && words.includes(t.value);

  function parseOr(): Node {
    let left = parseAnd();
    while (isWord(peek(), "or", "||")) {
      pos++;
      left = { kind: "logic", op: "or", left, right: parseAnd() };
    }
    return left;
  }
  function parseAnd(): Node {
    let left = parseNot();
    while (isWord(peek(), "and", "&&")) {
      pos++;
      left = { kind: "logic", op: "and", left, right: parseNot() };
    }
    return left;
  }
  function parseNot(): Node {
    if (isWord(peek(), "not", "!")) {
      pos++;
      return { kind: "not", operand: parseNot() };
    }
    return parseCompare();
  }
  function parseCompare(): Node {
    const left = parseAtom();
    const t = peek();
    if (t.type === "op" && ["==", "!=", "<", ">", "<=", ">="].includes(t.value)) {
      pos++;
      const right = parseAtom();
      const next = peek();
      if (next.type === "op" && ["==", "!=", "<", ">", "<=", ">="].includes(next.value)) {
        fail("chained comparisons are not supported; join them with 'and'");
      }
      return { kind: "compare", op: t.value as CompareOp, left, right };
    }
    return left;
  }
  function parseAtom(): Node {
    const t = peek();
    pos++;
    if (t.type === "num") return { kind: "literal", value: t.value };
    if (t.type === "str") return { kind: "literal", value: t.value };
    if (t.type === "op" && t.value === "(") {
      const inner = parseOr();
      const close = peek();
      if (!(close.type === "op" && close.value === ")")) fail("missing ')'");
      pos++;
      return inner;
    }
    if (t.type === "ident") {
      if (t.value === "true" || t.value === "True") return { kind: "literal", value: true };
      if (t.value === "false" || t.value === "False") return { kind: "literal", value: false };
      if (t.value === "null" || t.value === "None") return { kind: "literal", value: null };
      if (["and", "or", "not"].includes(t.value)) fail(`unexpected '${t.value}'`);
      return { kind: "key", path: t.value };
    }
    return fail(
      t.type === "end" ? "unexpected end of expression" : `unexpected '${(t as { value: string }).value}'`,
    );
  }

  const tree = parseOr();
  if (peek().type !== "end")
    fail(`unexpected '${(peek() as { value: unknown }).value}' after the expression`);
  return tree;
}

function lookup(config: Record<string, unknown>, path: string, source: string): ExprValue {
  let node: unknown = config;
  for (const part of path.split(".")) {
    if (typeof node !== "object" || node === null || !(part in (node as object))) {
      throw new ConfigError(path, `filter expression '${source}' refers to a key the config does not have`);
    }
    node = (node as Record<string, unknown>)[part];
  }
  if (node !== null && typeof node === "object") {
    throw new ConfigError(
      path,
      `filter expression '${source}' compares a whole config section; name a value`,
    );
  }
  return node as ExprValue;
}

function truthy(value: unknown): boolean {
  return value !== null && value !== false && value !== 0 && value !== "";
}

/** Evaluates an expression against a config; the result is a boolean (Python truthiness). */
export function evaluateExpr(source: string, config: Record<string, unknown>): boolean {
  const tree = parseExpr(source);
  const evalNode = (node: Node): ExprValue => {
    switch (node.kind) {
      case "literal":
        return node.value;
      case "key":
        return lookup(config, node.path, source);
      case "not":
        return !truthy(evalNode(node.operand));
      case "logic": {
        const left = truthy(evalNode(node.left));
        if (node.op === "and") return left && truthy(evalNode(node.right));
        return left || truthy(evalNode(node.right));
      }
      case "compare": {
        const a = evalNode(node.left);
        const b = evalNode(node.right);
        if (node.op === "==") return a === b;
        if (node.op === "!=") return a !== b;
        if (typeof a !== typeof b || a === null || b === null || typeof a === "boolean") {
          throw new ConfigError(
            "expr",
            `'${source}': cannot order ${JSON.stringify(a)} and ${JSON.stringify(b)} with ${node.op}`,
          );
        }
        const x = a as number | string;
        const y = b as number | string;
        if (node.op === "<") return x < y;
        if (node.op === ">") return x > y;
        if (node.op === "<=") return x <= y;
        return x >= y;
      }
    }
  };
  return truthy(evalNode(tree));
}
