import { expect, test } from "bun:test";
import { compileRules, contentRuleIssues, firstViolation, modelMatches, regexProblem } from "../../../src/modules/guardrails/rules";

test("model patterns: exact slugs, and a trailing * for prefixes", () => {
  expect(modelMatches("mock-chat", "mock-chat")).toBe(true);
  expect(modelMatches("mock-chat", "mock-chat-2")).toBe(false);
  expect(modelMatches("mock-*", "mock-image")).toBe(true);
  expect(modelMatches("mock-*", "demo-model")).toBe(false);
});

test("regexes that do not compile or can backtrack exponentially are refused", () => {
  expect(regexProblem("\\d{3}-\\d{4}")).toBeNull();
  expect(regexProblem("(ab)+c")).toBeNull(); // repeated group without inner repetition
  expect(regexProblem("[(a+)]+")).toBeNull(); // brackets inside a class are literals
  expect(regexProblem("\\(a+\\)+")).toBeNull(); // escaped parentheses are literals
  expect(regexProblem("(a")).toContain("Not a valid regular expression");
  for (const evil of ["(a+)+", "(\\w*)*x", "((ab)*c)+", "(x+){2,}", "(?:a|b+)*"]) expect(regexProblem(evil)).toContain("exponential");
});

test("rule issues name the pattern's path", () => {
  const issues = contentRuleIssues([
    { kind: "term", pattern: "ok" },
    { kind: "term", pattern: "   " },
    { kind: "regex", pattern: "(a+)+" },
  ]);
  expect(issues.map((i) => `${i.field} ${i.code}`)).toEqual(["content_rules[1].pattern too_short", "content_rules[2].pattern invalid_format"]);
});

test("the walk finds the first matching string at any depth, with its path", () => {
  const rules = compileRules([{ kind: "term", pattern: "café" }]);
  expect(firstViolation({ a: "CAFÉ au lait" }, rules)).toEqual({ field: "input.a", ruleIndex: 0 });
  expect(firstViolation({ a: "cafés" }, rules)).toBeNull(); // whole words only
  expect(firstViolation({ list: [1, null, { "odd key": ["x", "le café"] }] }, rules)).toEqual({ field: 'input.list[2]["odd key"][1]', ruleIndex: 0 });
  let deep: unknown = "café";
  for (let i = 0; i < 10_000; i++) deep = [deep]; // no recursion, no stack overflow
  expect(firstViolation(deep, rules)?.ruleIndex).toBe(0);
});
