import { createHmac, timingSafeEqual } from 'node:crypto';

/** Headers of every delivery. The signature covers `${timestamp}.${body}`, so a replayed body with a new time fails. */
export const WEBHOOK_HEADERS = {
  signature: 'x-inv-signature',
  timestamp: 'x-inv-timestamp',
  eventId: 'x-inv-event-id',
  eventType: 'x-inv-event-type',
} as const;

/** Receivers reject a delivery whose timestamp is older (or further ahead) than this. */
export const WEBHOOK_TOLERANCE_MS = 5 * 60 * 1000;

/** `v1=<hex HMAC-SHA256 of "timestamp.body" with the endpoint's secret>`; the timestamp is Unix seconds. */
export function signWebhook(secret: string, timestamp: number, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

export type SignatureCheck =
  | { ok: true }
  | { ok: false; reason: 'missing_headers' | 'bad_signature' | 'too_old' };

/** What a receiver runs (exported so the guide's example and the tests use one implementation). */
export function verifyWebhook(
  secret: string,
  headers: { signature?: string | null; timestamp?: string | null },
  body: string,
  now: number = Date.now(),
  toleranceMs: number = WEBHOOK_TOLERANCE_MS,
): SignatureCheck {
  const timestamp = Number(headers.timestamp);
  if (!headers.signature || !Number.isInteger(timestamp)) return { ok: false, reason: 'missing_headers' };
  const expected = Buffer.from(signWebhook(secret, timestamp, body));
  const given = Buffer.from(headers.signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
    return { ok: false, reason: 'bad_signature' };
  }
  if (Math.abs(now - timestamp * 1000) > toleranceMs) return { ok: false, reason: 'too_old' };
  return { ok: true };
}
