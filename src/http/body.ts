/**
 * The JSON body parser for every JSON route: a 1 MiB cap read as the bytes arrive (413 in the
 * envelope, not Bun's empty reply), 415 for a non-JSON Content-Type, malformed or too deeply
 * nested JSON as a 400 with `details[].field = "body"` naming the byte where it goes wrong.
 */
import { Elysia } from "elysia";
import { AppError } from "../errors";
import { depthExceededAt, findSyntaxProblem, MAX_JSON_DEPTH } from "./json-text";

export const JSON_BODY_LIMIT_BYTES = 1024 * 1024;

const unreadBodies = new WeakSet<Request>();

/**
 * True when the request's body was refused before it was read to the end: its answer must close
 * the connection, or the client goes on sending into a kept-alive socket nobody reads.
 */
export const bodyLeftUnread = (request: Request) => unreadBodies.has(request);

export async function readLimited(request: Request, limitBytes: number): Promise<Uint8Array> {
  const declared = Number(request.headers.get("content-length") ?? "NaN");
  if (declared > limitBytes) {
    unreadBodies.add(request);
    throw tooLarge(limitBytes);
  }
  if (!request.body) return new Uint8Array(0);
  // With a declared length within the cap, Bun reads the body in one native call: the fast path.
  if (Number.isInteger(declared)) {
    const bytes = await request.bytes();
    if (bytes.byteLength > limitBytes) throw tooLarge(limitBytes);
    return bytes;
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of request.body as unknown as AsyncIterable<Uint8Array>) {
    total += chunk.byteLength;
    if (total > limitBytes) {
      unreadBodies.add(request);
      throw tooLarge(limitBytes);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, total);
}

const tooLarge = (limitBytes: number) =>
  new AppError("PAYLOAD_TOO_LARGE", `The request body is larger than ${limitBytes} bytes.`);

const isJson = (contentType: string) => /^application\/([\w.+-]+\+)?json\s*(;|$)/i.test(contentType);

const fingerprints = new WeakMap<Request, string>();

/** SHA-256 of the raw JSON body as received (the idempotency fingerprint); empty body → hash of "". */
export const bodyFingerprint = (request: Request) => fingerprints.get(request) ?? new Bun.CryptoHasher("sha256").update("").digest("hex");

/** For a route that reads its body itself (multipart forms): the fingerprint of what it read. */
export const setBodyFingerprint = (request: Request, sha256Hex: string) => void fingerprints.set(request, sha256Hex);

/** Paths whose handlers read the raw body themselves (uploads). */
export type RawBodyRoutes = (method: string, path: string) => boolean;

const rejections = new WeakMap<Request, AppError>();

/**
 * Throws the body's 400/413/415, kept aside by the parser. The auth macros call it right after
 * authenticating, so a caller without a valid key gets 401 whatever its body, and a key
 * holder's bad body counts against its rate limit and carries the X-RateLimit-* headers.
 */
export function throwIfBodyRejected(request: Request) {
  const rejection = rejections.get(request);
  if (rejection) throw rejection;
}

async function parseJson(request: Request, contentType: string | undefined, anyContentType: boolean): Promise<unknown> {
  const bytes = await readLimited(request, JSON_BODY_LIMIT_BYTES);
  if (bytes.byteLength === 0) return undefined;
  if (!anyContentType && !isJson(contentType ?? "")) {
    throw new AppError("UNSUPPORTED_MEDIA_TYPE", "Send the body as JSON with Content-Type: application/json.", [
      { field: "Content-Type", code: "unsupported", message: `Expected application/json, got ${JSON.stringify(contentType ?? "")}.` },
    ]);
  }
  fingerprints.set(request, new Bun.CryptoHasher("sha256").update(bytes).digest("hex"));
  const tooDeepAt = depthExceededAt(bytes);
  if (tooDeepAt !== -1) throw badBody(`The body nests objects and arrays deeper than ${MAX_JSON_DEPTH} levels (at byte ${tooDeepAt}).`);
  const text = new TextDecoder().decode(bytes);
  try {
    return JSON.parse(text);
  } catch {
    const problem = findSyntaxProblem(text);
    const where = problem ? `${problem.message} at byte ${Buffer.byteLength(text.slice(0, problem.offset))}` : "it could not be parsed";
    throw badBody(`The body is not valid JSON: ${where}.`);
  }
}

const badBody = (message: string) => new AppError("INPUT_VALIDATION_ERROR", message, [{ field: "body", code: "invalid_format", message }]);

/**
 * `anyContentType`: paths whose body is JSON whatever its Content-Type says (Ollama's API, whose
 * own documentation posts JSON with `curl -d`, a form's content type).
 */
export const jsonBody = (rawBodyRoutes: RawBodyRoutes = () => false, anyContentType: (path: string) => boolean = () => false) =>
  new Elysia({ name: "http/json-body" }).onParse({ as: "global" }, async ({ request, contentType, path }) => {
    if (rawBodyRoutes(request.method, path)) return request; // handed over untouched
    try {
      return await parseJson(request, contentType, anyContentType(path));
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      rejections.set(request, error);
      return {}; // a stand-in: the auth macro throws the rejection before validation sees it
    }
  })
  // Routes without an auth macro (none of the API's JSON routes) get the rejection here.
  .onBeforeHandle({ as: "global" }, ({ request }) => throwIfBodyRejected(request));
