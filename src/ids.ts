/** Prefixed UUIDv7 identifiers (docs/architecture.md "Identifiers and formats"), the only way ids are made. */
export type IdPrefix =
  | "exec" | "file" | "whep" | "whdl" | "evt" | "key" | "org" | "req" | "entry" | "grd" | "aud" | "prov" | "route" | "item" | "batch" | "msgbatch";

export const newId = (prefix: IdPrefix) => `${prefix}_${Bun.randomUUIDv7()}`;

/** The smallest id of `prefix` made at or after `ms`: UUIDv7 ids sort by their creation time, so a range of ids is a range of times. */
export function firstIdAt(prefix: IdPrefix, ms: number): string {
  const hex = Math.max(0, Math.floor(ms)).toString(16).padStart(12, "0");
  return `${prefix}_${hex.slice(0, 8)}-${hex.slice(8, 12)}-0000-0000-000000000000`;
}

const UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";
const shapes = new Map<string, RegExp>();

/** True when `id` has the shape `<prefix>_<uuid>`; a malformed id in a path is a 404 like an unknown one. */
export function isId(prefix: IdPrefix, id: string): boolean {
  let re = shapes.get(prefix);
  if (!re) shapes.set(prefix, (re = new RegExp(`^${prefix}_${UUID}$`)));
  return re.test(id);
}

const ANY_ID = new RegExp(`^[a-z]+_${UUID}$`);

/** True when `text` has the shape of one of our ids, whatever its prefix (a list cursor). */
export const isAnyId = (text: string) => ANY_ID.test(text);
