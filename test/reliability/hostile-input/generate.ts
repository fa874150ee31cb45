/**
 * Request `i` of a run: an operation of /openapi.json (in turn), a valid request for it, then one
 * mutation drawn from the request's own seeded stream, and an auth mode. Everything a request is
 * made of comes from (seed, i), so `MODELROUTE_FUZZ_SEED=s MODELROUTE_FUZZ_ONLY=i` replays it.
 */
import { rngFor, type Rng } from "./prng";
import { sampleOf, type AuthKind, type Operation, type Schema } from "./spec";

/** JSON text inserted as is: numbers JSON.stringify cannot write (1e309), nesting too deep to build as values. */
export class RawJson {
  constructor(readonly text: string) {}
}

export function toJson(value: unknown): string {
  if (value instanceof RawJson) return value.text;
  if (Array.isArray(value)) return `[${value.map(toJson).join(",")}]`;
  if (typeof value === "object" && value !== null)
    return `{${Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}:${toJson(v)}`).join(",")}}`;
  return JSON.stringify(value) ?? "null";
}

export type Part = { name: string; filename?: string; contentType?: string; data: Uint8Array | string };

/** What setup made for the run: keys, and ids of real resources the valid requests name. */
export type FuzzContext = {
  apiKey: string;
  adminToken: string;
  /**
   * Path parameter values for the valid request, by `METHOD path#name`, `path#name` or `#name`
   * (the first found): a destructive operation names a resource of its own, so that the others
   * keep finding theirs.
   */
  ids: Record<string, string>;
  /** Query parameters the valid request of `METHOD path` sends. */
  query: Record<string, [string, string][]>;
  /** Ids in the schemas' examples, replaced by real ones (`file_0193…` by an uploaded file). */
  replace: Record<string, string>;
  png: Uint8Array;
  wav: Uint8Array;
};

export type FuzzRequest = {
  index: number;
  op: Operation;
  /** The mutation's kind (for the summary) and what it did (for a failure's report). */
  kind: string;
  detail: string;
  auth: "valid" | "none" | "bad";
  /** True when nothing was mutated and the auth is valid: a 2xx is the expected answer. */
  valid: boolean;
  pathMutated: boolean;
  transport: "fetch" | "raw";
  httpVersion: "1.1" | "1.0";
  method: string;
  /** Path and query as sent, percent-encoded where fetch would encode (raw keeps bytes as given). */
  target: string;
  headers: [string, string][];
  body?: Uint8Array;
  /** Headers are sent without Host (HTTP/1.0). */
  noHost?: boolean;
  /** The body is sent in chunks, without a Content-Length (raw only). */
  chunked?: boolean;
};

type Draft = {
  method: string;
  params: Record<string, string>;
  /** Path parameters given already encoded (or as raw bytes for the socket). */
  encodedParams: Set<string>;
  query: [string, string][];
  rawQuery?: string;
  headers: [string, string][];
  body?: unknown;
  bodyBytes?: Uint8Array;
  parts?: Part[];
  boundary: string;
  rawMultipart?: Uint8Array;
  contentType?: string | null;
  transport: "fetch" | "raw";
  httpVersion: "1.1" | "1.0";
  noHost?: boolean;
  chunked?: boolean;
  pathMutated: boolean;
};

const MIB = 1024 * 1024;
const enc = new TextEncoder();

// ---------------------------------------------------------------------------------------------
// The valid request.

const MULTIPART_MODELS: Record<string, string> = {
  "/v1/audio/transcriptions": "mock-transcribe",
  "/v1/audio/translations": "mock-transcribe",
  "/v1/images/edits": "mock-image-edit",
  "/v1/images/variations": "mock-image-variation",
};

function paramValue(op: Operation, name: string, ctx: FuzzContext, rng: Rng): string {
  const known = ctx.ids[`${op.method} ${op.path}#${name}`] ?? ctx.ids[`${op.path}#${name}`] ?? ctx.ids[`#${name}`];
  if (known !== undefined) return known;
  const param = op.params.find((p) => p.name === name && p.in === "path");
  const sample = param?.example ?? sampleOf(param?.schema);
  return typeof sample === "string" && sample !== "xxxx" ? sample : `fuzz-${rng.int(1, 1e6)}`;
}

function baseParts(op: Operation, ctx: FuzzContext): Part[] {
  const schema = op.body!.schema;
  const parts: Part[] = [];
  for (const [name, prop] of Object.entries(schema.properties ?? {})) {
    const required = schema.required?.includes(name);
    if (prop.format === "binary") {
      if (!required) continue;
      const audio = op.path.startsWith("/v1/audio/");
      if (op.path === "/v1/files") parts.push({ name, filename: "notes.txt", contentType: "text/plain", data: "hello from the fuzzer\n" });
      else parts.push({ name, filename: audio ? "clip.wav" : "image.png", contentType: audio ? "audio/wav" : "image/png", data: audio ? ctx.wav : ctx.png });
    } else if (required || name === "prompt") {
      const value = name === "model" ? MULTIPART_MODELS[op.path] : name === "purpose" ? "user_data" : sampleOf(prop);
      parts.push({ name, data: String(value ?? "a red fox") });
    }
  }
  return parts;
}

