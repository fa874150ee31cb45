import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, loadConfig, publicBaseUrl, SETTINGS } from "../src/config";

const dir = mkdtempSync(join(tmpdir(), "modelroute-config-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string) {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** The message of the ConfigError `load` throws (fails the test if it does not throw one). */
function configError(load: () => unknown): string {
  try {
    load();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error("expected a ConfigError");
}

test("with no sources every setting takes its documented default", () => {
  const config = loadConfig();
  expect(config).toMatchObject({ host: "127.0.0.1", port: 8080, dataDir: "./data", logLevel: "info", publicUrl: null, rateLimitRpm: 600 });
  for (const s of SETTINGS) expect((config as Record<string, unknown>)[s.key]).toEqual(s.default);
});

test("flag beats environment beats config file beats default, per setting", () => {
  const yaml = file("precedence.yaml", "port: 7001\nhost: 0.0.0.0\nlog_level: warn\nrate-limit-rpm: 5\n");
  const config = loadConfig({
    flags: { port: "7003" },
    env: { MODELROUTE_PORT: "7002", MODELROUTE_HOST: "10.0.0.1" },
    file: yaml,
  });
  expect(config.port).toBe(7003); // flag
  expect(config.host).toBe("10.0.0.1"); // env over file
  expect(config.logLevel).toBe("warn"); // file (snake_case key) over default
  expect(config.rateLimitRpm).toBe(5); // file (flag-style key)
  expect(config.dataDir).toBe("./data"); // default
});

test("a JSON config file works with camelCase keys and numbers as numbers", () => {
  const json = file("settings.json", JSON.stringify({ dataDir: "/srv/mr", port: 9001, publicUrl: "https://api.example.com/" }));
  const config = loadConfig({ file: json });
  expect(config).toMatchObject({ dataDir: "/srv/mr", port: 9001, publicUrl: "https://api.example.com" });
  expect(publicBaseUrl(config)).toBe("https://api.example.com");
});

test("an empty environment value counts as unset, so the file still applies", () => {
  const yaml = file("empty-env.yaml", "port: 7100\n");
  expect(loadConfig({ env: { MODELROUTE_PORT: "" }, file: yaml }).port).toBe(7100);
});

test("the public URL defaults to the bound host and port, IPv6 in brackets", () => {
  expect(publicBaseUrl(loadConfig({ env: { MODELROUTE_PORT: "0" } }), 43210)).toBe("http://127.0.0.1:43210");
  expect(publicBaseUrl(loadConfig({ flags: { host: "::1" } }))).toBe("http://[::1]:8080");
});

test("bad values name the setting and where it came from", () => {
  expect(configError(() => loadConfig({ flags: { port: "abc" } }))).toStartWith("--port: must be an integer from 0 to 65535");
  expect(configError(() => loadConfig({ flags: { port: "70000" } }))).toContain("--port");
  expect(configError(() => loadConfig({ flags: { port: "80.5" } }))).toContain("--port");
  expect(configError(() => loadConfig({ env: { MODELROUTE_RATE_LIMIT_RPM: "-1" } }))).toStartWith("MODELROUTE_RATE_LIMIT_RPM: must be an integer");
  expect(configError(() => loadConfig({ env: { MODELROUTE_LOG_LEVEL: "loud" } }))).toBe(
    'MODELROUTE_LOG_LEVEL: must be one of debug, info, warn, error, silent (got "loud")',
  );
  expect(configError(() => loadConfig({ env: { MODELROUTE_PUBLIC_URL: "ftp://x" } }))).toStartWith("MODELROUTE_PUBLIC_URL: must be an http(s) URL");
  expect(configError(() => loadConfig({ env: { MODELROUTE_BOOTSTRAP_CREDIT: "ten" } }))).toStartWith("MODELROUTE_BOOTSTRAP_CREDIT: must be a USD amount");
  expect(configError(() => loadConfig({ flags: { "bootstrap-credit": "1.1234567" } }))).toStartWith("--bootstrap-credit: must be a USD amount");
  expect(loadConfig({ env: { MODELROUTE_BOOTSTRAP_CREDIT: "25.50" } }).bootstrapCredit).toBe("25.50");
  const yaml = file("bad-value.yaml", "port: [1, 2]\n");
  expect(configError(() => loadConfig({ file: yaml }))).toStartWith(`${yaml}: port: must be an integer`);
});

test("config file problems are one line naming the file", () => {
  const unknown = file("unknown.yaml", "port: 1\nprot: 2\n");
  expect(configError(() => loadConfig({ file: unknown }))).toBe(`config file ${unknown}: unknown setting "prot"`);
  expect(configError(() => loadConfig({ file: join(dir, "missing.yaml") }))).toBe(`--config: cannot read ${join(dir, "missing.yaml")}`);
  const broken = file("broken.json", "{ port: ");
  const brokenMessage = configError(() => loadConfig({ file: broken }));
  expect(brokenMessage).toStartWith(`--config: ${broken} is not valid JSON`);
  expect(brokenMessage).not.toContain("\n");
  const list = file("list.yaml", "- port\n- host\n");
  expect(configError(() => loadConfig({ file: list }))).toBe(`--config: ${list} must hold an object of settings`);
});

test("an empty YAML file is no settings at all", () => {
  expect(loadConfig({ file: file("empty.yaml", "") }).port).toBe(8080);
});

test("a rate limit of 0 is accepted (it turns the limiter off)", () => {
  expect(loadConfig({ env: { MODELROUTE_RATE_LIMIT_RPM: "0" } }).rateLimitRpm).toBe(0);
});
