import { GATEWAY_SESSIONS_BUCKET, WS_CLOSE } from '@inv/contracts';
import { eventually } from '@inv/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type GatewayFixture,
  gatewayFixture,
  ids,
  productEvents,
  sessionPositions,
  subscribe,
} from './support.js';

const SESSIONS_STREAM = `KV_${GATEWAY_SESSIONS_BUCKET}`;

/**
 * A connection whose durable session cannot be loaded used to go on without it: its channels started at the live
 * end, so a reloaded page skipped what it had not seen, and once the bind finished the connection wrote those
 * live positions over the stored ones. It is closed with 1013 instead: the client reconnects and binds again.
 */
describe('a durable session the bucket refuses', () => {
  let f: GatewayFixture;
  beforeAll(async () => {
    f = await gatewayFixture();
  });
  afterAll(async () => f?.close());

  it('closes the connection with 1013 instead of going on without the stored positions', async () => {
    // A sealed stream still answers reads but refuses every write: the session's claim cannot land.
    const { config } = await f.jsm.streams.info(SESSIONS_STREAM);
    config.sealed = true;
    await f.jsm.streams.update(SESSIONS_STREAM, config);
    const client = await f.client({ query: { session: 'bucket-sealed' } });
    const closed = await client.closed;
    expect(closed.code).toBe(WS_CLOSE.tryAgainLater);
    expect(client.frames.filter((frame) => frame.type === 'welcome' || frame.type === 'event')).toEqual([]);

    const withoutSession = await f.client();
    expect(await withoutSession.nextFrame('welcome')).toMatchObject({ sessionId: null });
  });
});

/**
 * The bucket lost under running gateways (deleted by an operator, a server's storage wiped). Before, every
 * `?session=` connection was closed with 1013 until a gateway restarted, a gateway whose watch began on the old
 * bucket never saw claims in a new one, and the positions held were not written again.
 */
describe('a durable sessions bucket lost under running gateways', () => {
  let f: GatewayFixture;
  beforeAll(async () => {
    f = await gatewayFixture({ instances: 2, env: { SESSION_FLUSH_MS: '50' } });
  });
  afterAll(async () => f?.close());

  it('makes the bucket again on the next bind: the session works and stores its positions', async () => {
    await f.jsm.streams.delete(SESSIONS_STREAM);
    const client = await f.client({ query: { session: 'remade-1' } });
    expect(await client.nextFrame('welcome')).toMatchObject({ sessionId: 'remade-1' });
    await subscribe(client, 'product:remade-1');
    const events = productEvents('remade-1', 2);
    const [, last] = await f.publish(...events);
    await client.waitForEvents('product:remade-1', 2);
    expect(ids(client.events('product:remade-1'))).toEqual(ids(events));
    await eventually(async () => (await sessionPositions(f.nc, 'remade-1')).get('product:remade-1') === last);
  });

  it('writes the positions a gateway holds into the bucket made anew, without a new event', async () => {
    const holder = await f.client({ instance: 0, query: { session: 'remade-2' } });
    await subscribe(holder, 'product:remade-2');
    const [, last] = await f.publish(...productEvents('remade-2', 2));
    await holder.waitForEvents('product:remade-2', 2);
    await eventually(async () => (await sessionPositions(f.nc, 'remade-2')).get('product:remade-2') === last);

    await f.jsm.streams.delete(SESSIONS_STREAM);
    // Nothing moves: only the gateway finding its bucket gone and made anew writes the position again.
    await eventually(async () => (await sessionPositions(f.nc, 'remade-2')).get('product:remade-2') === last);
    expect(holder.isClosed).toBe(false);
  });

  it('closes the older connection on another instance with 4409 when a newer one binds in the bucket made anew', async () => {
    const older = await f.client({ instance: 0, query: { session: 'remade-3' } });
    await subscribe(older, 'product:remade-3');
    await eventually(async () => (await sessionPositions(f.nc, 'remade-3')).has('product:remade-3'));

    await f.jsm.streams.delete(SESSIONS_STREAM);
    const newer = await f.client({ instance: 1, query: { session: 'remade-3' } });
    expect(await newer.nextFrame('welcome')).toMatchObject({ sessionId: 'remade-3' });
    const closed = await older.closed;
    expect(closed.code).toBe(WS_CLOSE.sessionTakenOver);
    expect(newer.isClosed).toBe(false);
  });
});
