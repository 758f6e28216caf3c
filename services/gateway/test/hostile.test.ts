import { WS_CLOSE } from '@inv/contracts';
import { fetchJson, HOSTILE_IDS, hostileId } from '@inv/testkit';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GatewayFixture, gatewayFixture, ids, stockEvent, subscribe } from './support.js';

/** Every channel shape with an ID in it; `{id}` is where a hostile ID goes. */
const CHANNEL_SHAPES = [
  'product:{id}',
  'warehouse:{id}',
  'variant:{id}',
  'uom:{id}',
  'transfer:{id}',
  'product:{id}:warehouse:w1',
  'product:p1:warehouse:{id}',
];

async function liveChannels(f: GatewayFixture): Promise<number> {
  const metrics = (await fetchJson<string>(`${f.httpUrl()}/metrics`)).body;
  return Number(/^gateway_live_channels(?:\{[^}]*\})? (\d+)/m.exec(metrics)?.[1] ?? Number.NaN);
}

describe('gateway under hostile subscriptions', () => {
  let f: GatewayFixture;
  beforeAll(async () => {
    // The rate limit is raised so that each hostile message gets its own answer instead of RATE_LIMITED.
    f = await gatewayFixture({ env: { WS_MAX_MESSAGES_PER_SECOND: '100000' } });
  });
  afterAll(async () => f?.close());

  it('refuses subject syntax, whitespace, unicode and over-long IDs in every channel shape with an error each', async () => {
    const client = await f.client();
    await subscribe(client, 'product:quiet');
    const hostile = [...HOSTILE_IDS, ...fc.sample(hostileId, { numRuns: 100, seed: 8_201 })];
    const channels = CHANNEL_SHAPES.flatMap((shape) => hostile.map((id) => shape.replace('{id}', id)));
    for (const channel of channels) client.send({ type: 'subscribe', channel });
    const errors = await client.waitForCount((frame) => frame.type === 'error', channels.length, {
      timeoutMs: 30_000,
    });
    // Over-long channels are refused before they are parsed: as a wrong message, or a frame over 4 KiB.
    const allowed = ['INVALID_CHANNEL', 'INVALID_MESSAGE', 'FRAME_TOO_LARGE'];
    expect(errors.filter((frame) => !allowed.includes(String(frame.code)))).toEqual([]);
    expect(errors.filter((frame) => frame.code === 'INVALID_CHANNEL').length).toBeGreaterThan(
      channels.length / 2,
    );
    // The default `global` may have been confirmed before `product:quiet` replaced it; nothing else was.
    const subscribed = client.frames.filter(
      (frame) => frame.type === 'subscribed' && frame.channel !== 'global',
    );
    expect(subscribed.map((frame) => frame.channel)).toEqual(['product:quiet']);
    // No hostile channel became a live subscription (only the quiet one and the lingering default).
    expect(await liveChannels(f)).toBeLessThanOrEqual(2);
    console.log(`reliability: gateway hostile channels ${channels.length} refused, 0 subscribed`);
  });

  it('bounds a connection asking for 5,000 channels at the channel limit and keeps serving others', async () => {
    const bystander = await f.client();
    await subscribe(bystander, 'product:steady');
    const greedy = await f.client();
    await greedy.nextFrame('welcome');
    for (let i = 0; i < 5_000; i++) greedy.send({ type: 'subscribe', channel: `product:g-${i}` });
    const events = Array.from({ length: 50 }, () =>
      stockEvent('inventory.updated', { productId: 'steady', warehouseId: 'w1' }),
    );
    await f.publish(...events);
    const answers = await greedy.waitForCount(
      (frame) => frame.type === 'error' || (frame.type === 'subscribed' && frame.channel !== 'global'),
      5_000,
      { timeoutMs: 60_000 },
    );
    expect(answers.filter((frame) => frame.type === 'subscribed')).toHaveLength(100);
    expect(new Set(answers.filter((frame) => frame.type === 'error').map((frame) => frame.code))).toEqual(
      new Set(['TOO_MANY_CHANNELS']),
    );
    expect(ids(await bystander.waitForEvents('product:steady', 50))).toEqual(ids(events));
    expect(await liveChannels(f)).toBeLessThanOrEqual(104);
    expect((await fetchJson(`${f.httpUrl()}/healthz`)).status).toBe(200);
  });
});

describe('gateway under a subscribe flood at the default rate limit', () => {
  let f: GatewayFixture;
  beforeAll(async () => {
    f = await gatewayFixture();
  });
  afterAll(async () => f?.close());

  it('closes a client flooding subscribes with 1008 while another client keeps its events', async () => {
    const bystander = await f.client();
    await subscribe(bystander, 'product:steady');
    const flooder = await f.client();
    await flooder.nextFrame('welcome');
    for (let i = 0; i < 5_000; i++) flooder.send({ type: 'subscribe', channel: `product:f-${i}` });
    expect((await flooder.closed).code).toBe(WS_CLOSE.policyViolation);
    expect(flooder.frames.filter((frame) => frame.type === 'subscribed').length).toBeLessThanOrEqual(100);
    const events = Array.from({ length: 20 }, () =>
      stockEvent('inventory.updated', { productId: 'steady', warehouseId: 'w1' }),
    );
    await f.publish(...events);
    expect(ids(await bystander.waitForEvents('product:steady', 20))).toEqual(ids(events));
  });
});