function baseDraft(op: Operation, ctx: FuzzContext, rng: Rng): Draft {
  const params: Record<string, string> = {};
  for (const p of op.params) if (p.in === "path") params[p.name] = paramValue(op, p.name, ctx, rng);
  const headers: [string, string][] = [];
  const draft: Draft = { method: op.method, params, encodedParams: new Set(), query: [...(ctx.query[`${op.method} ${op.path}`] ?? [])], headers, boundary: `----fuzz${rng.int(1e8, 9e8)}`, transport: "fetch", httpVersion: "1.1", pathMutated: false };
  if (op.body?.contentType === "application/json") {
    // Webhooks go nowhere: a name under .invalid never resolves (RFC 6761).
    let text = JSON.stringify(op.body.example ?? sampleOf(op.body.schema)).replaceAll("https://example.com/", "https://example.invalid/");
    for (const [from, to] of Object.entries(ctx.replace)) text = text.replaceAll(from, to);
    draft.body = JSON.parse(text);
    draft.contentType = "application/json";
  } else if (op.body?.contentType === "multipart/form-data") {
    draft.parts = baseParts(op, ctx);
  } else if (op.body?.contentType === "application/octet-stream") {
    draft.bodyBytes = enc.encode("some bytes");
    draft.contentType = "application/octet-stream";
  }
  return draft;
}

// ---------------------------------------------------------------------------------------------
// Hostile values.

const PATH_IDS_ENCODED = [
  "..", "%2e%2e", "%2E%2E%2F%2E%2E%2Fetc%2Fpasswd", "..%2f..%2f..%2fetc%2fpasswd", "%252e%252e%252f", "..%5c..%5cwindows",
  "%00", "a%00b", "%ff%fe", "%c0%ae%c0%ae", "%ed%a0%80", "%", "%zz", "%2F", "a%2Fb", "%0d%0aSet-Cookie:%20x=1", "%20", "%09",
];
const PATH_IDS_PLAIN = [
  "'; DROP TABLE orgs;--", "\" OR 1=1 --", "\u202e", "😀", "key_", "file_00000000-0000-0000-0000-000000000000",
  `exec_${"f".repeat(36)}`, "org_01a23a81-830c-76af-bde6-zzzzzzzzzzzz", "-1", "0", "1e309", "NaN", "null", "undefined",
  "[object Object]", "__proto__", "constructor", "CON", "*", "$(id)", "{id}", "models/", "a:b", "mock-chat:", ":generateContent",
];
/** Bytes fetch() would normalise or refuse in a path: sent on a socket. */
const PATH_IDS_RAW = ["../../../etc/passwd", "..", "./.", "a/../../b", "..\\..\\windows", "\x00", "\xff\xfe", "\x7f", "%", "a#b", "a?b=1"];

const longId = (rng: Rng) => rng.pick(["i", "ä", "%41"]).repeat(rng.pick([300, 5_000, 20_000]));

const HOSTILE_NUMBERS = ["-1", "0", "-0", "1.5", "1e308", "1e309", "-1e309", "9007199254740993", "-9223372036854775809", "1e-400", "123456789012345678901234567890", "0.0000001", "4294967296"];
const hostileNumber = (rng: Rng): unknown => (rng.chance(0.8) ? new RawJson(rng.pick(HOSTILE_NUMBERS)) : rng.pick(["NaN", "Infinity", "-Infinity", "1", "", "0x10"]));

function wrongTypeFor(value: unknown, rng: Rng): unknown {
  const options: unknown[] = [42, -7.5, "a string", true, false, null, [], {}, [[1, [2]]], { nested: { deeper: [null] } }, new RawJson("1e400"), "", "0"];
  const kind = (v: unknown) => (Array.isArray(v) ? "array" : v === null ? "null" : typeof v);
  const others = options.filter((o) => kind(o) !== kind(value));
  return rng.pick(others);
}

const hugeString = (rng: Rng, bytes: number) => {
  const unit = rng.pick(["a", "é", "😀", "\u0000", "<script>", "\\", "\ud800"]);
  return unit.repeat(Math.max(1, Math.floor(bytes / Math.max(1, enc.encode(unit).byteLength))));
};

