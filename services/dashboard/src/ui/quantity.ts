/** The largest quantity the services accept in one request. */
export const MAX_QUANTITY = 1_000_000_000;

export type ParsedQuantity = { ok: true; value: number } | { ok: false; message: string };

/**
 * Reads a quantity the way a person types it: digits only. `Number()` would take "1e3" as 1000 and
 * "99999999999999999999" as a float the service then calls "not an integer".
 */
export function parseQuantity(text: string, min: number): ParsedQuantity {
  const range = `Enter a whole number from ${min} to ${MAX_QUANTITY.toLocaleString('en-US')}.`;
  const trimmed = text.trim();
  if (!/^\d+$/.test(trimmed)) {
    return { ok: false, message: `Quantity takes digits only (no signs, decimals or exponents). ${range}` };
  }
  const value = Number(trimmed);
  if (trimmed.length > 10 || value < min || value > MAX_QUANTITY) return { ok: false, message: range };
  return { ok: true, value };
}
