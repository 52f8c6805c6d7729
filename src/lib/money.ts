/**
 * @module Exact money. Prices are integer micro-dollars per million tokens, which is exactly
 * pico-dollars per token, so cost = tokens × price is an integer number of pico-dollars (1e-12 USD).
 * Balances and costs are stored as bigint pico-dollars; no float ever touches money.
 */

export const PICO_PER_USD = 1_000_000_000_000n;
const MICRO_PER_USD = 1_000_000n;

/**
 * Parses a decimal USD amount (as typed by a person) exactly.
 * @example parseUsd('0.15', 6) // 150000n  (micro-dollars)
 */
export function parseUsd(text: string, decimals: 6 | 12): bigint {
  const m = /^\s*(\d+)(?:\.(\d+))?\s*$/.exec(text);
  if (!m) throw new Error(`not a non-negative decimal amount: ${JSON.stringify(text)}`);
  const frac = m[2] ?? '';
  if (frac.length > decimals) {
    if (/[1-9]/.test(frac.slice(decimals))) throw new Error(`too many decimals in ${text} (at most ${decimals})`);
  }
  const scale = 10n ** BigInt(decimals);
  return BigInt(m[1]!) * scale + BigInt((frac + '0'.repeat(decimals)).slice(0, decimals) || '0');
}

/** Price per million tokens in USD (decimal string) → micro-dollars per million tokens. */
export function parsePricePerMillion(text: string): bigint {
  return parseUsd(text, 6);
}

/** Credit amount in USD (decimal string) → pico-dollars. */
export function parseCredits(text: string): bigint {
  return parseUsd(text, 12);
}

/** Cost in pico-dollars of `tokens` at `pricePerMillionMicros`. */
export function tokenCost(tokens: number, pricePerMillionMicros: bigint | null | undefined): bigint {
  if (!pricePerMillionMicros || tokens <= 0) return 0n;
  return BigInt(tokens) * pricePerMillionMicros;
}

function formatScaled(value: bigint, decimals: number, minDecimals: number): string {
  const neg = value < 0n;
  const abs = neg ? -value : value;
  const scale = 10n ** BigInt(decimals);
  const whole = abs / scale;
  let frac = (abs % scale).toString().padStart(decimals, '0').replace(/0+$/, '');
  if (frac.length < minDecimals) frac = frac.padEnd(minDecimals, '0');
  return `${neg ? '-' : ''}${whole}${frac ? '.' + frac : ''}`;
}

/** pico-dollars → exact decimal USD string, e.g. `0.00015`. */
export function formatPicoUsd(pico: bigint, minDecimals = 2): string {
  return formatScaled(pico, 12, minDecimals);
}

/** micro-dollars per million tokens → decimal USD string, e.g. `0.15`. */
export function formatPrice(micros: bigint | null | undefined): string | null {
  return micros == null ? null : formatScaled(micros, 6, 0);
}

export { MICRO_PER_USD };
