/**
 * The SQL the stores write (drizzle's sqlite-core output and raw bun:sqlite statements) as
 * PostgreSQL reads it: `?`, `$name`, `:name` and `@name` placeholders become `$1…$n`,
 * SQLite's `BEGIN DEFERRED|IMMEDIATE|EXCLUSIVE` becomes `BEGIN`, camelCase aliases are quoted
 * (PostgreSQL folds the others to lower case), and an upsert's conflict target loses its table
 * qualifier. Everything else the stores
 * write is SQL both engines read alike; the few statements that are not are written per dialect
 * in their store (`isPostgres`).
 */
export type Translated = {
  text: string;
  /** For named placeholders: the name bound to $1, $2, …; null when the statement is positional. */
  names: string[] | null;
  /** How many parameters the statement takes. */
  count: number;
};

const NAME_START = /[A-Za-z_]/;
const NAME_PART = /[A-Za-z0-9_]/;

export function toPostgres(sql: string): Translated {
  let out = "";
  let positional = 0;
  const names: string[] = [];
  const indexOfName = new Map<string, number>();
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const ch = sql[i]!;
    if (ch === "'" || ch === '"') {
      const end = closingQuote(sql, i, ch);
      out += sql.slice(i, end);
      i = end;
    } else if (ch === "-" && sql[i + 1] === "-") {
      const end = sql.indexOf("\n", i);
      const stop = end === -1 ? n : end;
      out += sql.slice(i, stop);
      i = stop;
    } else if (ch === "/" && sql[i + 1] === "*") {
      const end = sql.indexOf("*/", i + 2);
      const stop = end === -1 ? n : end + 2;
      out += sql.slice(i, stop);
      i = stop;
    } else if (ch === ":" && sql[i + 1] === ":") {
      out += "::"; // a PostgreSQL cast in a statement written for PostgreSQL
      i += 2;
    } else if (ch === "?") {
      let j = i + 1;
      while (j < n && sql[j]! >= "0" && sql[j]! <= "9") j++;
      out += j > i + 1 ? `$${sql.slice(i + 1, j)}` : `$${++positional}`;
      if (j > i + 1) positional = Math.max(positional, Number(sql.slice(i + 1, j)));
      i = j;
    } else if ((ch === "$" || ch === ":" || ch === "@") && i + 1 < n && NAME_START.test(sql[i + 1]!)) {
      let j = i + 2;
      while (j < n && NAME_PART.test(sql[j]!)) j++;
      const name = sql.slice(i + 1, j);
      let index = indexOfName.get(name);
      if (index === undefined) {
        names.push(name);
        indexOfName.set(name, (index = names.length));
      }
      out += `$${index}`;
      i = j;
    } else if (ch === "$" && i + 1 < n && sql[i + 1]! >= "0" && sql[i + 1]! <= "9") {
      let j = i + 1;
      while (j < n && sql[j]! >= "0" && sql[j]! <= "9") j++;
      positional = Math.max(positional, Number(sql.slice(i + 1, j)));
      out += sql.slice(i, j);
      i = j;
    } else {
      out += ch;
      i++;
    }
  }
  out = out.replace(/^\s*begin\s+(deferred|immediate|exclusive)\b/i, "BEGIN");
  // PostgreSQL folds unquoted names to lower case: a camelCase alias (`AS availableMicros`) keeps its case quoted.
  out = out.replace(/\bAS\s+([A-Za-z_][A-Za-z0-9_]*)\b/gi, (all, name: string) => (/[a-z]/.test(name) && /[A-Z]/.test(name) ? `AS "${name}"` : all));
  // drizzle's sqlite-core names an upsert's conflict target table-qualified; PostgreSQL wants bare columns.
  out = out.replace(/on conflict \(([^)]*)\)/gi, (_all, columns: string) => `on conflict (${columns.replace(/"[^"]+"\./g, "")})`);
  if (names.length && positional) throw new Error(`a statement mixes named and positional parameters: ${sql.slice(0, 120)}`);
  return { text: out, names: names.length ? names : null, count: names.length || positional };
}

/** The index just past the quote that closes the one at `start` ('' and "" escape a quote). */
function closingQuote(sql: string, start: number, quote: string): number {
  let i = start + 1;
  while (i < sql.length) {
    if (sql[i] === quote) {
      if (sql[i + 1] === quote) i += 2;
      else return i + 1;
    } else i++;
  }
  return sql.length;
}
