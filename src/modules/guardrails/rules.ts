/**
 * The pure parts of a guardrail: model patterns, content rules (validated, compiled, matched)
 * and the walk over every string of an execution's input. No database here.
 */
import type { ContentRule } from "../../db/schema";
import type { FieldIssue } from "../../errors";

/** `mock-*` matches any slug starting with `mock-`; anything else matches itself exactly. */
export function modelMatches(pattern: string, slug: string): boolean {
  return pattern.endsWith("*") ? slug.startsWith(pattern.slice(0, -1)) : pattern === slug;
}

/**
 * Why a regex is refused, or null. Besides syntax, a quantified group that itself contains a
 * quantifier (`(a+)+`, `(\w*)*`, `(x+){2,}`) is refused: such patterns can backtrack
 * exponentially, and one request would stall the server for every organization.
 */
export function regexProblem(pattern: string): string | null {
  try {
    new RegExp(pattern, "i");
  } catch (e) {
    return `Not a valid regular expression: ${(e as Error).message}`;
  }
  return hasNestedQuantifier(pattern) ? "A repeated group contains a repetition (e.g. (a+)+); such patterns can take exponential time." : null;
}

const isQuantifierAt = (p: string, i: number) => p[i] === "*" || p[i] === "+" || (p[i] === "{" && /^\{\d+(,\d*)?\}/.test(p.slice(i)));

function hasNestedQuantifier(p: string): boolean {
  const groups: boolean[] = []; // per open group: does it contain a quantifier?
  let inClass = false;
  for (let i = 0; i < p.length; i++) {
    const c = p[i];
    if (c === "\\") {
      i++; // the escaped character is a literal (or a class like \d): skip it
      continue;
    }
    if (inClass) {
      if (c === "]") inClass = false;
      continue;
    }
    if (c === "[") inClass = true;
    else if (c === "(") groups.push(false);
    else if (c === ")") {
      const containsQuantifier = groups.pop() ?? false;
      if (containsQuantifier && isQuantifierAt(p, i + 1)) return true;
      if (containsQuantifier && groups.length > 0) groups[groups.length - 1] = true;
    } else if (isQuantifierAt(p, i) && groups.length > 0) groups[groups.length - 1] = true;
  }
  return false;
}

/** Problems with a rule list, each naming its path (`content_rules[2].pattern`). */
export function contentRuleIssues(rules: ContentRule[], root = "content_rules"): FieldIssue[] {
  const issues: FieldIssue[] = [];
  rules.forEach((rule, i) => {
    const field = `${root}[${i}].pattern`;
    if (rule.pattern.trim().length === 0) issues.push({ field, code: "too_short", message: "Must not be blank." });
    else if (rule.kind === "regex") {
      const problem = regexProblem(rule.pattern);
      if (problem) issues.push({ field, code: "invalid_format", message: problem });
    }
  });
  return issues;
}

const escapeRegex = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** Compiles rules once: terms as whole words or phrases, both kinds case-insensitive. */
export function compileRules(rules: ContentRule[]): RegExp[] {
  return rules.map((rule) =>
    rule.kind === "term"
      ? new RegExp(`(?<![\\p{L}\\p{N}_])${escapeRegex(rule.pattern.trim()).replace(/\s+/g, "\\s+")}(?![\\p{L}\\p{N}_])`, "iu")
      : new RegExp(rule.pattern, "i"),
  );
}

/** `input.messages[0].content` style path of a child. */
const childPath = (parent: string, key: string | number) =>
  typeof key === "number" ? `${parent}[${key}]` : /^[A-Za-z_$][\w$-]*$/.test(key) ? `${parent}.${key}` : `${parent}[${JSON.stringify(key)}]`;

/** The first string in `value` (walked depth-first, no recursion) that a rule matches. */
export function firstViolation(value: unknown, rules: RegExp[], root = "input"): { field: string; ruleIndex: number } | null {
  if (rules.length === 0) return null;
  const stack: [unknown, string][] = [[value, root]];
  while (stack.length > 0) {
    const [node, path] = stack.pop()!;
    if (typeof node === "string") {
      const ruleIndex = rules.findIndex((re) => re.test(node));
      if (ruleIndex >= 0) return { field: path, ruleIndex };
    } else if (Array.isArray(node)) {
      for (let i = node.length - 1; i >= 0; i--) stack.push([node[i], childPath(path, i)]);
    } else if (node !== null && typeof node === "object") {
      const entries = Object.entries(node);
      for (let i = entries.length - 1; i >= 0; i--) stack.push([entries[i]![1], childPath(path, entries[i]![0])]);
    }
  }
  return null;
}
