/**
 * The ledger's invariants (docs/architecture.md "Money"), checked straight on the SQLite file:
 *   available + held = total = credits − captures ± adjustments; available = sum of entry amounts − held;
 *   held = what the open executions hold (their hold_micros); available ≥ 0; every execution
 *   resolved at most once, capture ≤ hold; a finished execution that held anything has its one
 *   resolution and its cost is what was captured; a running one has none.
 * Throws an Error listing every violation; returns the figures when all hold.
 */
import type { Database } from "bun:sqlite";

const TERMINAL = new Set(["COMPLETED", "FAILED", "CANCELLED", "EXPIRED"]);

type ResolutionRow = { execution_id: string; amount: number; captured: number; released: number };
type ExecutionRow = { id: string; status: string; cost_micros: number | null; hold_micros: number };

export type LedgerFigures = { availableMicros: number; heldMicros: number; creditsMicros: number; capturesMicros: number; openHolds: number };

export function invariants(db: Database, orgId: string): LedgerFigures {
  // One read transaction: a consistent snapshot even while a server writes through another connection.
  return db.transaction(() => check(db, orgId)).deferred();
}

function check(db: Database, orgId: string): LedgerFigures {
  const problems: string[] = [];
  const balance = db.query("SELECT available_micros AS available, held_micros AS held FROM balances WHERE org_id = ?").get(orgId) as { available: number; held: number } | null;
  const available = balance?.available ?? 0;
  const held = balance?.held ?? 0;
  const sums = db
    .query(
      `SELECT coalesce(sum(CASE WHEN kind = 'credit' THEN amount_micros END), 0) AS credits,
              coalesce(sum(CASE WHEN kind = 'resolve' THEN captured_micros END), 0) AS captures,
              coalesce(sum(CASE WHEN kind = 'adjustment' THEN amount_micros END), 0) AS adjustments,
              coalesce(sum(amount_micros), 0) AS effects
       FROM ledger_entries WHERE org_id = ?`,
    )
    .get(orgId) as { credits: number; captures: number; adjustments: number; effects: number };
  const resolutions = db
    .query("SELECT execution_id, amount_micros AS amount, captured_micros AS captured, released_micros AS released FROM ledger_entries WHERE org_id = ? AND kind = 'resolve'")
    .all(orgId) as ResolutionRow[];
  const executions = db.query("SELECT id, status, cost_micros, hold_micros FROM executions WHERE org_id = ?").all(orgId) as ExecutionRow[];

  const total = available + held;
  if (available < 0) problems.push(`available is negative: ${available}`);
  if (held < 0) problems.push(`held is negative: ${held}`);
  if (total !== sums.credits - sums.captures + sums.adjustments)
    problems.push(`total ${total} ≠ credits ${sums.credits} − captures ${sums.captures} ± adjustments ${sums.adjustments}`);
  if (available !== sums.effects - held) problems.push(`available ${available} ≠ sum of entry amounts ${sums.effects} − held ${held}`);
  const open = executions.filter((e) => !TERMINAL.has(e.status) && e.hold_micros > 0);
  const openSum = open.reduce((a, e) => a + e.hold_micros, 0);
  if (held !== openSum) problems.push(`held ${held} ≠ what ${open.length} open executions hold ${openSum}`);

  const byExecution = new Map<string, ResolutionRow[]>();
  for (const r of resolutions) byExecution.set(r.execution_id, [...(byExecution.get(r.execution_id) ?? []), r]);
  for (const e of executions) {
    const found = byExecution.get(e.id) ?? [];
    if (found.length > 1) problems.push(`execution ${e.id} resolved ${found.length} times`);
    const r = found[0];
    if (r && (r.captured < 0 || r.captured > e.hold_micros || r.captured + r.released !== e.hold_micros || r.amount !== -r.captured))
      problems.push(`execution ${e.id} holding ${e.hold_micros} resolved as captured ${r.captured} + released ${r.released} (amount ${r.amount})`);
    if (e.hold_micros <= 0) continue;
    if (TERMINAL.has(e.status)) {
      if (!r) problems.push(`${e.status} execution ${e.id} has its hold of ${e.hold_micros} unresolved`);
      else if ((e.cost_micros ?? 0) !== r.captured) problems.push(`execution ${e.id} costs ${e.cost_micros} but ${r.captured} was captured`);
      if ((e.status === "FAILED" || e.status === "EXPIRED") && r?.captured) problems.push(`${e.status} execution ${e.id} was charged ${r.captured}`);
    } else if (r) problems.push(`${e.status} execution ${e.id} has a resolution`);
  }
  if (problems.length) throw new Error(`ledger invariants broken for ${orgId}:\n  ${problems.join("\n  ")}`);
  return { availableMicros: available, heldMicros: held, creditsMicros: sums.credits, capturesMicros: sums.captures, openHolds: open.length };
}
