import { WS_CLOSE } from '@inv/contracts';
import { fetchJson, mintToken, TestWsClient } from '@inv/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GatewayFixture, gatewayFixture, stockEvent, subscribe } from './support.js';

describe('authentication and claims', () => {
  let f: GatewayFixture;
  beforeAll(async () => {
    f = await gatewayFixture();
  });
  afterAll(async () => f?.close());

  it('accepts, then closes with 4401, a connection without a valid token', async () => {
    const expired = await mintToken({}, { expiresIn: Math.floor(Date.now() / 1000) - 60 });
    const wrongKey = await mintToken({}, { secret: 'another-secret-that-is-long-enough-0123456789' });
    const cases: Array<[string | null, string]> = [
      [null, 'required'],
      ['not-a-jwt', 'not valid'],
      [expired, 'expired'],
      [wrongKey, 'not valid'],
    ];
    for (const [token, reason] of cases) {
      const client = await f.client({ token });
      const closed = await client.closed;
      expect(closed.code).toBe(WS_CLOSE.unauthorized);
      expect(closed.reason).toContain(reason);
      expect(client.frames).toEqual([]);
    }
    const metrics = (await fetchJson<string>(`${f.httpUrl()}/metrics`)).body;
    expect(metrics).toMatch(/gateway_auth_failures_total\{reason="expired",service="gateway"\} 1/);
  });

  it('takes the token from the Authorization header too', async () => {
    const client = await f.client({ token: null, headers: { authorization: `Bearer ${await f.token()}` } });
    expect(await client.nextFrame('welcome')).toMatchObject({ type: 'welcome' });
  });

  it('refuses channels of warehouses outside the claims, and other kinds on /ws/warehouses', async () => {
    const inventory = await f.client({ claims: { warehouses: ['w1'] } });
    for (const channel of ['warehouse:w2', 'product:p1:warehouse:w2']) {
      expect(await subscribe(inventory, channel)).toMatchObject({
        type: 'error',
        code: 'FORBIDDEN_CHANNEL',
        channel,
      });
    }
    expect(await subscribe(inventory, 'warehouse:w1')).toMatchObject({ type: 'subscribed' });
    expect(await subscribe(inventory, 'product:p1')).toMatchObject({ type: 'subscribed' });

    const warehouses = await f.client({ path: '/ws/warehouses', claims: { warehouses: ['w1'] } });
    expect(await warehouses.waitFor((frame) => frame.type === 'subscribed')).toMatchObject({
      channel: 'warehouse:w1',
    });
    for (const channel of ['global', 'product:p1', 'transfer:t1', 'variant:v1', 'uom:u1']) {
      expect(await subscribe(warehouses, channel)).toMatchObject({
        code: 'CHANNEL_NOT_ALLOWED_HERE',
        channel,
      });
    }
    expect(await subscribe(warehouses, 'warehouse:w2')).toMatchObject({ code: 'FORBIDDEN_CHANNEL' });
    expect(await subscribe(warehouses, 'product:p1:warehouse:w1')).toMatchObject({ type: 'subscribed' });
    expect(warehouses.isClosed || inventory.isClosed).toBe(false);
  });

  it('gives an all-warehouse caller no default channel on /ws/warehouses', async () => {
    const client = await f.client({ path: '/ws/warehouses' });
    await client.nextFrame('welcome');
    expect(await subscribe(client, 'warehouse:any')).toMatchObject({ type: 'subscribed' });
    expect(client.frames.map((frame) => frame.type)).toEqual(['welcome', 'subscribed']);
  });

  it('runs without tokens only in development mode (AUTH_DISABLED=true)', async () => {
    const dev = await f.startGateway({ AUTH_DISABLED: 'true' });
    const client = await TestWsClient.connect(`ws://127.0.0.1:${dev.port}/ws`);
    await client.waitFor((frame) => frame.type === 'subscribed' && frame.channel === 'global');
    const event = stockEvent('inventory.updated', { productId: 'dev', warehouseId: 'w1' });
    await f.publish(event);
    await client.waitFor((frame) => frame.id === event.id);
    await client.close();
  });
});
