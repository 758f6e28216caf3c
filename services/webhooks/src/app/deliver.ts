import { type LookupAddress, lookup } from 'node:dns';
import { request as httpRequest, type OutgoingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
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

/**
 * Resolves a name as the system does and refuses it when any address is private, for the connection itself: the
 * address checked is the one connected to. (A check before the request, then `fetch` resolving again, let a name
 * answering a public address first and a private one next — DNS rebinding — reach the private one.)
 */
const publicOnlyLookup: LookupFunction = (hostname, options, callback) => {
  lookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
    if (error) return callback(error, '', 0);
    const inward = addresses.find((address) => isPrivateHost(address.address));
    if (inward) {
      return callback(new Error(`${hostname} resolves to private address ${inward.address}`), '', 0);
    }
    if (options.all) return callback(null, addresses);
    const [first] = addresses;
    if (!first) return callback(new Error(`${hostname} resolves to no address`), '', 0);
    callback(null, first.address, first.family);
  });
};

/** POSTs `body`, resolving with the status; no redirect is followed (a 3xx is a failure). */
function post(
  url: URL,
  headers: OutgoingHttpHeaders,
  body: string,
  options: { signal: AbortSignal; lookup?: LookupFunction },
): Promise<number> {
  return new Promise((resolve, reject) => {
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const request = send(
      url,
      { method: 'POST', headers, signal: options.signal, lookup: options.lookup },
      (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

/** One signed POST; any non-2xx, timeout or network error is a failure to retry. */
export async function deliverOnce(
  delivery: Delivery,
  options: { timeoutMs: number; allowPrivate: boolean; signal?: AbortSignal },
): Promise<DeliveryResult> {
  const url = new URL(delivery.url);
  try {
    const host = url.hostname.replace(/^\[|\]$/g, '');
    // An address literal is connected to as written; a name is checked on the addresses it resolves to.
    if (!options.allowPrivate && isPrivateHost(host))
      return { ok: false, error: `${host} is a private address` };
    const timestamp = Math.floor(Date.now() / 1000);
    const signals = [AbortSignal.timeout(options.timeoutMs), ...(options.signal ? [options.signal] : [])];
    const status = await post(
      url,
      {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(delivery.body),
        'user-agent': 'inv-webhooks/1',
        [WEBHOOK_HEADERS.signature]: signWebhook(delivery.secret, timestamp, delivery.body),
        [WEBHOOK_HEADERS.timestamp]: String(timestamp),
        [WEBHOOK_HEADERS.eventId]: delivery.eventId,
        [WEBHOOK_HEADERS.eventType]: delivery.eventType,
      },
      delivery.body,
      { signal: AbortSignal.any(signals), lookup: options.allowPrivate ? undefined : publicOnlyLookup },
    );
    if (status >= 200 && status < 300) return { ok: true, status };
    return { ok: false, error: `HTTP ${status}` };
  } catch (error) {
    return { ok: false, error: (error as Error).message };
  }
}
