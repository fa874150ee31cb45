#!/usr/bin/env bun
/**
 * Memory of a 150 MiB upload and download (docs/architecture.md "Files": streamed, never buffered whole).
 * Starts `modelroute serve` as a child process on a temp data dir, PUTs 157,286,400 bytes to a
 * local upload link from a generated stream, downloads them back, and prints the server's RSS
 * (from /proc) before, at its peak during each transfer, and after. Run: bun scripts/bench/files-upload.ts
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnServer } from "../../test/helpers/process";
import { memoryOf } from "./lib";

const SIZE = Number(process.env.BENCH_FILE_BYTES ?? 157_286_400); // compare a smaller size to see RSS does not grow with it
const CHUNK = 1024 * 1024;
const dataDir = mkdtempSync(join(tmpdir(), "modelroute-bench-files-"));


/** Samples RSS every 20 ms while `work` runs; returns the highest sample. */
async function peakDuring(pid: number, work: () => Promise<void>) {
  let peak = 0;
  const timer = setInterval(() => (peak = Math.max(peak, memoryOf(pid).rss)), 20);
  const started = performance.now();
  await work();
  clearInterval(timer);
  return { peak: Math.max(peak, memoryOf(pid).rss), seconds: (performance.now() - started) / 1000 };
}

const { proc: server, url: base } = await spawnServer(dataDir);
try {
  const { api_key: key } = JSON.parse(readFileSync(join(dataDir, "bootstrap.json"), "utf8"));
  const auth = { authorization: `Bearer ${key}` };
  await Bun.sleep(500); // let startup allocations settle
  const before = memoryOf(server.pid).rss;

  const init = await fetch(`${base}/v1/files/upload`, {
    method: "POST",
    headers: { ...auth, "content-type": "application/json" },
    body: JSON.stringify({ filename: "bench.mp4", content_type: "video/mp4", size_bytes: SIZE }),
  }).then((r) => r.json() as Promise<{ file_id: string; upload_url: string }>);

  const chunk = new Uint8Array(CHUNK).map((_, i) => (i * 31) & 0xff);
  const expected = new Bun.CryptoHasher("sha256");
  let sent = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= SIZE) return controller.close();
      const piece = chunk.subarray(0, Math.min(CHUNK, SIZE - sent));
      expected.update(piece);
      sent += piece.byteLength;
      controller.enqueue(piece);
    },
  });
  let uploadStatus = 0;
  let sha256 = "";
  const upload = await peakDuring(server.pid, async () => {
    const res = await fetch(init.upload_url, { method: "PUT", body, headers: { "content-type": "video/mp4", "content-length": String(SIZE) } });
    uploadStatus = res.status;
    sha256 = ((await res.json()) as { sha256: string }).sha256;
  });
  const afterUpload = memoryOf(server.pid).rss;

  let received = 0;
  const download = await peakDuring(server.pid, async () => {
    const res = await fetch(`${base}/v1/files/${init.file_id}/download`, { headers: auth });
    for await (const piece of res.body as unknown as AsyncIterable<Uint8Array>) received += piece.byteLength;
  });
  const after = memoryOf(server.pid);

  const mib = SIZE / CHUNK;
  console.log(`upload:   HTTP ${uploadStatus}, ${mib} MiB in ${upload.seconds.toFixed(2)} s (${(mib / upload.seconds).toFixed(0)} MiB/s), sha256 ${sha256 === expected.digest("hex") ? "matches" : "DIFFERS"}`);
  console.log(`download: ${received === SIZE ? "all bytes" : `${received} bytes (SHORT)`} in ${download.seconds.toFixed(2)} s (${(mib / download.seconds).toFixed(0)} MiB/s)`);
  console.log(`server RSS MiB: before ${before.toFixed(1)} | peak during upload ${upload.peak.toFixed(1)} | after upload ${afterUpload.toFixed(1)} | peak during download ${download.peak.toFixed(1)} | after ${after.rss.toFixed(1)} | process high-water mark ${after.peak.toFixed(1)}`);
} finally {
  server.kill("SIGTERM");
  await server.exited;
  rmSync(dataDir, { recursive: true, force: true });
}
