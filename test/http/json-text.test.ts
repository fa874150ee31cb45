import { expect, test } from "bun:test";
import { depthExceededAt, findSyntaxProblem, MAX_JSON_DEPTH } from "../../src/http/json-text";

const bytes = (text: string) => new TextEncoder().encode(text);

test("depth: 64 levels pass, the 65th is found at its opening byte; brackets in strings and escaped quotes nest nothing", () => {
  expect(depthExceededAt(bytes("[".repeat(MAX_JSON_DEPTH) + "]".repeat(MAX_JSON_DEPTH)))).toBe(-1);
  expect(depthExceededAt(bytes("[".repeat(MAX_JSON_DEPTH + 1)))).toBe(MAX_JSON_DEPTH);
  expect(depthExceededAt(bytes(`{"a":"${"[".repeat(100)}"}`))).toBe(-1);
  // `"\"[[[…"` is one string: the escaped quote does not end it.
  expect(depthExceededAt(bytes(JSON.stringify({ a: `"${"{".repeat(100)}` })))).toBe(-1);
  // `"\\"` ends after the escaped backslash: what follows is structure again.
  const afterBackslash = `["\\\\",${"[".repeat(MAX_JSON_DEPTH)}`;
  expect(depthExceededAt(bytes(afterBackslash))).toBe(afterBackslash.length - 1);
  expect(depthExceededAt(bytes(""))).toBe(-1);
});

test("the syntax locator accepts exactly what JSON.parse accepts, over valid documents and mutations of them", () => {
  const documents = [
    { model: "mock-chat", input: { messages: [{ role: "user", content: "héllo \"quoted\" \\ \u0001 \u2028" }] }, n: -1.5e-3, ok: true, none: null },
    [1, 0, -0, 12.5, 1e10, "", [], {}, [[[]]], { "": 0 }],
    "just a string",
    42,
  ];
  const inputs: string[] = [];
  for (const doc of documents) {
    const text = JSON.stringify(doc, null, doc === 42 ? undefined : 1);
    inputs.push(text);
    // Every single-character deletion and a few replacements: a mix of valid and invalid texts.
    for (let i = 0; i < text.length; i++) {
      inputs.push(text.slice(0, i) + text.slice(i + 1));
      for (const c of [",", "}", "]", '"', "x", "0", "-", "\\", "\u0007"]) inputs.push(text.slice(0, i) + c + text.slice(i + 1));
    }
  }
  for (const text of inputs) {
    let parses = true;
    try {
      JSON.parse(text);
    } catch {
      parses = false;
    }
    expect({ text, located: findSyntaxProblem(text) === null }).toEqual({ text, located: parses });
  }
});

test("problems are named with their offset", () => {
  expect(findSyntaxProblem("")).toEqual({ offset: 0, message: "expected a value but found the end of the body" });
  expect(findSyntaxProblem("{'a':1}")).toEqual({ offset: 1, message: "expected a field name in double quotes but found \"'\"" });
  expect(findSyntaxProblem('{"a" 1}')).toEqual({ offset: 5, message: 'expected ":" but found "1"' });
  expect(findSyntaxProblem("[1 2]")).toEqual({ offset: 3, message: 'expected "," or "]" but found "2"' });
  expect(findSyntaxProblem('"\\x"')).toEqual({ offset: 1, message: '"x" cannot follow a backslash' });
  expect(findSyntaxProblem('"\\u12"')).toEqual({ offset: 1, message: "\\u must be followed by four hex digits" });
  expect(findSyntaxProblem("01")).toEqual({ offset: 1, message: 'expected the end of the body but found "1"' });
});
