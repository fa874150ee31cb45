/** The OpenAPI detail of a compatible-surface route: its summary, description, bodies, and the API-key security every one of them has. */

export const apiKeySecurity = [{ apiKey: [] }];

type OperationDoc = {
  summary: string;
  description: string;
  /** The JSON request body's schema (the routes check bodies themselves, in their surface's terms). */
  request?: unknown;
  /** The request body's media type when it is not JSON (`multipart/form-data`). */
  requestType?: string;
  /** The 200 answer: what it is, and its JSON schema. */
  response: [description: string, schema: unknown];
  /** Other media types the 200 answer may come in (audio bytes, plain-text transcripts), each with its schema. */
  alsoAnswers?: Record<string, unknown>;
};

export const operationDoc = (doc: OperationDoc) => ({
  summary: doc.summary,
  description: doc.description,
  security: apiKeySecurity,
  ...(doc.request ? { requestBody: { required: true, content: { [doc.requestType ?? "application/json"]: { schema: doc.request as never } } } } : {}),
  responses: {
    200: {
      description: doc.response[0],
      content: {
        ...(doc.response[1] === null ? {} : { "application/json": { schema: doc.response[1] as never } }),
        ...Object.fromEntries(Object.entries(doc.alsoAnswers ?? {}).map(([type, schema]) => [type, { schema: schema as never }])),
      },
    },
  },
});
