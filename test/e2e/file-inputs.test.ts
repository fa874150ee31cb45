/** `file_…` ids in execution input, end to end on the default catalog's mock-vision model. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { renderPng } from "../../src/providers/mock/png";
import { uploadFile } from "../helpers/files";
import { startTestServer, type TestServer } from "../helpers/server";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.stop());

const PDF = new TextEncoder().encode("%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n");

test("an uploaded PNG is read by the model from its real bytes, and the run is charged", async () => {
  const png = renderPng(320, 200, 7);
  const fileId = (await uploadFile(server, png, "image/png", "photo.png")).file_id;
  const res = await server.post("/v1/executions", { model: "mock-vision", mode: "SYNC", input: { image: fileId, prompt: "what is it" } });
  expect(res.status).toBe(200);
  const execution = await res.json();
  expect(execution.status).toBe("COMPLETED");
  expect(execution.output.text).toContain(`a 320x200 image/png image of ${png.byteLength} bytes`);
  expect(execution.usage).toEqual({ input_tokens: 4, output_tokens: execution.output.text.split(" ").length });
  expect(execution.cost).not.toBe("0.000");
});

test("an unknown, foreign or malformed file id is 400 FILE_NOT_FOUND naming the input field, and nothing is held", async () => {
  const before = (await (await server.get("/v1/balance")).json()).available;
  const other = server.newOrgKey();
  const theirs = (await uploadFile(server, renderPng(64, 64, 1), "image/png", "theirs.png", other.key)).file_id;
  for (const image of [theirs, "file_01932c5e-7a1b-7000-8000-000000000001"]) {
    const res = await server.post("/v1/executions", { model: "mock-vision", input: { image } });
    expect(res.status).toBe(400);
    const { error } = await res.json();
    expect(error).toMatchObject({ code: "FILE_NOT_FOUND", retryable: false });
    expect(error.details[0].field).toBe("input.image");
  }
  const malformed = await server.post("/v1/executions", { model: "mock-vision", input: { image: "not-a-file" } });
  expect(malformed.status).toBe(400);
  expect((await malformed.json()).error.details[0]).toMatchObject({ field: "input.image", code: "invalid_format" });
  expect((await (await server.get("/v1/balance")).json()).available).toBe(before);
});

test("a file the model does not take is 400 FILE_FORMAT_UNSUPPORTED, judged by its bytes, not its declared type", async () => {
  const pdf = (await uploadFile(server, PDF, "application/pdf", "doc.pdf")).file_id;
  const declared = await server.post("/v1/executions", { model: "mock-vision", input: { image: pdf } });
  expect(declared.status).toBe(400);
  expect((await declared.json()).error).toMatchObject({ code: "FILE_FORMAT_UNSUPPORTED", details: [{ field: "input.image" }] });

  const disguised = (await uploadFile(server, PDF, "image/png", "not-really.png")).file_id; // declared PNG, PDF inside
  const res = await server.post("/v1/executions", { model: "mock-vision", input: { image: disguised } });
  expect(res.status).toBe(400);
  expect((await res.json()).error).toMatchObject({ code: "FILE_FORMAT_UNSUPPORTED", details: [{ field: "input.image" }] });
});

test("a file whose bytes vanished is 400 FILE_NOT_FOUND at create, not a server error, and nothing is held", async () => {
  const fileId = (await uploadFile(server, renderPng(8, 8, 1), "image/png", "gone.png")).file_id;
  rmSync(join(server.dataDir, "files", fileId.slice(-2), fileId)); // as when a DELETE lands between the lookup and the read
  const before = await (await server.get("/v1/balance")).json();
  const res = await server.post("/v1/executions", { model: "mock-vision", input: { image: fileId } });
  expect(res.status).toBe(400);
  expect((await res.json()).error).toMatchObject({ code: "FILE_NOT_FOUND", details: [{ field: "input.image", code: "not_found" }] });
  expect(await (await server.get("/v1/balance")).json()).toEqual(before);
});

test("a file deleted after the create but before the run fails the execution with FILE_NOT_FOUND", async () => {
  const fileId = (await uploadFile(server, renderPng(80, 60, 3), "image/png", "short-lived.png")).file_id;
  const created = await (await server.post("/v1/executions", { model: "mock-vision", input: { image: fileId, mock_latency_ms: 0 } })).json();
  // The run may already have read it: either outcome is consistent, but never a stuck execution.
  await server.request("DELETE", `/v1/files/${fileId}`);
  let execution = created;
  for (let i = 0; i < 100 && !["COMPLETED", "FAILED"].includes(execution.status); i++) {
    await Bun.sleep(20);
    execution = await (await server.get(`/v1/executions/${created.id}`)).json();
  }
  expect(["COMPLETED", "FAILED"]).toContain(execution.status);
  if (execution.status === "FAILED") expect(execution.error.code).toBe("FILE_NOT_FOUND");
});
