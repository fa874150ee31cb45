import { describe, expect, test } from "bun:test";
import { checkTarget, isPrivateAddress, literalRefusal, pinnedRequest } from "../../../src/modules/webhooks/targets";

describe("private webhook targets", () => {
  test.each([
    ["127.0.0.1", true], ["127.255.0.9", true], ["10.1.2.3", true], ["172.16.0.1", true], ["172.31.255.255", true],
    ["192.168.1.1", true], ["169.254.169.254", true], ["100.64.0.1", true], ["100.127.255.255", true], ["0.0.0.0", true],
    ["224.0.0.1", true], ["255.255.255.255", true], ["198.18.0.1", true],
    ["::1", true], ["::", true], ["fe80::1", true], ["fe80::1%eth0", true], ["fd12:3456::1", true], ["fc00::1", true], ["ff02::1", true],
    ["::ffff:127.0.0.1", true], ["::ffff:7f00:1", true], ["::ffff:10.0.0.1", true], ["64:ff9b::a00:1", true], ["2002:a00:1::1", true],
    ["8.8.8.8", false], ["1.1.1.1", false], ["172.32.0.1", false], ["100.128.0.1", false], ["93.184.216.34", false],
    ["2606:4700:4700::1111", false], ["::ffff:8.8.8.8", false], ["64:ff9b::808:808", false],
  ])("%s is private: %p", (ip, expected) => {
    expect(isPrivateAddress(ip as string)).toBe(expected as boolean);
  });

  test("URLs written with a private literal or a localhost name are refused before any lookup", () => {
    for (const url of ["http://127.0.0.1:8080/x", "http://localhost/", "http://LOCALHOST./", "http://app.localhost/", "http://[::1]/", "http://[::ffff:127.0.0.1]/", "http://2130706433/", "http://0x7f.1/", "http://10.0.0.1/"])
      expect(literalRefusal(new URL(url))).not.toBeNull();
    for (const url of ["https://example.com/hook", "http://8.8.8.8/", "http://[2606:4700:4700::1111]/"]) expect(literalRefusal(new URL(url))).toBeNull();
  });

  test("at connect time a host name is resolved and every address checked", async () => {
    const check = await checkTarget(new URL("http://localhost:9/hook"), 2000);
    expect(check).toMatchObject({ ok: false, resolved: true });
    expect((check as { reason: string }).reason).toContain("localhost resolves to");
    const missing = await checkTarget(new URL("http://no-such-host.invalid/"), 2000);
    expect(missing).toMatchObject({ ok: false, resolved: false });
    expect(await checkTarget(new URL("http://8.8.8.8/"), 2000)).toEqual({ ok: true });
  });
});

test("plain-http deliveries go to the address that was checked, with the name in Host; https keeps the name", () => {
  expect(pinnedRequest(new URL("http://hooks.example.com:8080/in?x=1"), "93.184.216.34")).toEqual({
    url: "http://93.184.216.34:8080/in?x=1",
    host: "hooks.example.com:8080",
  });
  expect(pinnedRequest(new URL("http://hooks.example.com/in"), "2606:2800:220:1::248")).toEqual({
    url: "http://[2606:2800:220:1::248]/in",
    host: "hooks.example.com",
  });
  expect(pinnedRequest(new URL("https://hooks.example.com/in"), "93.184.216.34")).toEqual({ url: "https://hooks.example.com/in" });
  expect(pinnedRequest(new URL("http://93.184.216.34/in"), undefined)).toEqual({ url: "http://93.184.216.34/in" });
});
