import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

// DNS rebinding: a name that answers a public address to a check made before the request, and a private one to the
// lookup of the connection. The bridge checked with `node:dns/promises`, then `fetch` resolved the name again.
vi.mock('node:dns/promises', () => ({
  lookup: vi.fn(async () => [{ address: '93.184.216.34', family: 4 }]),
}));
vi.mock('node:dns', async (original) => ({
  ...(await original<typeof import('node:dns')>()),
  lookup: vi.fn((_host: string, _options: unknown, callback: (...args: unknown[]) => void) =>
    callback(null, [{ address: '127.0.0.1', family: 4 }]),
  ),
}));
const { deliverOnce } = await import('./deliver.js');

describe('deliverOnce against DNS rebinding', () => {
  let hits = 0;
  const server = createServer((_request, response) => {
    hits++;
    response.statusCode = 204;
    response.end();
  });
  let port = 0;
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('checks the address it connects to: a name resolving to loopback for the connection is refused, unsent', async () => {
    const result = await deliverOnce(
      {
        url: `http://rebinding.test:${port}/hook`,
        secret: 'x'.repeat(16),
        eventId: 'e1',
        eventType: 'inventory.low_stock',
        body: '{}',
      },
      { timeoutMs: 1_000, allowPrivate: false },
    );
    expect(result).toMatchObject({
      ok: false,
      error: 'rebinding.test resolves to private address 127.0.0.1',
    });
    expect(hits).toBe(0);
  });
});