const STRING_EDGES = ["", " ", "\u0000", "a\u0000b", "\ud800", "\udfff\ud800", "\u202e\u0000", "😀".repeat(50), "\r\n\r\n", "'; DROP TABLE executions;--", "%00", "../../etc/passwd", "${7*7}", "{{7*7}}", "\u00ff\u00fe"];

const EXTRA_NAMES = ["__proto__", "constructor", "prototype", "toString", "hasOwnProperty", "", "\u0000", " ", "x".repeat(5000), "$where", "a.b", "a[0]", "😀"];

// ---------------------------------------------------------------------------------------------
// Body paths: every place in the JSON body a mutation can touch, with the schema that describes it.

type Slot = { parent: Record<string, unknown> | unknown[]; key: string | number; value: unknown; schema?: Schema; required: boolean; path: string };

function objectSchema(schema: Schema | undefined): Schema | undefined {
  if (!schema) return undefined;
  if (schema.properties || schema.type === "object") return schema;
  return schema.anyOf?.find((s) => s.properties || s.type === "object");
}

function slotsOf(value: unknown, schema: Schema | undefined, path = "", out: Slot[] = [], depth = 0): Slot[] {
  if (depth > 8) return out;
  if (Array.isArray(value)) {
    const items = schema?.items ?? schema?.anyOf?.find((s) => s.items)?.items;
    value.forEach((v, i) => {
      out.push({ parent: value, key: i, value: v, schema: items, required: false, path: `${path}[${i}]` });
      slotsOf(v, items, `${path}[${i}]`, out, depth + 1);
    });
  } else if (typeof value === "object" && value !== null && !(value instanceof RawJson)) {
    const os = objectSchema(schema);
    for (const [k, v] of Object.entries(value)) {
      const s = os?.properties?.[k];
      out.push({ parent: value as Record<string, unknown>, key: k, value: v, schema: s, required: Boolean(os?.required?.includes(k)), path: path ? `${path}.${k}` : k });
      slotsOf(v, s, path ? `${path}.${k}` : k, out, depth + 1);
    }
  }
  return out;
}

const objectsOf = (value: unknown): Record<string, unknown>[] => {
  const out: Record<string, unknown>[] = [];
  const walk = (v: unknown, depth: number) => {
    if (depth > 8 || v instanceof RawJson) return;
    if (Array.isArray(v)) v.forEach((x) => walk(x, depth + 1));
    else if (typeof v === "object" && v !== null) {
      out.push(v as Record<string, unknown>);
      Object.values(v).forEach((x) => walk(x, depth + 1));
    }
  };
  walk(value, 0);
  return out;
};

const setOwn = (obj: Record<string, unknown>, key: string, value: unknown) =>
  Object.defineProperty(obj, key, { value, enumerable: true, configurable: true, writable: true });

const isNumeric = (s: Slot) => typeof s.value === "number" || ["integer", "number"].includes(String(s.schema?.type)) || Boolean(s.schema?.anyOf?.some((a) => a.type === "integer" || a.type === "number"));

// ---------------------------------------------------------------------------------------------
// Mutations. Each returns what it did, or null when it does not apply to this operation.

type Mutation = (d: Draft, op: Operation, rng: Rng, ctx: FuzzContext) => string | null;

const jsonBody = (op: Operation) => op.body?.contentType === "application/json";
const multipart = (op: Operation) => op.body?.contentType === "multipart/form-data";

