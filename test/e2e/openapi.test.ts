/**
 * The OpenAPI document tells the truth, walked whole from the live /openapi.json: responses are
 * typed as sent (no string-or-integer unions), every example validates against the schema it
 * sits on, every JSON body has a whole example (so the docs never assemble an incoherent one
 * from field examples), every parameter carries its own description, and `error.code` is the
 * enum of the codes the server uses.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import Ajv2020 from "ajv/dist/2020";
import addFormats from "ajv-formats";
import { CODES } from "../../src/errors";
import { startTestServer, type TestServer } from "../helpers/server";

type Schema = Record<string, any>;
type Media = { where: string; schema: Schema; example?: unknown; examples?: Record<string, { value?: unknown }> };

let server: TestServer;
let doc: any;
const operations: { where: string; op: any }[] = [];
const bodies: Media[] = [];

beforeAll(async () => {
  server = await startTestServer();
  doc = await (await server.get("/openapi.json", null)).json();
  for (const [path, item] of Object.entries<any>(doc.paths))
    for (const [method, op] of Object.entries<any>(item)) {
      const where = `${method.toUpperCase()} ${path}`;
      operations.push({ where, op });
      for (const [type, media] of Object.entries<any>(op.requestBody?.content ?? {})) bodies.push({ where: `${where} request ${type}`, ...media });
      for (const [status, response] of Object.entries<any>(op.responses ?? {}))
        for (const [type, media] of Object.entries<any>(response.content ?? {})) bodies.push({ where: `${where} ${status} ${type}`, ...media });
    }
});
afterAll(() => server.stop());

const isJson = (m: Media) => m.where.endsWith("json");
const isResponse = (m: Media) => !m.where.includes(" request ");

/** Every schema node under `schema`, with a path for messages. */
function* nodes(schema: unknown, path: string): Generator<[Schema, string]> {
  if (!schema || typeof schema !== "object") return;
  if (Array.isArray(schema)) {
    for (const [i, s] of schema.entries()) yield* nodes(s, `${path}[${i}]`);
    return;
  }
  const node = schema as Schema;
  yield [node, path];
  for (const key of ["properties", "patternProperties", "$defs"]) for (const [k, s] of Object.entries<any>(node[key] ?? {})) yield* nodes(s, `${path}.${k}`);
  for (const key of ["items", "additionalProperties", "not"]) if (node[key] && typeof node[key] === "object") yield* nodes(node[key], `${path}.${key}`);
  for (const key of ["anyOf", "oneOf", "allOf"]) if (node[key]) yield* nodes(node[key], `${path}.${key}`);
}

test("the document is big enough to mean something", () => {
  expect(operations.length).toBeGreaterThan(60);
  expect(bodies.filter(isJson).length).toBeGreaterThan(150);
});

test("responses are typed as sent: no string-or-number unions", () => {
  const unions: string[] = [];
  for (const media of bodies.filter(isResponse))
    for (const [node, path] of nodes(media.schema, media.where)) {
      const types = (node.anyOf ?? []).map((s: Schema) => s.type);
      if (types.includes("string") && (types.includes("integer") || types.includes("number"))) unions.push(path);
    }
  expect(unions).toEqual([]);
});

test("every example validates against the schema it sits on", () => {
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
  addFormats(ajv);
  const wrong: string[] = [];
  let checked = 0;
  // The same schemas (the error envelope, shared shapes) sit on many operations: compiled once each.
  const compiled = new Map<string, ReturnType<typeof ajv.compile>>();
  const check = (schema: Schema, value: unknown, where: string) => {
    checked++;
    const { examples: _e, example: _x, ...bare } = schema;
    const text = JSON.stringify(bare);
    let validate = compiled.get(text);
    if (!validate) compiled.set(text, (validate = ajv.compile(bare)));
    if (!validate(value)) wrong.push(`${where}: ${JSON.stringify(value).slice(0, 120)}: ${ajv.errorsText(validate.errors)}`);
  };
  for (const media of bodies) {
    if (media.example !== undefined) check(media.schema, media.example, `${media.where} example`);
    for (const [name, e] of Object.entries(media.examples ?? {})) if (e.value !== undefined) check(media.schema, e.value, `${media.where} examples.${name}`);
    for (const [node, path] of nodes(media.schema, media.where)) {
      if (node.example !== undefined) check(node, node.example, path);
      for (const [i, value] of (Array.isArray(node.examples) ? node.examples : []).entries()) check(node, value, `${path} examples[${i}]`);
    }
  }
  expect(checked).toBeGreaterThan(300);
  expect(wrong).toEqual([]);
});

/** A whole example: on the media type, on its schema, or (a list) on the schema of its rows. */
function hasWholeExample(media: Media): boolean {
  if (media.example !== undefined || Object.keys(media.examples ?? {}).length > 0) return true;
  const own = (s: Schema | undefined) => !!s && (s.example !== undefined || (Array.isArray(s.examples) && s.examples.length > 0));
  const schema = media.schema ?? {};
  if (own(schema)) return true;
  const rows = schema.properties?.data?.items;
  return schema.properties?.object?.const === "list" && own(rows);
}

test("every JSON body, sent or answered, has a whole example", () => {
  const missing = bodies.filter((m) => isJson(m) && m.schema && !hasWholeExample(m)).map((m) => m.where);
  expect(missing).toEqual([]);
});

test("no record shows its key pattern as an example", () => {
  const bare: string[] = [];
  for (const media of bodies.filter(isJson))
    for (const [node, path] of nodes(media.schema, media.where))
      if (node.patternProperties && node.example === undefined && !node.examples?.length) bare.push(path);
  // Inside a schema that has a whole example the docs never reach the record's own.
  const reached = bare.filter((path) => !bodies.some((m) => hasWholeExample(m) && path.startsWith(m.where)));
  expect(reached).toEqual([]);
});

test("every parameter has its own description", () => {
  const bare: string[] = [];
  let count = 0;
  for (const { where, op } of operations)
    for (const p of op.parameters ?? []) {
      count++;
      if (typeof p.description !== "string" || p.description.length < 3) bare.push(`${where} ${p.in} ${p.name}`);
    }
  expect(count).toBeGreaterThan(90);
  expect(bare).toEqual([]);
});

test("error.code is the enum of every code the server uses", () => {
  const codes = Object.keys(CODES).sort();
  const enums = new Set<string>();
  let envelopes = 0;
  // Every 4xx/5xx JSON body that is the error envelope (the 503 of /readyz is the readiness report).
  for (const media of bodies.filter((m) => isJson(m) && /\s[45]\d\d\s/.test(m.where) && m.schema?.properties?.error)) {
    const code = media.schema.properties.error.properties?.code;
    envelopes++;
    enums.add(JSON.stringify([...(code?.enum ?? [])].sort()));
  }
  expect(envelopes).toBeGreaterThan(100);
  expect([...enums]).toEqual([JSON.stringify(codes)]);
});

test("the Gemini routes are documented where clients call them, not at their wildcard", () => {
  expect(Object.keys(doc.paths).filter((p) => p.includes("*"))).toEqual([]);
  const action = doc.paths["/v1beta/models/{model}:{action}"]?.post;
  expect(action.parameters.map((p: { name: string; in: string }) => `${p.in} ${p.name}`)).toEqual(["path model", "path action", "query alt", "query key"]);
  expect(action.parameters[1].schema.enum).toContain("streamGenerateContent");
  expect(doc.paths["/v1beta/models/{model}"]?.get.summary).toBe("Get a model (Gemini)");
});
