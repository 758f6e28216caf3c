import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { signWebhook, WEBHOOK_HEADERS } from '../domain/signature.js';
import { isPrivateHost } from '../domain/url.js';

export interface Delivery {
  url: string;
  secret: string;
  eventId: string;
  eventType: string;
  body: string;
}

export type DeliveryResult = { ok: true; status: number } | { ok: false; error: string };

/** Resolves the host again at send time, so a name re-pointed at a private address after registration is refused. */
async function refusesPrivateTarget(url: URL): Promise<string | null> {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isPrivateHost(host)) return `${host} is a private address`;
  if (isIP(host)) return null;
  const addresses = await lookup(host, { all: true });
  const inward = addresses.find((a) => isPrivateHost(a.address));
  return inward ? `${host} resolves to private address ${inward.address}` : null;
}

/** One signed POST; any non-2xx, timeout or network error is a failure to retry. */
export async function deliverOnce(
  delivery: Delivery,
  options: { timeoutMs: number; allowPrivate: boolean; signal?: AbortSignal },
): Promise<DeliveryResult> {
  const url = new URL(delivery.url);
  try {
    if (!options.allowPrivate) {
      const refused = await refusesPrivateTarget(url);
      if (refused) return { ok: false, error: refused };
    }
    const timestamp = Math.floor(Date.now() / 1000);
    const signals = [AbortSignal.timeout(options.timeoutMs), ...(options.signal ? [options.signal] : [])];
    const response = await fetch(url, {
      method: 'POST',
      redirect: 'manual',
      signal: AbortSignal.any(signals),
      headers: {
        'content-type': 'application/json',
        'user-agent': 'inv-webhooks/1',
        [WEBHOOK_HEADERS.signature]: signWebhook(delivery.secret, timestamp, delivery.body),
        [WEBHOOK_HEADERS.timestamp]: String(timestamp),
        [WEBHOOK_HEADERS.eventId]: delivery.eventId,
        [WEBHOOK_HEADERS.eventType]: delivery.eventType,
      },
      body: delivery.body,
    });
    await response.body?.cancel().catch(() => undefined);
    if (response.status >= 200 && response.status < 300) return { ok: true, status: response.status };
    return { ok: false, error: `HTTP ${response.status}` };
  } catch (error) {
    return { ok: false, error: (error as Error).message };
  }
}
