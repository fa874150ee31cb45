/**
 * Money is integer micro-USD everywhere; this is the only place that turns it into the wire's
 * decimal strings ("0.040", "0.000125") and back, by string arithmetic, never through floats.
 */
export const MICROS_PER_USD = 1_000_000;

/** 40000 → "0.040", 125 → "0.000125", 12500000 → "12.500": at least 3 decimals, at most 6. */
export function formatUsd(micros: number): string {
  const negative = micros < 0;
  const abs = Math.abs(micros);
  const whole = Math.floor(abs / MICROS_PER_USD);
  let fraction = String(abs % MICROS_PER_USD).padStart(6, "0").replace(/0+$/, "");
  if (fraction.length < 3) fraction = fraction.padEnd(3, "0");
  return `${negative ? "-" : ""}${whole}.${fraction}`;
}

const DECIMAL = /^(\d{1,9})(?:\.(\d{1,6}))?$/;

/** "25.00" → 25000000; null when not a non-negative decimal with at most 6 decimals. */
export function parseUsd(text: string): number | null {
  const match = DECIMAL.exec(text.trim());
  if (!match) return null;
  return Number(match[1]) * MICROS_PER_USD + Number((match[2] ?? "").padEnd(6, "0"));
}
