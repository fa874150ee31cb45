/** Times are integer ms in the database and ISO-8601 UTC strings on the wire (docs/architecture.md "Identifiers and formats"). */
export function iso(ms: number): string;
export function iso(ms: number | null): string | null;
export function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}