const MUTATIONS: Record<string, [weight: number, Mutation]> = {
  valid: [3, () => "unchanged"],

  "wrong-type": [10, (d, op, rng) => {
    if (multipart(op) && d.parts?.length) {
      const i = rng.int(0, d.parts.length - 1);
      const p = d.parts[i]!;
      d.parts[i] = p.filename ? { name: p.name, data: "not a file" } : { name: p.name, filename: "x.bin", contentType: "application/octet-stream", data: "as a file" };
      return `part ${p.name} as ${p.filename ? "text" : "a file"}`;
    }
    if (!jsonBody(op)) return null;
    const slots = slotsOf(d.body, op.body!.schema);
    if (slots.length === 0 || rng.chance(0.15)) {
      d.body = wrongTypeFor(d.body, rng);
      return `body is ${toJson(d.body).slice(0, 40)}`;
    }
    const slot = rng.pick(slots);
    (slot.parent as Record<string, unknown>)[slot.key as string] = wrongTypeFor(slot.value, rng);
    return `${slot.path} = ${toJson((slot.parent as Record<string, unknown>)[slot.key as string]).slice(0, 40)}`;
  }],

  "missing-required": [6, (d, op, rng) => {
    if (multipart(op) && d.parts?.length) {
      const i = rng.int(0, d.parts.length - 1);
      const [gone] = d.parts.splice(i, 1);
      return `no part ${gone!.name}`;
    }
    if (!jsonBody(op)) return null;
    const slots = slotsOf(d.body, op.body!.schema).filter((s) => s.required || rng.chance(0.2));
    if (slots.length === 0) return null;
    const slot = rng.pick(slots);
    if (Array.isArray(slot.parent)) slot.parent.splice(slot.key as number, 1);
    else delete slot.parent[slot.key as string];
    return `without ${slot.path}`;
  }],

  "extra-field": [6, (d, op, rng) => {
    const name = rng.chance(0.5) ? rng.pick(EXTRA_NAMES) : `x_fuzz_${rng.int(0, 999)}`;
    const value = rng.pick<unknown>([1, "x", null, { polluted: true }, [1], true]);
    if (multipart(op) && d.parts) {
      d.parts.push({ name, data: String(toJson(value)) });
      return `extra part ${JSON.stringify(name.slice(0, 20))}`;
    }
    if (!jsonBody(op)) return null;
    const objects = objectsOf(d.body);
    if (objects.length === 0) return null;
    setOwn(rng.pick(objects), name, value);
    return `extra field ${JSON.stringify(name.slice(0, 20))}`;
  }],

  "huge-string": [5, (d, op, rng) => {
    const size = rng.pick([70_000, 300_000, 900_000]);
    if (multipart(op) && d.parts?.length) {
      const text = d.parts.filter((p) => !p.filename);
      if (text.length === 0) return null;
      rng.pick(text).data = hugeString(rng, size);
      return `a ${size}-byte text part`;
    }
    if (!jsonBody(op)) return null;
    const slots = slotsOf(d.body, op.body!.schema).filter((s) => typeof s.value === "string" || s.schema?.type === "string");
    if (slots.length === 0) return null;
    const slot = rng.pick(slots);
    (slot.parent as Record<string, unknown>)[slot.key as string] = hugeString(rng, size);
    return `${slot.path} is ~${size} bytes`;
  }],

  "string-edge": [5, (d, op, rng) => {
    if (multipart(op) && d.parts?.length) {
      const text = d.parts.filter((p) => !p.filename);
      if (text.length === 0) return null;
      const value = rng.pick(STRING_EDGES);
      rng.pick(text).data = value;
      return `a text part is ${JSON.stringify(value)}`;
    }
    if (!jsonBody(op)) return null;
    const slots = slotsOf(d.body, op.body!.schema).filter((s) => typeof s.value === "string");
    if (slots.length === 0) return null;
    const slot = rng.pick(slots);
    const value = rng.pick(STRING_EDGES);
    (slot.parent as Record<string, unknown>)[slot.key as string] = value;
    return `${slot.path} = ${JSON.stringify(value).slice(0, 30)}`;
  }],

  "deep-nesting": [4, (d, op, rng) => {
    if (!jsonBody(op) && !multipart(op) && rng.chance(0.7)) return null;
    const depth = rng.pick([65, 200, 10_000, 100_000]);
    const open = rng.chance(0.5) ? "[" : '{"a":';
    const close = open === "[" ? "]" : "}";
    const nested = new RawJson(open.repeat(depth) + close.repeat(depth));
    if (jsonBody(op) && typeof d.body === "object" && d.body !== null && !Array.isArray(d.body) && rng.chance(0.7)) {
      const slots = slotsOf(d.body, op.body!.schema).filter((s) => !Array.isArray(s.parent));
      const slot = slots.length ? rng.pick(slots) : null;
      if (slot) (slot.parent as Record<string, unknown>)[slot.key as string] = nested;
      else (d.body as Record<string, unknown>).deep = nested;
      return `${slot?.path ?? "deep"} nests ${depth} levels`;
    }
    d.parts = undefined;
    d.body = nested;
    d.contentType = "application/json";
    return `the body nests ${depth} levels`;
  }],

  "huge-body": [2, (d, op, rng) => {
    const size = rng.pick([MIB + 1, 2 * MIB, 3 * MIB]);
    if (multipart(op)) {
      if (op.path === "/v1/files") return null; // a 150 MiB limit: past it is too slow for this run
      d.parts = [...(d.parts ?? []), { name: "padding", filename: "big.bin", contentType: "application/octet-stream", data: new Uint8Array(26 * MIB) }];
      return "a 26 MiB multipart body (the limit is 25 MB)";
    }
    if (op.body?.contentType === "application/octet-stream") return null;
    d.bodyBytes = enc.encode(`{"padding":"${"p".repeat(size)}"}`);
    d.contentType = "application/json";
    if (rng.chance(0.3)) {
      d.transport = "raw"; // chunked: no Content-Length to refuse it by
      d.chunked = true;
      return `a ${size}-byte body, chunked`;
    }
    return `a ${size}-byte body`;
  }],

  "invalid-utf8": [5, (d, op, rng) => {
    if (!op.body && rng.chance(0.8)) return null;
    const bad = rng.pick([[0xff], [0xfe, 0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xe2, 0x82], [0xf8, 0x88, 0x80, 0x80, 0x80], [0x80], [0xc3]]);
    const text = jsonBody(op) ? toJson(d.body) : multipart(op) ? "" : '{"model":"mock-chat"}';
    if (multipart(op) && d.parts?.length) {
      const p = rng.pick(d.parts);
      if (p.filename && rng.chance(0.5)) p.filename = `a${Buffer.from(bad).toString("latin1")}.png`;
      else p.data = new Uint8Array([0x61, ...bad, 0x62]);
      return `bytes ${bad.map((b) => b.toString(16)).join(" ")} in part ${p.name}`;
    }
    const quote = text.indexOf('"', text.indexOf(":") + 1);
    const at = quote === -1 ? 1 : quote + 1;
    const bytes = enc.encode(text);
    const prefix = enc.encode(text.slice(0, at)).byteLength;
    d.bodyBytes = new Uint8Array([...bytes.subarray(0, prefix), ...bad, ...bytes.subarray(prefix)]);
    d.contentType ??= "application/json";
    return `bytes ${bad.map((b) => b.toString(16)).join(" ")} at byte ${prefix}`;
  }],

  "bad-json": [6, (d, op, rng) => {
    if (!op.body && rng.chance(0.8)) return null;
    const valid = jsonBody(op) ? toJson(d.body) : '{"model":"mock-chat"}';
    const cases: [string, string][] = [
      ["truncated", valid.slice(0, Math.max(1, rng.int(1, valid.length - 1)))],
      ["trailing comma", valid.replace(/}$/, ",}")],
      ["NaN", '{"a":NaN}'],
      ["Infinity", '{"a":-Infinity}'],
      ["single quotes", valid.replace(/"/g, "'")],
      ["a comment", `/* hi */${valid}`],
      ["two documents", `${valid}${valid}`],
      ["empty", ""],
      ["whitespace", " \n\t "],
      ["a BOM", `\ufeff${valid}`],
      ["a scalar", rng.pick(["123", '"x"', "null", "true", "[]", "-", "1e999999"])],
      ["a raw control character", valid.replace(/"([^"]*)"/, '"$1\u0001\n"')],
      ["a long number", `{"a":${"9".repeat(20_000)}}`],
      ["duplicate keys", valid.replace(/^{/, '{"model":1,"model":')],
      ["bad escape", '{"a":"\\x41\\u12"}'],
      ["unclosed", "[".repeat(30) + '{"a":'],
    ];
    const [name, text] = rng.pick(cases);
    d.parts = undefined;
    d.bodyBytes = enc.encode(text);
    d.contentType = "application/json";
    return name;
  }],

  "content-type": [5, (d, op, rng) => {
    if (!op.body && rng.chance(0.6)) return null;
    const value = rng.pick<string | null>([
      null, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data", "multipart/form-data; boundary=", "application/json; charset=utf-16",
      "application/jsonx", "application/json\t", "*/*", `application/json; ${"a=b; ".repeat(400)}`, "application/vnd.api+json", "APPLICATION/JSON", ";;;", "application/octet-stream", "image/png",
    ]);
    if (d.parts) {
      d.rawMultipart = multipartBytes(d.parts, d.boundary);
      d.parts = undefined;
    }
    d.contentType = value;
    return `Content-Type ${JSON.stringify(value)}`;
  }],

  "bad-multipart": [4, (d, op, rng) => {
    if (!multipart(op)) return null;
    const parts = d.parts ?? [];
    const cases: [string, () => void][] = [
      ["no boundary parameter", () => ((d.contentType = "multipart/form-data"), (d.rawMultipart = multipartBytes(parts, d.boundary)))],
      ["another boundary", () => ((d.rawMultipart = multipartBytes(parts, "other")), (d.contentType = `multipart/form-data; boundary=${d.boundary}`))],
      ["no closing boundary", () => {
        const bytes = multipartBytes(parts, d.boundary);
        d.rawMultipart = bytes.subarray(0, bytes.byteLength - d.boundary.length - 6);
      }],
      ["a part without a name", () => parts.push({ name: "", data: "x" })],
      ["a traversing file name", () => setFilename(parts, rng.pick(["../../../etc/passwd", "..\\..\\boot.ini", "/etc/shadow", "a%00.png", "a\u0000.png", "%2e%2e%2fx", "."]))],
      ["a long file name", () => setFilename(parts, `${"n".repeat(rng.pick([300, 5000]))}.png`)],
      ["CRLF in a file name", () => setFilename(parts, "a\r\nContent-Type: text/html\r\n\r\n<b>.png")],
      ["a thousand parts", () => parts.push(...Array.from({ length: 1000 }, (_, i) => ({ name: `f${i}`, data: "v" })))],
      ["an empty body", () => (d.rawMultipart = new Uint8Array(0))],
      ["JSON in a multipart type", () => (d.rawMultipart = enc.encode('{"model":"mock-chat"}'))],
      ["a text file that says it is a PNG", () => {
        const file = parts.find((p) => p.filename);
        if (file) file.data = "this is not an image";
      }],
      ["the model twice", () => parts.push({ name: "model", data: "mock-chat" })],
      ["an empty file", () => {
        const file = parts.find((p) => p.filename);
        if (file) file.data = new Uint8Array(0);
      }],
      ["a 70-character boundary", () => (d.boundary = "b".repeat(70))],
      ["a quoted boundary with spaces", () => ((d.rawMultipart = multipartBytes(parts, "a b")), (d.contentType = 'multipart/form-data; boundary="a b"'))],
    ];
    const [name, apply] = rng.pick(cases);
    apply();
    d.parts = d.rawMultipart ? undefined : parts;
    return name;
  }],

  "path-id": [9, (d, op, rng) => {
    const names = Object.keys(d.params);
    if (names.length === 0) return null;
    const name = rng.pick(names);
    d.pathMutated = true;
    const kind = rng.weighted([["encoded", 4], ["plain", 4], ["long", 2], ["raw", 2]] as const);
    if (kind === "encoded") {
      d.params[name] = rng.pick(PATH_IDS_ENCODED);
      d.encodedParams.add(name);
      d.transport = "raw"; // fetch resolves %2e%2e as a dot segment before sending
    } else if (kind === "plain") d.params[name] = rng.pick(PATH_IDS_PLAIN);
    else if (kind === "long") {
      d.params[name] = longId(rng);
      d.encodedParams.add(name);
    } else {
      d.params[name] = rng.pick(PATH_IDS_RAW);
      d.encodedParams.add(name);
      d.transport = "raw";
    }
    return `${name} = ${JSON.stringify(d.params[name]!.slice(0, 40))}${d.params[name]!.length > 40 ? ` (${d.params[name]!.length} chars)` : ""}`;
  }],

  "query": [7, (d, op, rng) => {
    const declared = op.params.filter((p) => p.in === "query");
    const numeric = declared.filter((p) => p.schema?.type === "integer" || p.schema?.type === "number");
    const pickValue = (p?: (typeof declared)[number]) =>
      p && numeric.includes(p)
        ? rng.pick(["abc", "-1", "0", "101", "1e309", "NaN", "Infinity", "1.5", "", "99999999999999999999", "0x10", " 5", "-0", "1e2", "5abc"])
        : rng.pick(["", "a".repeat(rng.pick([65, 10_000])), "\u0000", "😀", "../..", "true", "[]", "'", "-1", "null", "2026-13-45", "1e309", "x".repeat(100)]);
    const kind = rng.pick(["value", "value", "repeat", "array", "unknown", "encoding"]);
    const p = declared.length ? rng.pick(declared) : undefined;
    if (kind === "value" && p) d.query.push([p.name, pickValue(p)]);
    else if (kind === "repeat" && p) d.query.push([p.name, pickValue(p)], [p.name, pickValue(p)]);
    else if (kind === "array" && p) d.rawQuery = `${p.name}[]=1&${p.name}[x]=2`;
    else if (kind === "encoding") d.rawQuery = rng.pick(["a=%zz", "limit=%00", "%=%", "a=%ff%fe", "=&=&&", "__proto__[admin]=1", "constructor[prototype][x]=1", `q=${"%41".repeat(3000)}`]);
    else d.query.push([rng.pick(["__proto__", "constructor", "x", "alt", "key", "stream", "include_secrets"]), pickValue()]);
    return `query ${d.rawQuery ?? d.query.map(([k, v]) => `${k}=${v.slice(0, 20)}`).join("&")}`;
  }],

  "number": [6, (d, op, rng) => {
    if (multipart(op) && d.parts) {
      const name = rng.pick(["n", "temperature", "expires_after[seconds]", "size"]);
      d.parts.push({ name, data: rng.pick(HOSTILE_NUMBERS.concat(["NaN", "Infinity", "1e309", "0x10", ""])) });
      return `part ${name} is a hostile number`;
    }
    if (!jsonBody(op)) return null;
    const slots = slotsOf(d.body, op.body!.schema);
    const numeric = slots.filter(isNumeric);
    const slot = numeric.length ? rng.pick(numeric) : slots.length ? rng.pick(slots) : null;
    if (!slot) return null;
    const value = hostileNumber(rng);
    (slot.parent as Record<string, unknown>)[slot.key as string] = value;
    return `${slot.path} = ${toJson(value)}`;
  }],

  "idempotency-key": [5, (d, op, rng) => {
    const value = rng.pick(["", " ", "a".repeat(256), "a".repeat(10_000), "\t", "a\u0001b", "\xc3\xa9t\xc3\xa9", "\x7f", " lead", "trail ", "\xff", `ok-${rng.int(0, 1e9)}`, "a b", "x".repeat(255)]);
    d.headers.push(["Idempotency-Key", value]);
    if (rng.chance(0.2)) d.headers.push(["Idempotency-Key", "second"]);
    return `Idempotency-Key ${JSON.stringify(value.slice(0, 12))} (${value.length} chars)`;
  }],

  "header": [5, (d, op, rng) => {
    const cases: [string, string][] = [
      ["x-filler", "f".repeat(rng.pick([17_000, 40_000]))],
      ["prefer", rng.pick(["wait=abc", "wait=99999999", "wait=-1", "wait=1e309", "respond-async, wait=5, wait=6", "wait=0"])],
      ["x-modelroute-cache", rng.pick(["maybe", "", "use, bypass", "\u00ff"])],
      ["cache-control", rng.pick(["no-cache, no-store, max-age=-1", "max-age=99999999999999999999", ","])],
      ["range", rng.pick(["bytes=abc", "bytes=999999999999-", "bytes=5-1", "bytes=-0", "bytes=0-1,2-3,4-5", "items=0-1", "bytes=--1"])],
      ["last-event-id", rng.pick(["-1", "abc", "9".repeat(400), "\u0000"])],
      ["anthropic-version", rng.pick(["", "1999-01-01", "x".repeat(300)])],
      ["accept", rng.pick(["application/binary", "text/event-stream", "*/*;q=abc", ""])],
      ["x-stainless-lang", "js"],
      ["x-request-id", rng.pick(["", "x".repeat(5000), "a\u0001b", "../../"])],
      ["content-length", rng.pick(["-1", "abc", "1e3", "99999999999999999999"])],
      ["transfer-encoding", rng.pick(["gzip", "chunked, identity"])],
    ];
    const [name, value] = rng.pick(cases);
    if (name === "content-length" || name === "transfer-encoding") d.transport = "raw";
    d.headers.push([name, value]);
    return `${name}: ${JSON.stringify(value.slice(0, 24))}${value.length > 24 ? ` (${value.length} chars)` : ""}`;
  }],

  "many-headers": [1, (d, _op, rng) => {
    const count = rng.pick([100, 1000]);
    for (let i = 0; i < count; i++) d.headers.push([`x-h${i}`, "v"]);
    return `${count} extra headers`;
  }],

  "http-1.0": [2, (d, _op, rng) => {
    d.transport = "raw";
    d.httpVersion = "1.0";
    d.noHost = rng.chance(0.5);
    return `HTTP/1.0${d.noHost ? " without Host" : ""}`;
  }],

  "host": [2, (d, _op, rng) => {
    d.transport = "raw";
    const host = rng.pick(["x:99999", "x:abc", "[::1", "a b", "", "%zz", "a/b", "\xff\xfe", "h".repeat(3000), "127.0.0.1:0", "@evil", "a\tb", "localhost:-1"]);
    d.headers.push(["Host", host]);
    return `Host ${JSON.stringify(host.slice(0, 20))}`;
  }],

  "method": [2, (d, _op, rng) => {
    // Bun's parser closes the connection on a method it does not know (FOO): that is raw-cases.ts's.
    d.method = rng.pick(["PUT", "PATCH", "DELETE", "POST", "GET", "HEAD", "OPTIONS", "TRACE", "PROPFIND", "PURGE", "QUERY"]);
    if (d.method === "TRACE") d.transport = "raw"; // fetch refuses to send it
    return `method ${d.method}`;
  }],
};

function setFilename(parts: Part[], name: string) {
  const file = parts.find((p) => p.filename);
  if (file) file.filename = name;
  else parts.push({ name: "file", filename: name, contentType: "image/png", data: "x" });
}

export function multipartBytes(parts: Part[], boundary: string): Uint8Array {
  const chunks: Uint8Array[] = [];
  for (const p of parts) {
    let head = `--${boundary}\r\nContent-Disposition: form-data; name="${p.name}"`;
    if (p.filename !== undefined) head += `; filename="${p.filename}"`;
    if (p.contentType) head += `\r\nContent-Type: ${p.contentType}`;
    // A name or filename may hold bytes meant as bytes (latin1 code points), as a browser sends them.
    chunks.push(Buffer.from(`${head}\r\n\r\n`, /[^\x00-\x7f]/.test(head) && !/[^\x00-\xff]/.test(head) ? "latin1" : "utf8"));
    chunks.push(typeof p.data === "string" ? enc.encode(p.data) : p.data);
    chunks.push(enc.encode("\r\n"));
  }
  chunks.push(enc.encode(`--${boundary}--\r\n`));
  return Buffer.concat(chunks);
}

// ---------------------------------------------------------------------------------------------
// Auth.

const BAD_AUTH = (ctx: FuzzContext, auth: AuthKind): [string, string][][] => [
  [["Authorization", `Bearer ${ctx.apiKey.slice(0, -1)}${ctx.apiKey.at(-1) === "0" ? "1" : "0"}`]],
  [["Authorization", "Bearer sk_nothex"]],
  [["Authorization", `Bearer ${auth === "operator" ? ctx.apiKey : ctx.adminToken}`]],
  [["Authorization", `Basic ${btoa("user:pass")}`]],
  [["Authorization", `Bearer ${"k".repeat(5000)}`]],
  [["Authorization", "Bearer "]],
  [["Authorization", `bearer  ${ctx.apiKey}  x`]],
  [["X-API-Key", "sk_" + "0".repeat(64) + "_00000000"]],
  [["Authorization", `Bearer ${ctx.apiKey}`], ["Authorization", "Bearer other"]],
  [["Authorization", "Bearer \xff\xfe"]],
];

function authHeaders(op: Operation, mode: FuzzRequest["auth"], ctx: FuzzContext, rng: Rng): [string, string][] {
  if (mode === "none") return [];
  if (mode === "bad") return rng.pick(BAD_AUTH(ctx, op.auth));
  switch (op.auth) {
    case "bearer":
      return [["Authorization", `Bearer ${ctx.apiKey}`]];
    case "x-api-key":
      return [["X-API-Key", ctx.apiKey]];
    case "operator":
      return [["Authorization", `Bearer ${ctx.adminToken}`]];
    case "none":
      return [];
  }
}

// ---------------------------------------------------------------------------------------------

const fetchSafe = (s: string) => /^[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?$|^$/.test(s);

export function generate(ops: Operation[], ctx: FuzzContext, seed: number, index: number): FuzzRequest {
  const rng = rngFor(seed, index);
  const op = ops[index % ops.length]!;
  const d = baseDraft(op, ctx, rng);
  const kinds = Object.entries(MUTATIONS);
  let kind = "valid";
  let detail = "unchanged";
  for (let attempt = 0; attempt < 8; attempt++) {
    const [name, [, mutate]] = rng.weighted(kinds.map((k) => [k, k[1][0]] as const));
    const done = mutate(d, op, rng, ctx);
    if (done !== null) {
      kind = name;
      detail = done;
      break;
    }
  }
  const auth: FuzzRequest["auth"] = op.auth === "none" ? "valid" : rng.weighted([["valid", 78], ["none", 11], ["bad", 11]] as const);
  d.headers.unshift(...authHeaders(op, auth, ctx, rng));

  let path = op.path.replace(/\{([^}]+)\}/g, (_, name: string) => (d.encodedParams.has(name) ? d.params[name]! : encodeURIComponent(d.params[name]!)));
  if (op.path === "/v1beta/models/{model}:{action}" && !d.pathMutated) path = path.replace("%3A", ":");
  const query = d.rawQuery ?? new URLSearchParams(d.query).toString();
  const target = query ? `${path}?${query}` : path;

  let body: Uint8Array | undefined = d.bodyBytes;
  if (!body && d.rawMultipart) body = d.rawMultipart;
  if (!body && d.parts) {
    body = multipartBytes(d.parts, d.boundary);
    d.contentType ??= `multipart/form-data; boundary=${d.boundary}`;
  }
  if (!body && d.body !== undefined && op.body?.contentType === "application/json") body = enc.encode(toJson(d.body));
  if (d.body instanceof RawJson && !body) body = enc.encode(d.body.text);
  if (d.rawMultipart && d.contentType === undefined) d.contentType = `multipart/form-data; boundary=${d.boundary}`;
  if (d.contentType) d.headers.push(["Content-Type", d.contentType]);

  const unsafe = d.headers.some(([n, v]) => !fetchSafe(v) || n.toLowerCase() === "host") || !/^[\x21-\x7e]*$/.test(target);
  const duplicate = new Set(d.headers.map(([n]) => n.toLowerCase())).size !== d.headers.length;
  const bodyOnGet = body !== undefined && ["GET", "HEAD"].includes(d.method); // fetch refuses to send one
  const transport = d.transport === "raw" || unsafe || duplicate || bodyOnGet ? "raw" : "fetch";
  return {
    index, op, kind, detail, auth, valid: kind === "valid" && auth === "valid", pathMutated: d.pathMutated, transport, httpVersion: d.httpVersion,
    method: d.method, target, headers: d.headers, body, noHost: d.noHost, chunked: d.chunked,
  };
}
