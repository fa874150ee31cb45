import { expect, test } from "bun:test";
import { formatUsd, parseUsd } from "../src/money";

test("formatUsd keeps at least 3 and at most 6 decimals", () => {
  expect(formatUsd(40_000)).toBe("0.040");
  expect(formatUsd(125)).toBe("0.000125");
  expect(formatUsd(12_500_000)).toBe("12.500");
  expect(formatUsd(0)).toBe("0.000");
  expect(formatUsd(1)).toBe("0.000001");
  expect(formatUsd(1_000_000)).toBe("1.000");
  expect(formatUsd(1_234_560)).toBe("1.23456");
  expect(formatUsd(999_999)).toBe("0.999999");
});

test("formatUsd renders negative amounts (debits in balance transactions)", () => {
  expect(formatUsd(-40_000)).toBe("-0.040");
  expect(formatUsd(-1)).toBe("-0.000001");
  expect(formatUsd(-12_500_000)).toBe("-12.500");
});

test("formatUsd stays exact at large balances", () => {
  expect(formatUsd(123_456_789_012_345)).toBe("123456789.012345");
  expect(formatUsd(Number.MAX_SAFE_INTEGER)).toBe("9007199254.740991");
});

test("parseUsd reads decimal strings exactly, never through floats", () => {
  expect(parseUsd("25.00")).toBe(25_000_000);
  expect(parseUsd("0.1")).toBe(100_000);
  expect(parseUsd("0.000125")).toBe(125);
  expect(parseUsd("10")).toBe(10_000_000);
  expect(parseUsd("0.29")).toBe(290_000); // 0.29 * 1e6 is 289999.99999999994 as a float
  expect(parseUsd(" 1.5 ")).toBe(1_500_000);
  expect(parseUsd("000.040")).toBe(40_000);
});

test("parseUsd refuses what is not a plain non-negative decimal with at most 6 places", () => {
  for (const bad of ["", ".5", "5.", "-1", "+1", "1.0000001", "1e3", "0x10", "1,5", "abc", "NaN", "Infinity", "1 000", "1234567890"])
    expect(parseUsd(bad)).toBeNull();
});

test("formatUsd and parseUsd round-trip", () => {
  for (const micros of [0, 1, 125, 40_000, 999_999, 1_000_000, 12_345_678, 987_654_321_000])
    expect(parseUsd(formatUsd(micros))).toBe(micros);
});
