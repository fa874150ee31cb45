/**
 * The path and query of a request, read from its URL string without ever throwing. Bun builds
 * `request.url` from the Host header, which a client may send as anything (`x:99999`, `[::1`,
 * `a b`) or not at all (HTTP/1.0): the URL is then unparseable (`new URL` throws) or only the
 * request target (`/healthz?a=1`). Every piece of code that needs the path or the query of a
 * request reads it here.
 */
function split(url: string): { path: string; search: string } {
  let start = 0;
  if (!url.startsWith("/")) {
    const scheme = url.indexOf("://");
    start = scheme === -1 ? 0 : url.indexOf("/", scheme + 3);
    if (start === -1) return { path: "/", search: "" };
  }
  const hash = url.indexOf("#", start);
  const end = hash === -1 ? url.length : hash;
  const query = url.indexOf("?", start);
  if (query === -1 || query > end) return { path: url.slice(start, end) || "/", search: "" };
  return { path: url.slice(start, query) || "/", search: url.slice(query + 1, end) };
}

/** The request's path, `/v1/executions`, whatever its Host header held. */
export const pathOf = (request: Request): string => split(request.url).path;

/** The request's query parameters (empty when it has none). */
export const queryOf = (request: Request): URLSearchParams => new URLSearchParams(split(request.url).search);
