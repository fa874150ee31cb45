/** Prefixed UUIDv7 identifiers (docs/architecture.md "Identifiers and formats"), the only way ids are made. */
export type IdPrefix =
  | "exec" | "file" | "whep" | "whdl" | "evt" | "key" | "org" | "req" | "entry" | "grd" | "aud" | "prov" | "route" | "item" | "batch" | "msgbatch";

export const newId = (prefix: IdPrefix) => `${prefix}_${Bun.randomUUIDv7()}`;

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
