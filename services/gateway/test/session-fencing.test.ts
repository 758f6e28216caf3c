import { WS_CLOSE } from '@inv/contracts';
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

/** Two live connections with one durable session id never both write its positions: the newer one takes over. */
describe('one writer per durable session', () => {
  let f: GatewayFixture;
  beforeAll(async () => {
    f = await gatewayFixture({ instances: 2, env: { SESSION_FLUSH_MS: '50' } });
  });
  afterAll(async () => f?.close());

  it('closes the older connection of the same instance with 4409 once the newer one binds the session', async () => {
    const older = await f.client({ instance: 0, query: { session: 'fence-1' } });
    await subscribe(older, 'product:fence-1');
    const before = productEvents('fence-1', 2);
    const [, lastSeen] = await f.publish(...before);
    await older.waitForEvents('product:fence-1', 2);

    const newer = await f.client({ instance: 0, query: { session: 'fence-1' } });
    const closed = await older.closed;
    expect(closed.code).toBe(WS_CLOSE.sessionTakenOver);
    expect(closed.reason).toMatch(/newer connection/);
    // The older one's positions were written before the newer one read them: it resumes right after them.
    expect(await newer.nextFrame('subscribed')).toMatchObject({ channel: 'product:fence-1' });
    expect(await newer.nextFrame('live')).toMatchObject({ channel: 'product:fence-1', replayed: 0 });
    expect((await sessionPositions(f.nc, 'fence-1')).get('product:fence-1')).toBe(lastSeen);
    const after = productEvents('fence-1', 1);
    await f.publish(...after);
    await newer.waitForEvents('product:fence-1', 1);
    expect(ids(newer.events('product:fence-1'))).toEqual(ids(after));
  });

  it('closes an older connection on another instance with 4409 as soon as a newer one binds, with no event since', async () => {
    const older = await f.client({ instance: 0, query: { session: 'fence-3' } });
    await subscribe(older, 'product:fence-3');
    // Its position is written: from here on it has nothing to write, so no write tells it of the takeover.
    await eventually(async () => (await sessionPositions(f.nc, 'fence-3')).has('product:fence-3'));

    const newer = await f.client({ instance: 1, query: { session: 'fence-3' } });
    await newer.nextFrame('live');
    const closed = await older.closed;
    expect(closed.code).toBe(WS_CLOSE.sessionTakenOver);
    expect(newer.isClosed).toBe(false);
  });

  it('stops an older connection on another instance from writing once a newer one holds the session', async () => {
    const older = await f.client({ instance: 0, query: { session: 'fence-2' } });
    await subscribe(older, 'product:fence-2');
    const [first] = await f.publish(...productEvents('fence-2', 1));
    await older.waitForEvents('product:fence-2', 1);
    await eventually(async () => (await sessionPositions(f.nc, 'fence-2')).get('product:fence-2') === first);

    // The newer connection acknowledges, and has acknowledged nothing yet: its position stays where it resumed.
    const newer = await f.client({ instance: 1, query: { session: 'fence-2', acks: '1' } });
    await newer.nextFrame('live');
    await f.publish(...productEvents('fence-2', 3));
    await newer.waitForEvents('product:fence-2', 3);
    // The older one receives them too, and would store them as reached: it is closed instead of writing.
    const closed = await older.closed;
    expect(closed.code).toBe(WS_CLOSE.sessionTakenOver);
    expect((await sessionPositions(f.nc, 'fence-2')).get('product:fence-2')).toBe(first);
  });
});
