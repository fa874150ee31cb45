/**
 * The ledger's invariants (docs/architecture.md "Money"), checked straight on the database file:
 *   available + held = total = credits − captures ± adjustments, where a capture is a finished
 *   execution's cost (its resolution is its own row); held = what the open executions hold
 *   (their hold_micros); available ≥ 0; capture ≤ hold, and none for a FAILED or EXPIRED one;
 *   each key's spend by day (key_spend) = what its finished executions captured, by the day they
 *   were created. A hold resolved twice would release or capture twice: the sums would differ.
 * Throws an Error listing every violation; returns the figures when all hold.
 */
import type { Database } from "bun:sqlite";

const TERMINAL = new Set(["COMPLETED", "FAILED", "CANCELLED", "EXPIRED"]);
const DAY_MS = 86_400_000;

type ExecutionRow = { id: string; key_id: string | null; status: string; cost_micros: number | null; hold_micros: number; created_at: number };

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
              coalesce(sum(CASE WHEN kind = 'resolve' THEN captured_micros END), 0) AS storedCaptures,
              coalesce(sum(CASE WHEN kind = 'adjustment' THEN amount_micros END), 0) AS adjustments
       FROM ledger_entries WHERE org_id = ?`,
    )
    .get(orgId) as { credits: number; storedCaptures: number; adjustments: number };
  const executions = db.query("SELECT id, key_id, status, cost_micros, hold_micros, created_at FROM executions WHERE org_id = ?").all(orgId) as ExecutionRow[];

  const finished = executions.filter((e) => TERMINAL.has(e.status) && e.hold_micros > 0);
  const captures = sums.storedCaptures + finished.reduce((a, e) => a + (e.cost_micros ?? 0), 0);
  const total = available + held;
  if (available < 0) problems.push(`available is negative: ${available}`);
  if (held < 0) problems.push(`held is negative: ${held}`);
  if (total !== sums.credits - captures + sums.adjustments)
    problems.push(`total ${total} ≠ credits ${sums.credits} − captures ${captures} ± adjustments ${sums.adjustments}`);
  const open = executions.filter((e) => !TERMINAL.has(e.status) && e.hold_micros > 0);
  const openSum = open.reduce((a, e) => a + e.hold_micros, 0);
  if (held !== openSum) problems.push(`held ${held} ≠ what ${open.length} open executions hold ${openSum}`);

  const spendByKeyDay = new Map<string, number>();
  for (const e of finished) {
    const cost = e.cost_micros ?? 0;
    if (cost < 0 || cost > e.hold_micros) problems.push(`execution ${e.id} holding ${e.hold_micros} captured ${cost}`);
    if ((e.status === "FAILED" || e.status === "EXPIRED") && cost) problems.push(`${e.status} execution ${e.id} was charged ${cost}`);
    if (e.key_id && cost > 0) {
      const slot = `${e.key_id} ${Math.floor(e.created_at / DAY_MS)}`;
      spendByKeyDay.set(slot, (spendByKeyDay.get(slot) ?? 0) + cost);
    }
  }
  const keys = [...new Set(executions.map((e) => e.key_id).filter((k): k is string => k !== null))];
  for (const key of keys) {
    const rows = db.query("SELECT day, captured_micros AS captured FROM key_spend WHERE key_id = ?").all(key) as { day: number; captured: number }[];
    for (const r of rows) {
      const expected = spendByKeyDay.get(`${key} ${r.day}`) ?? 0;
      // A key may be shared by no other org, so its spend is all this org's executions'.
      if (r.captured !== expected) problems.push(`key ${key} spent ${r.captured} on day ${r.day}, its executions captured ${expected}`);
      spendByKeyDay.delete(`${key} ${r.day}`);
    }
  }
  for (const [slot, cost] of spendByKeyDay) problems.push(`key spend missing for ${slot}: its executions captured ${cost}`);
  if (problems.length) throw new Error(`ledger invariants broken for ${orgId}:\n  ${problems.join("\n  ")}`);
  return { availableMicros: available, heldMicros: held, creditsMicros: sums.credits, capturesMicros: captures, openHolds: open.length };
}
