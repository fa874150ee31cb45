import { expect, test } from "bun:test";
import { ConfigError, loadConfig } from "../../../src/config";

test("the webhook retry schedule is a comma list of milliseconds; anything else names the setting", () => {
  expect(loadConfig().webhookRetryScheduleMs).toEqual([5_000, 300_000, 1_800_000, 7_200_000, 18_000_000]);
  expect(loadConfig({ env: { MODELROUTE_WEBHOOK_RETRY_SCHEDULE: "50, 100,150" } }).webhookRetryScheduleMs).toEqual([50, 100, 150]);
  expect(loadConfig({ flags: { "webhook-retry-schedule": "0" } }).webhookRetryScheduleMs).toEqual([0]);
  for (const bad of ["5s,10s", "100,,200", "-5", "1.5"]) {
    expect(() => loadConfig({ env: { MODELROUTE_WEBHOOK_RETRY_SCHEDULE: bad } })).toThrow(ConfigError);
    expect(() => loadConfig({ env: { MODELROUTE_WEBHOOK_RETRY_SCHEDULE: bad } })).toThrow(/^MODELROUTE_WEBHOOK_RETRY_SCHEDULE: /);
  }
  expect(() => loadConfig({ env: { MODELROUTE_WEBHOOK_RETRY_SCHEDULE: Array(21).fill("1").join(",") } })).toThrow(/at most 20/);
});
