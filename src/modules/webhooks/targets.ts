/**
 * Where webhooks may be sent (docs/decisions.md "Webhooks"): never to private, loopback, link-local,
 * CGNAT, unique-local, multicast or reserved addresses, unless the operator sets
 * MODELROUTE_WEBHOOK_ALLOW_PRIVATE=true. Checked twice: on the URL as registered (literal
 * addresses and `localhost` names, synchronously) and at connect time on every address the
 * host name resolves to, so a public name later pointed at 10.0.0.1 is still refused.
 */
import { lookup } from "node:dns/promises";
import { isIP } from "node:net";

/** IPv4 ranges that are not the public internet (RFC 6890 and friends). */
const PRIVATE_V4: readonly [base: string, bits: number][] = [
  ["0.0.0.0", 8], // "this network"
  ["10.0.0.0", 8],
  ["100.64.0.0", 10], // carrier-grade NAT
  ["127.0.0.0", 8],
  ["169.254.0.0", 16], // link-local, cloud metadata services
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.0.2.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["198.51.100.0", 24],
  ["203.0.113.0", 24],
  ["224.0.0.0", 4], // multicast
  ["240.0.0.0", 4], // reserved, broadcast
];

function v4ToInt(ip: string): number | null {
  const parts = ip.split(".");
  if (parts.length !== 4) return null;
  let n = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part) || Number(part) > 255) return null;
    n = n * 256 + Number(part);
  }
  return n;
}

const V4_RANGES = PRIVATE_V4.map(([base, bits]) => ({ base: v4ToInt(base)!, size: 2 ** (32 - bits) }));

function isPrivateV4(n: number): boolean {
  return V4_RANGES.some((r) => n >= r.base && n < r.base + r.size);
}

/** The eight 16-bit groups of an IPv6 address (zone id dropped), or null when malformed. */
function v6Groups(ip: string): number[] | null {
  let text = ip.replace(/%.*$/, "");
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const n = v4ToInt(dotted[1]!);
    if (n === null) return null;
    text = text.slice(0, -dotted[1]!.length) + `${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const parse = (s: string) => (s === "" ? [] : s.split(":").map((g) => (/^[0-9a-f]{1,4}$/i.test(g) ? parseInt(g, 16) : NaN)));
  const head = parse(halves[0]!);
  const tail = halves.length === 2 ? parse(halves[1]!) : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const groups = [...head, ...Array<number>(halves.length === 2 ? missing : 0).fill(0), ...tail];
  return groups.some(Number.isNaN) ? null : groups;
}

function isPrivateV6(g: number[]): boolean {
  const embeddedV4 = (hi: number, lo: number) => isPrivateV4(hi * 65536 + lo);
  // ::/96 (unspecified, loopback, IPv4-compatible) and ::ffff:0:0/96 (IPv4-mapped): judge the IPv4 part.
  if (g.slice(0, 5).every((x) => x === 0) && (g[5] === 0 || g[5] === 0xffff)) return g[5] === 0 && g[6] === 0 ? true : embeddedV4(g[6]!, g[7]!);
  if (g[0] === 0x64 && g[1] === 0xff9b) return g.slice(2, 6).every((x) => x === 0) ? embeddedV4(g[6]!, g[7]!) : true; // NAT64
  if (g[0] === 0x2002) return embeddedV4(g[1]!, g[2]!); // 6to4
  if ((g[0]! & 0xfe00) === 0xfc00) return true; // unique local fc00::/7
  if ((g[0]! & 0xffc0) === 0xfe80 || (g[0]! & 0xffc0) === 0xfec0) return true; // link-local, site-local
  if ((g[0]! & 0xff00) === 0xff00) return true; // multicast
  if (g[0] === 0x100 && g[1] === 0 && g[2] === 0 && g[3] === 0) return true; // discard-only
  if (g[0] === 0x2001 && g[1] === 0xdb8) return true; // documentation
  return false;
}

/** True for any address a webhook must not reach without MODELROUTE_WEBHOOK_ALLOW_PRIVATE. */
export function isPrivateAddress(ip: string): boolean {
  const family = isIP(ip.replace(/%.*$/, ""));
  if (family === 4) return isPrivateV4(v4ToInt(ip)!);
  if (family === 6) {
    const groups = v6Groups(ip);
    return groups === null || isPrivateV6(groups);
  }
  return true; // not an address at all: refuse rather than guess
}

const hostOf = (url: URL) => url.hostname.replace(/^\[(.*)\]$/, "$1");
const isLocalName = (host: string) => /(^|\.)localhost\.?$/i.test(host);

/** Why the URL as written points inside the network (an address literal or a localhost name), or null. */
export function literalRefusal(url: URL): string | null {
  const host = hostOf(url);
  if (isLocalName(host)) return `${host} is this machine.`;
  if (isIP(host.replace(/%.*$/, "")) && isPrivateAddress(host)) return `${host} is a private, loopback or reserved address.`;
  return null;
}

/** `address`: the public address the name resolved to (absent for an IP literal). */
export type TargetCheck = { ok: true; address?: string } | { ok: false; reason: string; resolved: boolean };

/**
 * Resolves the URL's host and refuses it when any of its addresses is private. `resolved` is
 * false when the name could not be looked up at all (the caller decides whether that matters).
 */
export async function checkTarget(url: URL, timeoutMs: number): Promise<TargetCheck> {
  const host = hostOf(url);
  if (isIP(host.replace(/%.*$/, ""))) return isPrivateAddress(host) ? { ok: false, reason: `${host} is a private, loopback or reserved address.`, resolved: true } : { ok: true };
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`DNS lookup of ${host} timed out`), { code: "ETIMEOUT" })), timeoutMs);
  });
  let addresses: { address: string }[];
  try {
    addresses = await Promise.race([lookup(host, { all: true, verbatim: true }), timeout]);
  } catch (error) {
    const code = (error as { code?: string }).code ?? "ERROR";
    return { ok: false, reason: `DNS lookup of ${host} failed (${code}).`, resolved: false };
  } finally {
    clearTimeout(timer);
  }
  const inside = addresses.find((a) => isPrivateAddress(a.address));
  if (inside) return { ok: false, reason: `${host} resolves to ${inside.address}, a private, loopback or reserved address.`, resolved: true };
  return { ok: true, address: addresses[0]?.address };
}

/**
 * For plain http, the request goes to the address that was checked, with the name in Host: a DNS
 * answer that changes between the check and the connection (rebinding) cannot send it inside.
 * https keeps the name (certificate checks need it; a rebound name fails them).
 */
export function pinnedRequest(url: URL, address: string | undefined): { url: string; host?: string } {
  if (!address || url.protocol !== "http:") return { url: url.href };
  const pinned = new URL(url.href);
  pinned.hostname = address.includes(":") ? `[${address}]` : address;
  return { url: pinned.href, host: url.host };
}
