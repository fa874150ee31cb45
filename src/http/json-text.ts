/**
 * Checks on a JSON body before and after JSON.parse. Nesting is bounded before the body is
 * parsed: a 200 KB body nested 100 000 levels deep is valid JSON, but every recursive walk after
 * it (validation, error reporting, cloning) then takes seconds and gigabytes. And when JSON.parse
 * refuses a body, its own message ("JSON Parse error: Unexpected identifier") names neither the
 * place nor the problem in our words, so the body is scanned again to say both.
 */

/** Deeper than any body of this API needs; refused with 400 before parsing. */
export const MAX_JSON_DEPTH = 64;

const QUOTE = 0x22, BACKSLASH = 0x5c, OPEN_BRACE = 0x7b, CLOSE_BRACE = 0x7d, OPEN_BRACKET = 0x5b, CLOSE_BRACKET = 0x5d;

/**
 * The byte offset of the first `{` or `[` that opens a level deeper than `maxDepth`, or -1.
 * One pass, no recursion, strings skipped (a `[` inside a string nests nothing).
 */
export function depthExceededAt(bytes: Uint8Array, maxDepth = MAX_JSON_DEPTH): number {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (inString) {
      if (b === BACKSLASH) i++;
      else if (b === QUOTE) inString = false;
    } else if (b === QUOTE) inString = true;
    else if (b === OPEN_BRACE || b === OPEN_BRACKET) {
      if (++depth > maxDepth) return i;
    } else if (b === CLOSE_BRACE || b === CLOSE_BRACKET) depth--;
  }
  return -1;
}

export type SyntaxProblem = { offset: number; message: string };

class Invalid extends Error {
  constructor(readonly offset: number, readonly problem: string) {
    super(problem);
  }
}

const WHITESPACE = new Set([" ", "\t", "\n", "\r"]);
const NUMBER = /-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;

/**
 * Where and why `text` is not JSON (RFC 8259), or null when it is. Only called once JSON.parse
 * has refused the text, and only on text whose depth is bounded, so recursion here is shallow.
 * Offsets count UTF-16 code units of the decoded text; they equal byte offsets for ASCII.
 */
export function findSyntaxProblem(text: string): SyntaxProblem | null {
  let i = 0;
  const shown = (at: number) => (at >= text.length ? "the end of the body" : JSON.stringify(text[at]));
  const fail = (expected: string): never => {
    throw new Invalid(i, `expected ${expected} but found ${shown(i)}`);
  };
  const skipSpace = () => {
    while (i < text.length && WHITESPACE.has(text[i]!)) i++;
  };
  const literal = (word: string) => {
    for (let k = 0; k < word.length; k++, i++) if (text[i] !== word[k]) fail(`"${word}"`);
  };
  const string = () => {
    i++; // opening quote
    for (;;) {
      if (i >= text.length) throw new Invalid(i, "a string is not closed");
      const c = text.charCodeAt(i);
      if (c === QUOTE) return void i++;
      if (c < 0x20) throw new Invalid(i, "a control character must be escaped inside a string");
      if (c === BACKSLASH) {
        const next = text[i + 1];
        if (next === "u") {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) throw new Invalid(i, "\\u must be followed by four hex digits");
          i += 6;
        } else if (next !== undefined && '"\\/bfnrt'.includes(next)) i += 2;
        else throw new Invalid(i, `${shown(i + 1)} cannot follow a backslash`);
      } else i++;
    }
  };
  const number = () => {
    NUMBER.lastIndex = i;
    const match = NUMBER.exec(text);
    if (!match) fail("a value");
    i += match![0].length;
  };
  const value = (): void => {
    skipSpace();
    const c = text[i];
    if (c === "{") return object();
    if (c === "[") return array();
    if (c === '"') return string();
    if (c === "t") return literal("true");
    if (c === "f") return literal("false");
    if (c === "n") return literal("null");
    if (c === "-" || (c !== undefined && c >= "0" && c <= "9")) return number();
    fail("a value");
  };
  const object = () => {
    i++;
    skipSpace();
    if (text[i] === "}") return void i++;
    for (;;) {
      skipSpace();
      if (text[i] !== '"') fail("a field name in double quotes");
      string();
      skipSpace();
      if (text[i] !== ":") fail('":"');
      i++;
      value();
      skipSpace();
      if (text[i] === "}") return void i++;
      if (text[i] !== ",") fail('"," or "}"');
      i++;
    }
  };
  const array = () => {
    i++;
    skipSpace();
    if (text[i] === "]") return void i++;
    for (;;) {
      value();
      skipSpace();
      if (text[i] === "]") return void i++;
      if (text[i] !== ",") fail('"," or "]"');
      i++;
    }
  };
  try {
    value();
    skipSpace();
    if (i < text.length) fail("the end of the body");
    return null;
  } catch (e) {
    if (e instanceof Invalid) return { offset: e.offset, message: e.problem };
    throw e;
  }
}
