import { describe, expect, it, vi } from 'vitest';
import { fakeGateway, productSubject, settled, withHistory } from '../../test/fakes.js';

type World = ReturnType<typeof fakeGateway>;
/** Half the send queue of `LIMITS`: beyond it a replay waits for the socket to drain. */
const LIMIT_HALF = 512 * 1024;

/** The stream's events of product `p` after `cursor`: what a client resuming there must get, once each. */
const owed = (world: World, productId: string, cursor: number) =>
  [...world.stream.messages.values()]
    .filter((message) => message.seq > cursor && message.subject === productSubject(productId))
    .map((message) => message.seq);

/** A client that resumed `product:<p>` from `cursor`, once it is live. */
async function resumed(world: World, productId: string, cursor: number) {
  const { socket, connection } = world.connect();
  world.subscribe(connection, productId, cursor);
  await vi.waitFor(() => expect(socket.controls('live')).toHaveLength(1));
  return socket;
}

/** A client whose send queue is over half full resuming `product:p` from `cursor`, once subscribed. */
async function resumingCongested(world: World, cursor: number) {
  const { socket, connection } = world.connect();
  socket.bufferedAmount = LIMIT_HALF + 1;
  world.subscribe(connection, 'p', cursor);
  await vi.waitFor(() => expect(socket.controls('subscribed')).toHaveLength(1));
  return socket;
}

describe('resuming from the recent-events window', () => {
  it('serves a cursor at the very start of the window from memory, and one just before it from the stream', async () => {
    const { world } = await withHistory({ windowEvents: 10 }, 30);
    // The window holds 21..30: a cursor at 20 misses nothing it lacks.
    const atEdge = await resumed(world, 'p', 20);
    expect(atEdge.eventSeqs('product:p')).toEqual(owed(world, 'p', 20));
    expect(world.stream.reads).toEqual([]);
    const before = await resumed(world, 'p', 19);
    expect(before.eventSeqs('product:p')).toEqual(owed(world, 'p', 19));
    expect(world.stream.reads).toHaveLength(1);
  });

  it('hands over to live exactly when events arrive while the window is being sent', async () => {
    const { world } = await withHistory({ windowEvents: 100 }, 20);
    // The client's queue is full: the window's events wait for it to drain, while live ones keep coming.
    const socket = await resumingCongested(world, 2);
    for (let i = 0; i < 6; i++) world.publish('p');
    await vi.waitFor(() => expect(world.router.position).toBe(26));
    socket.drain();
    await vi.waitFor(() => expect(socket.controls('live')).toHaveLength(1));
    world.publish('p');
    await vi.waitFor(() => expect(socket.eventSeqs('product:p')).toEqual(owed(world, 'p', 2)));
    expect(world.stream.reads).toEqual([]);
  });

  it('resumes exactly across a hole the live router is still reading from the stream', async () => {
    const { world } = await withHistory({ windowEvents: 100 }, 10);
    // 11 is lost on its way; 12 reveals the hole, which the router reads while the stream is slow.
    world.stream.pause();
    world.publish('p', { lost: true });
    world.publish('p');
    await vi.waitFor(() => expect(world.stream.reads).toHaveLength(1));
    const socket = await resumed(world, 'p', 4);
    world.stream.resume();
    await vi.waitFor(() => expect(world.router.position).toBe(12));
    world.publish('p');
    await vi.waitFor(() => expect(socket.eventSeqs('product:p')).toEqual(owed(world, 'p', 4)));
  });

  it('is bypassed for cursors before a stretch the router skipped while no channel was live', async () => {
    const world = fakeGateway({ windowEvents: 100 });
    await world.router.ready;
    const first = world.connect();
    world.subscribe(first.connection, 'p');
    await vi.waitFor(() => expect(first.socket.controls('subscribed')).toHaveLength(1));
    for (let i = 0; i < 5; i++) world.publish('p');
    await vi.waitFor(() => expect(world.router.position).toBe(5));
    world.subscriptions.cancelAll(first.connection);
    world.hubs.closeAll();
    // Nobody is live: the lost 6..8 are not read, the position moves past them.
    for (let i = 0; i < 3; i++) world.publish('p', { lost: true });
    await world.router.recover();
    expect(world.router.position).toBe(8);
    const socket = await resumed(world, 'p', 3);
    world.publish('p');
    await vi.waitFor(() => expect(socket.eventSeqs('product:p')).toEqual(owed(world, 'p', 3)));
  });

  it('reads the rest from the stream when more live events came during the window than a client may hold', async () => {
    const { world } = await withHistory({ windowEvents: 100 }, 20);
    const socket = await resumingCongested(world, 0);
    // Far more than the 256 KiB a catching-up client holds back.
    for (let i = 0; i < 40; i++) world.publish('p', { pad: 16 * 1024 });
    await vi.waitFor(() => expect(world.router.position).toBe(60));
    socket.drain();
    await vi.waitFor(() => expect(socket.controls('live')).toHaveLength(1));
    expect(world.stream.reads).toHaveLength(1);
    await settled();
    expect(socket.eventSeqs('product:p')).toEqual(owed(world, 'p', 0));
  });
});

describe('resuming from the stream', () => {
  it('hands over exactly when the look at the stream is older than what the live feed already routed', async () => {
    const { world } = await withHistory({}, 20);
    // A server behind the others answers the look (a leader election in progress): the stream "ends" at 15.
    world.stream.looks.push(15);
    const socket = await resumed(world, 'p', 4);
    world.publish('p');
    await vi.waitFor(() => expect(socket.eventSeqs('product:p')).toEqual(owed(world, 'p', 4)));
    expect(socket.controls('reset')).toEqual([]);
  });

  it('does not reset a cursor the live feed already passed when the look at the stream is older', async () => {
    const { world } = await withHistory({}, 20);
    world.stream.looks.push(15, 15);
    const socket = await resumed(world, 'p', 18);
    world.publish('p');
    await vi.waitFor(() => expect(socket.eventSeqs('product:p')).toEqual(owed(world, 'p', 18)));
    expect(socket.controls('reset')).toEqual([]);
  });
});

describe('the live feed behind client replays', () => {
  it('fills live channels after a stream leader change at once, not behind queued client replays', async () => {
    const { world, watcher } = await withHistory({ readSlots: 1 }, 20);
    // Client replays of product q read slowly and take the one replay slot; two more wait for it.
    world.stream.pause((filters) => filters.some((filter) => filter.includes('.q.')));
    const resuming = [world.connect(), world.connect(), world.connect()];
    for (const client of resuming) world.subscribe(client.connection, 'q', 0);
    await vi.waitFor(() => expect(world.stream.reads).toHaveLength(1));
    // The old leader stored 21 but died before republishing it; the new one is announced.
    world.publish('p', { lost: true });
    await world.router.recover();
    expect(world.router.position).toBe(21);
    expect(watcher.socket.eventSeqs('product:p')).toContain(21);
    expect(resuming.filter((client) => client.socket.controls('live').length > 0)).toEqual([]);
    world.stream.resume();
    for (const client of resuming) {
      await vi.waitFor(() => expect(client.socket.controls('live')).toHaveLength(1));
      expect(client.socket.eventSeqs('product:q')).toEqual(owed(world, 'q', 0));
    }
  });
});
