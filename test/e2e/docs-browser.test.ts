/**
 * The API docs render in a real browser with the network unplugged (docs/dependencies.md): headless
 * Chromium with every hostname but 127.0.0.1 unresolvable, against the server's /docs and /swagger.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startTestServer, type TestServer } from "../helpers/server";
import { hasSystemTools } from "../helpers/system";

const browser = Bun.which("chromium") ?? Bun.which("chromium-browser");
const available = hasSystemTools("offline docs rendering", browser ? "true" : "chromium");

async function renderedDom(url: string): Promise<string> {
  const profile = mkdtempSync(join(tmpdir(), "modelroute-chromium-"));
  try {
    const proc = Bun.spawn({
      cmd: [
        browser!, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
        `--user-data-dir=${profile}`, '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
        "--virtual-time-budget=8000", "--dump-dom", url,
      ],
      stdout: "pipe",
      stderr: "ignore",
    });
    const dom = await new Response(proc.stdout).text();
    await proc.exited;
    return dom;
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}

describe.skipIf(!available)("docs in a browser, offline", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.stop());

  test("/docs renders Scalar's reference of the API from the embedded bundle", async () => {
    const dom = await renderedDom(`${server.url}/docs`);
    expect(dom).toContain("ModelRoute API");
    expect(dom).toContain("Create an execution"); // an operation summary: the spec was loaded and rendered
    expect(dom).not.toContain("cdn.jsdelivr.net");
  }, 60_000);

  test("/swagger renders the classic Swagger UI with the operations", async () => {
    const dom = await renderedDom(`${server.url}/swagger`);
    expect(dom).toContain("swagger-ui");
    expect(dom).toContain("Create an execution");
  }, 60_000);
});
