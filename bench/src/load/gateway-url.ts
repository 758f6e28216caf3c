import { WS_BATCH } from '@inv/contracts';

/**
 * The URL a benchmark client of the gateway connects to: asking for batched frames, as the SDK does, unless
 * `BENCH_WS_BATCH=0` (to measure one frame per message side by side).
 */
export function gatewayUrl(url: string): string {
  if (process.env.BENCH_WS_BATCH === '0') return url;
  const parsed = new URL(url);
  parsed.searchParams.set(WS_BATCH.query, '1');
  return parsed.toString();
}
