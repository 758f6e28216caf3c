import { WS_CLOSE } from '@inv/contracts';
import { mintToken } from '@inv/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GatewayFixture, gatewayFixture, ids, stockEvent, subscribe } from './support.js';

const OTHER_SECRET = 'another-secret-that-is-long-enough-for-hs256-xyz';
const expiryOf = (token: string) =>
  JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).exp * 1000;

describe('token lifecycle on a live connection', () => {
  let f: GatewayFixture;
  beforeAll(async () => {
    f = await gatewayFixture({ env: { TOKEN_EXPIRY_CHECK_MS: '200' } });
  });
  afterAll(async () => f?.close());

  it('closes a connection with 4401 within a few seconds of its token expiring', async () => {
    const token = await mintToken({ warehouses: ['*'] }, { expiresIn: '2s' });
    const client = await f.client({ token });
    const welcome = await client.nextFrame('welcome');
    expect(welcome.expiresAt).toBe(new Date(expiryOf(token)).toISOString());
    const closed = await client.closed;
    const closedAt = Date.now();
    expect(closed).toEqual({ code: WS_CLOSE.unauthorized, reason: 'the access token has expired' });
    expect(closedAt).toBeGreaterThanOrEqual(expiryOf(token));
    expect(closedAt - expiryOf(token)).toBeLessThan(3_000);
  });

  it('keeps a connection that refreshed past its first token’s expiry', async () => {
    const short = await mintToken({ warehouses: ['*'] }, { expiresIn: '2s' });
    const refreshing = await f.client({ token: short });
    const idle = await f.client({ token: short });
    await subscribe(refreshing, 'product:refreshed');
    const fresh = await mintToken({ warehouses: ['*'] }, { expiresIn: '1h' });
    refreshing.send({ type: 'refresh', token: fresh, requestId: 'r1' });
    expect(await refreshing.nextFrame('refreshed')).toEqual({
      type: 'refreshed',
      expiresAt: new Date(expiryOf(fresh)).toISOString(),
      requestId: 'r1',
    });

    // The connection that did not refresh is closed at the first token's expiry; the other stays and delivers.
    expect((await idle.closed).code).toBe(WS_CLOSE.unauthorized);
    expect(Date.now()).toBeGreaterThanOrEqual(expiryOf(short));
    const event = stockEvent('inventory.updated', { productId: 'refreshed', warehouseId: 'w1' });
    await f.publish(event);
    expect(ids(await refreshing.waitForEvents('product:refreshed', 1))).toEqual([event.id]);
    expect(refreshing.isClosed).toBe(false);
  });

  it('ends with FORBIDDEN_CHANNEL the channels a refreshed token no longer grants, and filters broad ones', async () => {
    const claims = { sub: 'moving-clerk', roles: ['clerk' as const] };
    const client = await f.client({ token: await mintToken({ ...claims, warehouses: ['wa', 'wb'] }) });
    for (const channel of ['warehouse:wa', 'warehouse:wb', 'global']) await subscribe(client, channel);

    client.send({ type: 'refresh', token: await mintToken({ ...claims, warehouses: ['wb'] }) });
    expect(await client.nextFrame('unsubscribed')).toEqual({
      type: 'unsubscribed',
      channel: 'warehouse:wa',
      reason: 'FORBIDDEN_CHANNEL',
    });
    await client.nextFrame('refreshed');
    expect(await subscribe(client, 'warehouse:wa')).toMatchObject({
      type: 'error',
      code: 'FORBIDDEN_CHANNEL',
    });

    const inA = stockEvent('inventory.updated', { productId: 'moved', warehouseId: 'wa' });
    const inB = stockEvent('inventory.updated', { productId: 'moved', warehouseId: 'wb' });
    await f.publish(inA, inB);
    expect(ids(await client.waitForEvents('global', 1))).toEqual([inB.id]);
    expect(ids(await client.waitForEvents('warehouse:wb', 1))).toEqual([inB.id]);
    // A third event proves nothing of wa was merely late.
    const last = stockEvent('inventory.updated', { productId: 'moved', warehouseId: 'wb' });
    await f.publish(last);
    expect(ids(await client.waitForEvents('global', 2))).toEqual([inB.id, last.id]);
    expect(client.events('warehouse:wa')).toEqual([]);
  });

  it('refuses a forged, an expired and another subject’s refresh token and keeps the old claims until they expire', async () => {
    const token = await mintToken({ sub: 'holder', warehouses: ['wa'] }, { expiresIn: '3s' });
    const client = await f.client({ token });
    await client.nextFrame('welcome');
    const refused = [
      await mintToken({ sub: 'holder', warehouses: ['*'] }, { secret: OTHER_SECRET }),
      await mintToken(
        { sub: 'holder', warehouses: ['*'] },
        { expiresIn: Math.floor(Date.now() / 1000) - 60 },
      ),
      await mintToken({ sub: 'somebody-else', warehouses: ['*'] }),
    ];
    for (const [i, refresh] of refused.entries()) {
      client.send({ type: 'refresh', token: refresh, requestId: `bad-${i}` });
      expect(await client.waitFor((frame) => frame.requestId === `bad-${i}`)).toMatchObject({
        type: 'error',
        code: 'INVALID_TOKEN',
      });
    }
    expect(await subscribe(client, 'warehouse:wb')).toMatchObject({
      type: 'error',
      code: 'FORBIDDEN_CHANNEL',
    });
    expect(client.frames.filter((frame) => frame.type === 'refreshed')).toEqual([]);
    const closed = await client.closed;
    expect(closed.code).toBe(WS_CLOSE.unauthorized);
    expect(Date.now()).toBeGreaterThanOrEqual(expiryOf(token));
  });
});
