import { decodeCursor } from '@inv/contracts';
import { eventually } from '@inv/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type GatewayFixture,
  gatewayFixture,
  ids,
  sessionPositions,
  stockEvent,
  subscribe,
  unsubscribe,
} from './support.js';

const productEvents = (productId: string, n: number) =>
  Array.from({ length: n }, (_, i) =>
    stockEvent('inventory.updated', { productId, warehouseId: 'w1' }, { version: i }),
  );

describe('durable sessions', () => {
  let f: GatewayFixture;
  beforeAll(async () => {
    f = await gatewayFixture({ instances: 2, env: { SESSION_FLUSH_MS: '50' } });
  });
  afterAll(async () => f?.close());

  const storedPositions = (sessionId: string) => sessionPositions(f.nc, sessionId);

  it('resumes a client that lost its cursors (page reload) on another instance, from ?session=', async () => {
    const before = productEvents('s-a', 3);
    const first = await f.client({ instance: 0, query: { session: 'reload-1' }, claims: { sub: 'alice' } });
    expect(await first.nextFrame('welcome')).toMatchObject({ sessionId: 'reload-1' });
    await subscribe(first, 'product:s-a');
    const [, , lastSeen] = await f.publish(...before);
    await first.waitForEvents('product:s-a', 3);
    await first.close();
    await eventually(async () => (await storedPositions('reload-1')).get('product:s-a') === lastSeen, {
      message: 'the session position to be stored',
    });

    const missed = productEvents('s-a', 4);
    await f.publish(...missed);
    const reloaded = await f.client({
      instance: 1,
      query: { session: 'reload-1' },
      claims: { sub: 'alice' },
    });
    expect(await reloaded.nextFrame('welcome')).toMatchObject({ sessionId: 'reload-1' });
    expect(await reloaded.nextFrame('subscribed')).toMatchObject({ channel: 'product:s-a' });
    expect(await reloaded.nextFrame('live')).toMatchObject({ channel: 'product:s-a', replayed: 4 });
    expect(ids(reloaded.events('product:s-a'))).toEqual(ids(missed));
    // The session's channels replace the default: no global subscription.
    expect(reloaded.frames.some((frame) => frame.channel === 'global')).toBe(false);

    const live = productEvents('s-a', 1);
    await f.publish(...live);
    await reloaded.waitFor((frame) => frame.id === live[0]!.id);
  });

  it('resumes from what the client acknowledged when it acknowledges', async () => {
    const first = await f.client({ instance: 0, query: { session: 'acks-1' } });
    await subscribe(first, 'product:s-b');
    const events = productEvents('s-b', 5);
    await f.publish(...events);
    const frames = await first.waitForEvents('product:s-b', 5);
    first.send({ type: 'ack', channel: 'product:s-b', cursor: frames[1]!.cursor });
    const acked = decodeCursor(frames[1]!.cursor)!.seq;
    await eventually(async () => (await storedPositions('acks-1')).get('product:s-b') === acked);
    await first.close();

    const second = await f.client({ instance: 1, query: { session: 'acks-1' } });
    await second.nextFrame('live');
    expect(ids(second.events('product:s-b'))).toEqual(ids(events.slice(2)));
  });

  it('with ?acks=1 counts only acknowledged events as reached, even before the first ack', async () => {
    const first = await f.client({ instance: 0, query: { session: 'acks-2', acks: '1' } });
    const start = decodeCursor((await subscribe(first, 'product:s-f')).cursor as string)!.seq;
    const events = productEvents('s-f', 3);
    await f.publish(...events);
    await first.waitForEvents('product:s-f', 3);
    await first.close();

    const second = await f.client({ instance: 1, query: { session: 'acks-2' } });
    await second.nextFrame('live');
    expect(ids(second.events('product:s-f'))).toEqual(ids(events));
    expect((await storedPositions('acks-2')).get('product:s-f')).toBeGreaterThanOrEqual(start);
  });

  it('binds a session with a first `session` message and forgets channels the client left', async () => {
    const first = await f.client({ instance: 1 });
    first.send({ type: 'session', sessionId: 'msg-1' });
    expect(await first.nextFrame('welcome')).toMatchObject({ sessionId: null });
    expect(await first.nextFrame('welcome')).toMatchObject({ sessionId: 'msg-1' });
    await subscribe(first, 'product:s-c');
    await subscribe(first, 'product:s-d');
    await unsubscribe(first, 'product:s-d');
    await eventually(async () => {
      const stored = await storedPositions('msg-1');
      return stored.has('product:s-c') && !stored.has('product:s-d');
    });
    await first.close();
    const missed = productEvents('s-c', 2);
    await f.publish(...missed, ...productEvents('s-d', 2));

    const second = await f.client({ instance: 0 });
    second.send({ type: 'session', sessionId: 'msg-1' });
    await second.waitFor((frame) => frame.type === 'live' && frame.channel === 'product:s-c');
    expect(ids(second.events('product:s-c'))).toEqual(ids(missed));
    expect(second.frames.some((frame) => frame.channel === 'product:s-d')).toBe(false);
  });

  it("keeps sessions per user: another user's connection with the same session id restores nothing", async () => {
    const owner = await f.client({ query: { session: 'shared-id' }, claims: { sub: 'owner' } });
    await subscribe(owner, 'product:s-e');
    await eventually(async () => (await storedPositions('shared-id')).has('product:s-e'));
    const other = await f.client({
      instance: 1,
      query: { session: 'shared-id' },
      claims: { sub: 'someone-else' },
    });
    expect(await other.waitFor((frame) => frame.type === 'subscribed')).toMatchObject({ channel: 'global' });
  });

  it('refuses a session id that is not an id, and a second session', async () => {
    const client = await f.client({ query: { session: 'bad.id' } });
    expect(await client.nextFrame('error')).toMatchObject({ code: 'INVALID_SESSION' });
    await client.waitFor((frame) => frame.type === 'subscribed' && frame.channel === 'global');
    client.send({ type: 'session', sessionId: 'too late' });
    expect(await client.nextFrame('error')).toMatchObject({ code: 'INVALID_SESSION' });
  });
});
