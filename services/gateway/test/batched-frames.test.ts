import { decodeCursor } from '@inv/contracts';
import type { TestWsClient, WsFrame } from '@inv/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GatewayFixture, gatewayFixture, ids, inW1, productTraffic, subscribe } from './support.js';

const BATCH = { batch: '1' };
const lastCursor = (frames: WsFrame[]) => frames.at(-1)!.cursor as string;
const seqs = (frames: WsFrame[]) => frames.map((frame) => decodeCursor(frame.cursor as string)!.seq);

/**
 * Batched frames (`?batch=1`, WS_BATCH in the contracts): several frames per WebSocket message, one per line,
 * for the clients that ask; the same frames, in the same order, as a client that does not ask gets one by one.
 */
describe('batched frames', () => {
  let f: GatewayFixture;
  beforeAll(async () => {
    f = await gatewayFixture({ instances: 0 });
    await f.startGateway({ WS_MAX_CONNECTIONS_PER_USER: '100' });
    // No recent-events window: every resume reads the stream.
    await f.startGateway({ RECENT_WINDOW_EVENTS: '0' });
  });
  afterAll(async () => f?.close());

  /** A cursor on `channel` after `before` events seen live on `instance`, then `missed` events published. */
  async function missedSince(instance: number, product: string, before: number, missed: number) {
    const channel = `product:${product}`;
    const watcher = await f.client({ instance });
    await subscribe(watcher, channel);
    await f.publish(...productTraffic(product, before));
    const cursor = lastCursor(await watcher.waitForEvents(channel, before));
    const events = productTraffic(product, missed, before);
    await f.publish(...events);
    await watcher.waitForEvents(channel, before + missed);
    return { channel, cursor, events };
  }

  async function resume(client: TestWsClient, channel: string, cursor: string, count: number) {
    await subscribe(client, channel, cursor);
    const frames = await client.waitForEvents(channel, count);
    await client.waitFor((frame) => frame.type === 'live' && frame.channel === channel);
    return frames;
  }

  it('says so in the welcome of a client that asks, and only there', async () => {
    const batched = await f.client({ instance: 0, query: BATCH });
    const plain = await f.client({ instance: 0 });
    expect((await batched.nextFrame('welcome')).batching).toBe(true);
    expect((await plain.nextFrame('welcome')).batching).toBeUndefined();
  });

  it.each([
    ['from the recent-events window', 0],
    ['from the stream', 1],
  ])(
    'resumes a batching client %s with its missed events in fewer messages, exactly and in order',
    async (_, instance) => {
      const { channel, cursor, events } = await missedSince(instance, `batched-${instance}`, 2, 40);
      const batched = await f.client({ instance, query: BATCH });
      const plain = await f.client({ instance });
      const [batchedFrames, plainFrames] = await Promise.all([
        resume(batched, channel, cursor, 40),
        resume(plain, channel, cursor, 40),
      ]);
      expect(ids(batchedFrames)).toEqual(ids(events));
      expect(batchedFrames).toEqual(plainFrames);
      const sorted = [...seqs(batchedFrames)].sort((a, b) => a - b);
      expect(seqs(batchedFrames)).toEqual(sorted);
      expect(Math.max(...batched.messageSizes)).toBeGreaterThan(1);
      expect(batched.frames.length).toBeGreaterThan(batched.messageSizes.length);
      expect(plain.messageSizes.every((size) => size === 1)).toBe(true);
      expect(batched.unparsed).toEqual([]);
    },
  );

  it("filters a batching client's frames by its warehouses like any other's", async () => {
    const { channel, cursor, events } = await missedSince(0, 'batched-confined', 2, 30);
    const confined = await f.client({ instance: 0, query: BATCH, claims: { warehouses: ['w1'] } });
    const frames = await resume(confined, channel, cursor, inW1(events).length);
    expect(ids(frames)).toEqual(ids(inW1(events)));
    expect(frames.every((frame) => frame.data?.warehouseId === 'w1')).toBe(true);
  });
});
