/**
 * Webhook secrets and signatures (docs/webhooks.md). A secret is `whsec_` + base64 of 32
 * random bytes. Two signatures go out with every delivery so both kinds of receivers work:
 * - the API's own `X-Signature` = hex HMAC-SHA256 keyed with the whole secret string (UTF-8) over
 *   `"{ts}.{body}"`;
 * - Standard Webhooks' `webhook-signature` = `v1,` + base64 HMAC-SHA256 keyed with the decoded
 *   32 bytes over `"{id}.{ts}.{body}"`, so existing verifier libraries work.
 * During a rotation every active secret signs: `X-Signature: <new>,<old>`,
 * `webhook-signature: v1,<new> v1,<old>`.
 */
import { createHmac, randomBytes } from "node:crypto";

const PREFIX = "whsec_";

export const generateSecret = () => PREFIX + randomBytes(32).toString("base64");

/** `whsec_AQID…HyA=`: enough to tell two secrets apart in a list, useless to an attacker. */
export const maskSecret = (secret: string) => `${secret.slice(0, PREFIX.length + 4)}…${secret.slice(-4)}`;

/** The bytes a Standard Webhooks verifier keys its HMAC with: the base64 part, decoded. */
const standardKey = (secret: string) => Buffer.from(secret.startsWith(PREFIX) ? secret.slice(PREFIX.length) : secret, "base64");

export const xSignature = (secret: string, timestamp: number, body: string) =>
  createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex");

export const standardSignature = (secret: string, id: string, timestamp: number, body: string) =>
  createHmac("sha256", standardKey(secret)).update(`${id}.${timestamp}.${body}`).digest("base64");

export type SignedHeaders = {
  "x-webhook-id": string;
  "x-webhook-event": string;
  "x-signature-timestamp": string;
  "x-signature": string;
  "webhook-id": string;
  "webhook-timestamp": string;
  "webhook-signature": string;
};

/** Every signature header of one request; `secrets` lists the newest first. */
export function signatureHeaders(secrets: readonly string[], message: { id: string; type: string; body: string }, timestamp: number): SignedHeaders {
  return {
    "x-webhook-id": message.id,
    "x-webhook-event": message.type,
    "x-signature-timestamp": String(timestamp),
    "x-signature": secrets.map((s) => xSignature(s, timestamp, message.body)).join(","),
    "webhook-id": message.id,
    "webhook-timestamp": String(timestamp),
    "webhook-signature": secrets.map((s) => `v1,${standardSignature(s, message.id, timestamp, message.body)}`).join(" "),
  };
}
