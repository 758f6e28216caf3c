import { GATEWAY_SESSIONS_BUCKET, WS_CLOSE } from '@inv/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GatewayFixture, gatewayFixture } from './support.js';

/**
 * A connection whose durable session cannot be loaded used to go on without it: its channels started at the live
 * end, so a reloaded page skipped what it had not seen, and once the bind finished the connection wrote those
 * live positions over the stored ones. It is closed with 1013 instead: the client reconnects and binds again.
 */
describe('a durable session the bucket cannot load', () => {
  let f: GatewayFixture;
  beforeAll(async () => {
    f = await gatewayFixture();
  });
  afterAll(async () => f?.close());

  it('closes the connection with 1013 instead of going on without the stored positions', async () => {
    await f.jsm.streams.delete(`KV_${GATEWAY_SESSIONS_BUCKET}`);
    const client = await f.client({ query: { session: 'bucket-gone' } });
    const closed = await client.closed;
    expect(closed.code).toBe(WS_CLOSE.tryAgainLater);
    expect(client.frames.filter((frame) => frame.type === 'welcome' || frame.type === 'event')).toEqual([]);

    const withoutSession = await f.client();
    expect(await withoutSession.nextFrame('welcome')).toMatchObject({ sessionId: null });
  });
});
