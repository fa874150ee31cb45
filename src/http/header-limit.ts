/**
 * Request headers over 16 KiB get 431 in the error envelope. Bun's own HTTP parser refuses
 * headers past its limit with an empty 431 before any code of ours runs, so the server is started
 * with that limit raised to 64 KiB (BUN_RUNTIME_FLAGS: `npm start` and the compiled binary pass
 * them) and this plugin answers everything between the two. What Bun still answers itself is
 * listed in docs/operations.md ("Answers without a body").
 */
import { Elysia } from "elysia";
import { AppError } from "../errors";

export const HEADER_LIMIT_BYTES = 16 * 1024;
const BUN_HEADER_LIMIT_BYTES = 64 * 1024;

/** Flags of the bun runtime the server needs: given to `bun` by `npm start`, compiled into the binary. */
export const BUN_RUNTIME_FLAGS = [`--max-http-header-size=${BUN_HEADER_LIMIT_BYTES}`];

/**
 * Bytes of the header section as sent, `name: value\r\n` per header, near enough for a limit
 * (repeated headers count once, joined). Bun's `toJSON` takes half the time of iterating the
 * Headers, which every request pays.
 */
function headerBytes(headers: Headers): number {
  let total = 0;
  const all = headers.toJSON() as Record<string, string | string[]>; // set-cookie, repeated, is an array
  for (const name in all) {
    const value = all[name]!;
    total += name.length + 4 + (typeof value === "string" ? value.length : value.join(", ").length);
  }
  return total;
}

export const headerLimit = () =>
  new Elysia({ name: "http/header-limit" }).onRequest(({ request }) => {
    const size = headerBytes(request.headers);
    if (size > HEADER_LIMIT_BYTES)
      throw new AppError("REQUEST_HEADERS_TOO_LARGE", `The request headers take ${size} bytes; at most ${HEADER_LIMIT_BYTES} are accepted.`);
  });
