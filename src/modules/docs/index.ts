/**
 * API docs served from the binary itself, with no network at all (docs/dependencies.md):
 * Scalar at /docs, the classic Swagger UI at /swagger, the OpenAPI 3.1 document at /openapi.json.
 * The UI bundles are embedded with `with { type: "file" }` (gzip-compressed by `npm run build`)
 * and served from /docs/assets by ./assets.ts.
 */
import { Elysia } from "elysia";
import scalarJs from "#scalar-standalone" with { type: "file" };
import swaggerJs from "#swagger-ui-bundle" with { type: "file" };
import swaggerCss from "#swagger-ui-css" with { type: "file" };
import { VERSION } from "../../version";
import { compressedAsset } from "./assets";
import { API_DESCRIPTION, API_TAGS } from "./description";

const swaggerPage = `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8" />
  <meta name="viewport" content="width=device-width, initial-scale=1" />
  <title>ModelRoute API — Swagger UI</title>
  <link rel="stylesheet" href="/docs/assets/swagger-ui.css" />
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/assets/swagger-ui-bundle.js"></script>
  <script>
    window.onload = () => {
      window.ui = SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true, persistAuthorization: true });
    };
  </script>
</body>
</html>`;

type OpenApiDocument = { paths?: Record<string, Record<string, unknown>> };

/**
 * Prefix groups register their root as "/v1/executions/"; Elysia serves it with or without the
 * slash, but the document should name it as the API reference does: "/v1/executions".
 */
export function withoutTrailingSlashes(document: OpenApiDocument): OpenApiDocument {
  if (!document.paths) return document;
  const paths: Record<string, Record<string, unknown>> = {};
  for (const [path, operations] of Object.entries(document.paths)) {
    const bare = path.length > 1 ? path.replace(/\/+$/, "") : path;
    paths[bare] = { ...paths[bare], ...operations };
  }
  return { ...document, paths };
}

/**
 * A route on a wildcard (`/v1beta/models/*`, whose one segment holds `{model}:{action}`) names in
 * its detail's `x-path` the path to document it at, with its own path parameters.
 */
export function atDocumentedPaths(document: OpenApiDocument): OpenApiDocument {
  if (!document.paths) return document;
  const paths: Record<string, Record<string, unknown>> = {};
  for (const [path, operations] of Object.entries(document.paths))
    for (const [method, operation] of Object.entries(operations)) {
      const { "x-path": named, ...rest } = operation as { "x-path"?: unknown };
      const at = typeof named === "string" ? named : path;
      paths[at] = { ...paths[at], [method]: typeof named === "string" ? rest : operation };
    }
  return { ...document, paths };
}

/** A route as the root app lists it: enough to find its body schema. */
export type RouteBody = { method: string; path: string; hooks: { body?: unknown } };

const toOpenApiPath = (path: string) => (path.length > 1 ? path.replace(/\/+$/, "") : path).replace(/:(\w+)/g, "{$1}");

/**
 * The plugin cannot tell what a route parses when the parser is a function (our JSON parser
 * with its size cap), and leaves `requestBody.content` empty. Every such body is JSON: name it.
 */
export function withJsonBodies(document: OpenApiDocument, routes: RouteBody[]): OpenApiDocument {
  const bodies = new Map(routes.filter((r) => r.hooks.body).map((r) => [`${r.method.toLowerCase()} ${toOpenApiPath(r.path)}`, r.hooks.body]));
  for (const [path, operations] of Object.entries(document.paths ?? {})) {
    for (const [method, operation] of Object.entries(operations)) {
      const requestBody = (operation as { requestBody?: { content?: Record<string, unknown> } }).requestBody;
      const schema = bodies.get(`${method} ${path}`);
      if (requestBody && schema && Object.keys(requestBody.content ?? {}).length === 0) requestBody.content = { "application/json": { schema } };
    }
  }
  return document;
}

type Schema = Record<string, unknown> & { description?: string; anyOf?: Schema[]; type?: unknown; format?: unknown };
type Parameter = Record<string, unknown> & { description?: string; schema?: Schema };

/** t.Integer / t.Numeric, generated as `numeric string | number`: the number it converts to. */
function withoutNumericString(schema: Schema): Schema {
  const branches = schema.anyOf ?? [];
  const numeric = branches.find((b) => b.type === "integer" || b.type === "number");
  const isString = (b: Schema) => b.type === "string" && (b.format === "integer" || b.format === "numeric");
  if (branches.length !== 2 || !numeric || !branches.some(isString)) return schema;
  const { anyOf: _, ...rest } = schema;
  return { ...rest, ...numeric };
}

