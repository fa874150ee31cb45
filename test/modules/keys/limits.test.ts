import { describe, expect, test } from "bun:test";
import { AppError } from "../../../src/errors";
import { effectiveLimits, mergeLimits, spendWindowEnd, spendWindowStart } from "../../../src/modules/keys/limits";

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

describe("spend windows (00:00 UTC, weeks from Monday)", () => {
  test("daily, weekly, monthly and none", () => {
    const sunday = at("2030-03-17T23:59:59.999Z"); // a Sunday
    expect(iso(spendWindowStart("daily", sunday))).toBe("2030-03-17T00:00:00.000Z");
    expect(iso(spendWindowStart("weekly", sunday))).toBe("2030-03-11T00:00:00.000Z"); // the Monday before
    expect(iso(spendWindowStart("weekly", at("2030-03-18T00:00:00.000Z")))).toBe("2030-03-18T00:00:00.000Z"); // Monday starts a week
    expect(iso(spendWindowStart("monthly", sunday))).toBe("2030-03-01T00:00:00.000Z");
    expect(spendWindowStart("none", sunday)).toBe(0);
  });

  test("windows end where the next begins, across month and year ends", () => {
    const newYearsEve = at("2030-12-31T18:00:00Z");
    expect(iso(spendWindowEnd("daily", newYearsEve))).toBe("2031-01-01T00:00:00.000Z");
    expect(iso(spendWindowEnd("monthly", newYearsEve))).toBe("2031-01-01T00:00:00.000Z");
    expect(iso(spendWindowEnd("weekly", newYearsEve))).toBe("2031-01-06T00:00:00.000Z"); // 2030-12-31 is a Tuesday
    expect(spendWindowEnd("none", newYearsEve)).toBeNull();
    expect(iso(spendWindowEnd("monthly", at("2032-02-10T00:00:00Z")))).toBe("2032-03-01T00:00:00.000Z");
  });
});

describe("effective limits: the stricter of key and guardrail", () => {
  const now = at("2030-03-17T12:00:00Z");

  test("per field, the smaller one; a missing one does not loosen", () => {
    const limits = effectiveLimits({ limits: { requestsPerMinute: 100, maxConcurrentExecutions: 2 }, guardrailLimits: { requestsPerMinute: 10 } }, now);
    expect(limits).toMatchObject({ requestsPerMinute: 10, maxConcurrentExecutions: 2, spendLimits: [] });
    expect(effectiveLimits({ limits: {} }, now)).toEqual({ requestsPerMinute: null, maxConcurrentExecutions: null, spendLimits: [] });
  });

  test("spend limits with the same period keep the smaller; different periods both apply", () => {
    const same = effectiveLimits(
      { limits: { spendLimitMicros: 5_000_000, spendLimitReset: "daily" }, guardrailLimits: { spendLimitMicros: 2_000_000, spendLimitReset: "daily" } },
      now,
    );
    expect(same.spendLimits).toEqual([
      { source: "guardrail", limitMicros: 2_000_000, reset: "daily", windowStartMs: at("2030-03-17T00:00:00Z"), windowEndMs: at("2030-03-18T00:00:00Z") },
    ]);
    const both = effectiveLimits(
      { limits: { spendLimitMicros: 50_000_000, spendLimitReset: "monthly" }, guardrailLimits: { spendLimitMicros: 2_000_000, spendLimitReset: "daily" } },
      now,
    );
    expect(both.spendLimits.map((s) => `${s.source}:${s.reset}`)).toEqual(["key:monthly", "guardrail:daily"]);
  });
});

describe("mergeLimits", () => {
  test("absent fields stay, null clears, a new spend limit defaults to reset none", () => {
    const base = { requestsPerMinute: 10, spendLimitMicros: 1_000_000, spendLimitReset: "weekly" as const };
    expect(mergeLimits(base, { requests_per_minute: null })).toEqual({ spendLimitMicros: 1_000_000, spendLimitReset: "weekly" });
    expect(mergeLimits(base, { spend_limit: null })).toEqual({ requestsPerMinute: 10 });
    expect(mergeLimits({}, { spend_limit: "0.5" })).toEqual({ spendLimitMicros: 500_000, spendLimitReset: "none" });
  });

  test("errors name their field under the given root", () => {
    try {
      mergeLimits({}, { max_concurrent_executions: 0, spend_limit: "-1" }, "limits");
      throw new Error("expected a validation error");
    } catch (e) {
      expect(e).toBeInstanceOf(AppError);
      expect((e as AppError).details.map((d) => d.field)).toEqual(["limits.max_concurrent_executions", "limits.spend_limit"]);
    }
  });
});
