/**
 * Headers a service learns late (the response cache's HIT or MISS) for the answer of the request
 * it serves: the auth macro registers each authenticated request's response headers here, so
 * code that sees only the Request can add to them, streamed answers included.
 */
const byRequest = new WeakMap<Request, Record<string, string | number>>();

/** Called by the auth macro with Elysia's `set.headers` of the request. */
export const registerResponseHeaders = (request: Request, headers: Record<string, string | number>) => byRequest.set(request, headers);

/** Adds a header to the request's answer; nothing when the request was not registered. */
export function addResponseHeader(request: Request, name: string, value: string) {
  const headers = byRequest.get(request);
  if (headers) headers[name] = value;
}