/**
 * The generator puts a parameter's description in its schema, where Swagger UI does not show it,
 * and documents a query integer (t.Integer, which converts the string it arrives as) as
 * `string | integer`. Each parameter gets its own description, and its schema the number it is.
 */
export function withParameterDescriptions(document: OpenApiDocument): OpenApiDocument {
  for (const operations of Object.values(document.paths ?? {})) {
    for (const operation of Object.values(operations) as { parameters?: Parameter[] }[]) {
      if (!operation.parameters) continue;
      operation.parameters = operation.parameters.map((parameter) => {
        if (!parameter.schema) return parameter;
        const { description, ...schema } = withoutNumericString(parameter.schema);
        const text = parameter.description ?? description;
        return text === undefined ? { ...parameter, schema } : { ...parameter, description: text, schema };
      });
    }
  }
  return document;
}

const SCALAR_CONFIGURATION = {
  url: "/openapi.json",
  withDefaultFonts: false,
  telemetry: false,
  hideClientButton: false,
  agent: { disabled: true },
  mcp: { disabled: true },
  showDeveloperTools: "never",
  _integration: "elysiajs",
};

const scalarPage = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8" />
  <meta name="viewport" content="width=device-width, initial-scale=1" />
  <title>ModelRoute API</title>
  <style>body { margin: 0; }</style>
</head>
<body>
  <script id="api-reference" data-configuration='${JSON.stringify(SCALAR_CONFIGURATION)}'></script>
  <script src="/docs/assets/scalar.js"></script>
</body>
</html>`;

const DOCUMENT_BASE = {
  openapi: "3.1.2",
  info: { title: "ModelRoute API", version: VERSION, description: API_DESCRIPTION },
  tags: API_TAGS,
  security: [{ apiKey: [] }],
  securitySchemes: {
    apiKey: { type: "http", scheme: "bearer", description: "An API key: sk_<64 hex>_<8 hex CRC32>." },
    operatorToken: { type: "http", scheme: "bearer", description: "The operator token (mrt_…) for /admin/v1." },
  },
};

/** The app the document describes: the root, whose routes are known once it is built. */
export type DocumentedApp = { routes: RouteBody[] };

/**
 * Builds the OpenAPI document on the first request and keeps it (routes do not change after
 * start). The generator is loaded then, not at start-up: it costs ~5 ms of every cold start.
 */
async function buildDocument(app: DocumentedApp, serverUrl: string): Promise<OpenApiDocument> {
  const { toOpenAPISchema } = await import("@elysiajs/openapi");
  const generated = toOpenAPISchema(app as never, { staticFile: true }, undefined, undefined, "3.1.2") as {
    paths: Record<string, Record<string, unknown>>;
    components: { schemas: Record<string, unknown> };
  };
  const { securitySchemes, ...base } = DOCUMENT_BASE;
  const document = {
    ...base,
    // Code samples in the docs then name this server (MODELROUTE_PUBLIC_URL), not a bare path.
    servers: [{ url: serverUrl, description: "This ModelRoute server" }],
    paths: generated.paths,
    components: { securitySchemes, schemas: generated.components.schemas },
  };
  return atDocumentedPaths(withParameterDescriptions(withJsonBodies(withoutTrailingSlashes(document), app.routes)));
}

export const docsRoutes = (app: () => DocumentedApp, serverUrl: () => string) => {
  let document: Promise<OpenApiDocument> | null = null;
  return new Elysia({ name: "docs" })
    .get("/openapi.json", () => (document ??= buildDocument(app(), serverUrl())), { detail: { hide: true } })
    .get("/docs", () => new Response(scalarPage, { headers: { "content-type": "text/html; charset=utf-8" } }), { detail: { hide: true } })
    .get("/docs/assets/scalar.js", compressedAsset(scalarJs, "text/javascript; charset=utf-8"), { detail: { hide: true } })
    .get("/docs/assets/swagger-ui-bundle.js", compressedAsset(swaggerJs, "text/javascript; charset=utf-8"), { detail: { hide: true } })
    .get("/docs/assets/swagger-ui.css", compressedAsset(swaggerCss, "text/css; charset=utf-8"), { detail: { hide: true } })
    .get("/swagger", () => new Response(swaggerPage, { headers: { "content-type": "text/html; charset=utf-8" } }), {
      detail: { hide: true },
    });
};
