import { describe, expect, test } from "bun:test";
import { generateSecret, maskSecret, xSignature, signatureHeaders, standardSignature } from "../../../src/modules/webhooks/signing";

// The test vector of docs/webhooks.md.
const SECRET = "whsec_AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=";
const TS = 1710924600;
const ID = "evt_01932c5e-7a1b-7000-8000-000000000001";
const BODY = '{"type":"webhook.test"}';

describe("webhook signatures", () => {
  test("match docs/webhooks.md's test vector in both schemes", () => {
    expect(xSignature(SECRET, TS, BODY)).toBe("a693dc5373c2bda8c82f3b7b12a343ccf82535fc8f3c863287eab5fe72567785");
    expect(standardSignature(SECRET, ID, TS, BODY)).toBe("1hG/LpzjJr/+BUTTv4XrKyQsjauHGrKI48V5yAGnK2o=");
  });

  test("every header of a delivery, with one secret", () => {
    expect(signatureHeaders([SECRET], { id: ID, type: "webhook.test", body: BODY }, TS)).toEqual({
      "x-webhook-id": ID,
      "x-webhook-event": "webhook.test",
      "x-signature-timestamp": "1710924600",
      "x-signature": "a693dc5373c2bda8c82f3b7b12a343ccf82535fc8f3c863287eab5fe72567785",
      "webhook-id": ID,
      "webhook-timestamp": "1710924600",
      "webhook-signature": "v1,1hG/LpzjJr/+BUTTv4XrKyQsjauHGrKI48V5yAGnK2o=",
    });
  });

  test("during a rotation the new secret signs first, then the old one", () => {
    const fresh = generateSecret();
    const headers = signatureHeaders([fresh, SECRET], { id: ID, type: "webhook.test", body: BODY }, TS);
    expect(headers["x-signature"]).toBe(`${xSignature(fresh, TS, BODY)},a693dc5373c2bda8c82f3b7b12a343ccf82535fc8f3c863287eab5fe72567785`);
    expect(headers["webhook-signature"]).toBe(`v1,${standardSignature(fresh, ID, TS, BODY)} v1,1hG/LpzjJr/+BUTTv4XrKyQsjauHGrKI48V5yAGnK2o=`);
  });

  test("a new secret is whsec_ + base64 of 32 random bytes; the masked form hides it", () => {
    const secret = generateSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(secret.slice(6), "base64")).toHaveLength(32);
    expect(generateSecret()).not.toBe(secret);
    expect(maskSecret(SECRET)).toBe("whsec_AQID…HyA=");
  });
});
