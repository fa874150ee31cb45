/**
 * The ledger's invariants (docs/architecture.md "Money"), checked straight on the SQLite file:
 *   available + held = total = credits − captures ± adjustments; held = sum of open holds;
 *   available ≥ 0; every hold resolved at most once, capture ≤ hold; a finished execution's
 *   hold is resolved and its cost is what was captured; a running one's hold is open.
 * Throws an Error listing every violation; returns the figures when all hold.
 */
import type { Database } from "bun:sqlite";

const TERMINAL = new Set(["COMPLETED", "FAILED", "CANCELLED", "EXPIRED"]);

type HoldRow = { id: string; execution_id: string | null; held: number; resolutions: number; captured: number | null; released: number | null };
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
  const holds = db
    .query(
      `SELECT h.id, h.execution_id, -h.amount_micros AS held, count(r.id) AS resolutions, max(r.captured_micros) AS captured, max(r.released_micros) AS released
       FROM ledger_entries h LEFT JOIN ledger_entries r ON r.hold_id = h.id
       WHERE h.org_id = ? AND h.kind = 'hold' GROUP BY h.id`,
    )
    .all(orgId) as HoldRow[];

  const total = available + held;
  if (available < 0) problems.push(`available is negative: ${available}`);
  if (held < 0) problems.push(`held is negative: ${held}`);
  if (total !== sums.credits - sums.captures + sums.adjustments)
    problems.push(`total ${total} ≠ credits ${sums.credits} − captures ${sums.captures} ± adjustments ${sums.adjustments}`);
  if (available !== sums.effects) problems.push(`available ${available} ≠ sum of entry amounts ${sums.effects}`);
  const open = holds.filter((h) => h.resolutions === 0);
  const openSum = open.reduce((a, h) => a + h.held, 0);
  if (held !== openSum) problems.push(`held ${held} ≠ sum of ${open.length} open holds ${openSum}`);
  for (const h of holds) {
    if (h.resolutions > 1) problems.push(`hold ${h.id} resolved ${h.resolutions} times`);
    if (h.resolutions === 1 && (h.captured! < 0 || h.captured! > h.held || h.captured! + h.released! !== h.held))
      problems.push(`hold ${h.id} of ${h.held} resolved as captured ${h.captured} + released ${h.released}`);
  }

  const holdsByExecution = new Map(holds.map((h) => [h.execution_id, h]));
  const executions = db.query("SELECT id, status, cost_micros, hold_micros FROM executions WHERE org_id = ?").all(orgId) as ExecutionRow[];
  for (const e of executions) {
    const hold = holdsByExecution.get(e.id);
    if (e.hold_micros > 0 && !hold) problems.push(`execution ${e.id} has hold_micros ${e.hold_micros} but no hold entry`);
    if (!hold) continue;
    if (hold.held !== e.hold_micros) problems.push(`execution ${e.id}: hold entry ${hold.held} ≠ hold_micros ${e.hold_micros}`);
    if (TERMINAL.has(e.status)) {
      if (hold.resolutions !== 1) problems.push(`${e.status} execution ${e.id} has its hold resolved ${hold.resolutions} times`);
      else if ((e.cost_micros ?? 0) !== hold.captured) problems.push(`execution ${e.id} costs ${e.cost_micros} but ${hold.captured} was captured`);
      if ((e.status === "FAILED" || e.status === "EXPIRED") && hold.captured) problems.push(`${e.status} execution ${e.id} was charged ${hold.captured}`);
    } else if (hold.resolutions !== 0) problems.push(`${e.status} execution ${e.id} has a resolved hold`);
  }
  if (problems.length) throw new Error(`ledger invariants broken for ${orgId}:\n  ${problems.join("\n  ")}`);
  return { availableMicros: available, heldMicros: held, creditsMicros: sums.credits, capturesMicros: sums.captures, openHolds: open.length };
}
