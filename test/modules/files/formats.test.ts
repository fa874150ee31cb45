import { expect, test } from "bun:test";
import { loadConfig } from "../../../src/config";
import { decideRange } from "../../../src/modules/files/range";
import { accepts, canonicalMediaType, sniffMediaType } from "../../../src/modules/files/sniff";

const bytes = (...parts: (string | number[])[]) => {
  const out: number[] = [];
  for (const part of parts) out.push(...(typeof part === "string" ? [...part].map((c) => c.charCodeAt(0)) : part));
  return Uint8Array.from([...out, ...new Array(64).fill(0)]);
};

test("formats are recognised by their magic bytes", () => {
  const cases: [Uint8Array, string | null][] = [
    [bytes([0x89], "PNG\r\n", [0x1a, 0x0a]), "image/png"],
    [bytes([0xff, 0xd8, 0xff, 0xdb]), "image/jpeg"],
    [bytes("RIFF", [0x24, 0, 0, 0], "WEBPVP8 "), "image/webp"],
    [bytes("GIF89a"), "image/gif"],
    [bytes("%PDF-1.4"), "application/pdf"],
    [bytes("RIFF", [0x24, 0, 0, 0], "WAVEfmt "), "audio/wav"],
    [bytes("ID3", [4, 0]), "audio/mpeg"],
    [bytes([0xff, 0xfb, 0x90, 0x64]), "audio/mpeg"],
    [bytes([0, 0, 0, 0x20], "ftypisom"), "video/mp4"],
    [bytes([0, 0, 0, 0x20], "ftypM4A "), "audio/mp4"],
    [bytes("OggS"), "audio/ogg"],
    [bytes("hello world"), null],
    [new Uint8Array(0), null],
  ];
  for (const [input, expected] of cases) expect(sniffMediaType(input)).toBe(expected);
});

test("x-accept matches exact types, aliases and type/* wildcards", () => {
  expect(accepts(["image/*"], "image/webp")).toBe(true);
  expect(accepts(["image/*"], "application/pdf")).toBe(false);
  expect(accepts(["image/jpeg"], "image/jpg")).toBe(true);
  expect(accepts(["audio/wav"], "audio/x-wav")).toBe(true);
  expect(canonicalMediaType("Text/Plain; charset=utf-8")).toBe("text/plain");
});

test("Range headers: one range is honoured, several or malformed ones mean the whole file", () => {
  expect(decideRange("bytes=0-0", 10)).toEqual({ kind: "partial", range: { start: 0, end: 0 } });
  expect(decideRange("bytes=-3", 10)).toEqual({ kind: "partial", range: { start: 7, end: 9 } });
  expect(decideRange("bytes=-30", 10)).toEqual({ kind: "partial", range: { start: 0, end: 9 } });
  expect(decideRange("bytes=8-", 10)).toEqual({ kind: "partial", range: { start: 8, end: 9 } });
  expect(decideRange("bytes=10-", 10)).toEqual({ kind: "unsatisfiable" });
  expect(decideRange("bytes=-0", 10)).toEqual({ kind: "unsatisfiable" });
  expect(decideRange("bytes=5-2", 10)).toEqual({ kind: "full" });
  expect(decideRange("bytes=0-1,4-5", 10)).toEqual({ kind: "full" });
  expect(decideRange("items=0-1", 10)).toEqual({ kind: "full" });
  expect(decideRange(undefined, 10)).toEqual({ kind: "full" });
});

test("storage settings: s3 needs a bucket and both credentials or none, each a one-line error naming the setting", () => {
  expect(() => loadConfig({ env: { MODELROUTE_STORAGE: "s3" } })).toThrow(/^MODELROUTE_S3_BUCKET \(--s3-bucket\): required when MODELROUTE_STORAGE=s3$/);
  expect(() => loadConfig({ env: { MODELROUTE_STORAGE: "s3", MODELROUTE_S3_BUCKET: "b", MODELROUTE_S3_ACCESS_KEY_ID: "k" } })).toThrow(/MODELROUTE_S3_SECRET_ACCESS_KEY/);
  expect(() => loadConfig({ env: { MODELROUTE_STORAGE: "gcs" } })).toThrow(/MODELROUTE_STORAGE: must be one of local, s3/);
  expect(() => loadConfig({ env: { MODELROUTE_UPLOAD_URL_TTL_SECONDS: "700000" } })).toThrow(/MODELROUTE_UPLOAD_URL_TTL_SECONDS/);
  const config = loadConfig({ flags: { storage: "s3", "s3-bucket": "files", "s3-force-path-style": "true", "s3-endpoint": "http://127.0.0.1:9000/" } });
  expect(config).toMatchObject({ storage: "s3", s3Bucket: "files", s3ForcePathStyle: true, s3Endpoint: "http://127.0.0.1:9000", s3Region: "us-east-1" });
  expect(loadConfig({})).toMatchObject({ storage: "local", fileRetentionDays: 30, uploadUrlTtlSeconds: 3600, downloadUrlTtlSeconds: 3600 });
});
