import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliverOnce } from './deliver.js';

describe('deliverOnce', () => {
  let hits = 0;
  const server = createServer((_req, res) => {
    hits++;
    res.statusCode = 204;
    res.end();
  });
  let url = '';

  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const delivery = () => ({
    url,
    secret: 'x'.repeat(16),
    eventId: 'e1',
    eventType: 'inventory.low_stock',
    body: '{}',
  });

  it('refuses to send to a private address at delivery time unless allowed, without a request', async () => {
    const refused = await deliverOnce(delivery(), { timeoutMs: 1_000, allowPrivate: false });
    expect(refused).toEqual({ ok: false, error: '127.0.0.1 is a private address' });
    expect(hits).toBe(0);
    expect(await deliverOnce(delivery(), { timeoutMs: 1_000, allowPrivate: true })).toEqual({
      ok: true,
      status: 204,
    });
    expect(hits).toBe(1);
  });

  it('counts a refused connection as a failure to retry, not an exception', async () => {
    const closed = { ...delivery(), url: 'http://127.0.0.1:1/hook' };
    const result = await deliverOnce(closed, { timeoutMs: 1_000, allowPrivate: true });
    expect(result.ok).toBe(false);
  });
});
