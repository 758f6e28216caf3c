import { describe, expect, it, vi } from 'vitest';
import { fakeGateway, productSubject, withHistory } from '../../test/fakes.js';

type World = ReturnType<typeof fakeGateway>;
/** Half the send queue of `LIMITS`: beyond it a replay waits for the socket to drain. */
const LIMIT_HALF = 512 * 1024;

/** The stream's events of product `p` after `cursor` in the warehouses given: what a client resuming there is owed. */
const owed = (world: World, cursor: number, warehouses?: string[]) =>
  [...world.stream.messages.values()]
    .filter(
      (message) =>
        message.seq > cursor &&
        (warehouses ?? ['w', 'w1', 'w2']).some((w) => message.subject === productSubject('p', w)),
    )
    .map((message) => message.seq);

/** A started gateway without a recent-events window and `count` events routed live, every other one of `p`. */
const history = async (count: number, readSlots = 4) => (await withHistory({ readSlots }, count)).world;

/** Clients resuming `product:p`, one per cursor, in that order. */
function resuming(world: World, cursors: number[], warehouses?: string[]) {
  return cursors.map((cursor) => {
    const client = world.connect(warehouses);
    world.subscribe(client.connection, 'p', cursor);
    return { ...client, cursor };
  });
}

async function allLive(clients: ReturnType<typeof resuming>) {
  for (const { socket } of clients) await vi.waitFor(() => expect(socket.controls('live')).toHaveLength(1));
}

/** Each client got exactly the channel's events after its cursor, once each, in order. */
function expectExact(world: World, clients: ReturnType<typeof resuming>) {
  for (const { socket, cursor } of clients)
    expect(socket.eventSeqs('product:p')).toEqual(owed(world, cursor));
}

/** Every client goes live, and after one more live event each has exactly its events: none lost at the hand-over. */
async function liveAndExact(world: World, clients: ReturnType<typeof resuming>) {
  await allLive(clients);
  world.publish('p');
  for (const { socket, cursor } of clients)
    await vi.waitFor(() => expect(socket.eventSeqs('product:p')).toEqual(owed(world, cursor)));
}

describe('shared replays', () => {
  it('serves clients resuming one channel from different cursors with one stream read', async () => {
    const world = await history(30);
    world.stream.pause();
    const clients = resuming(world, [2, 5, 9, 14, 14, 21]);
    await vi.waitFor(() => expect(world.stream.reads).toHaveLength(1));
    world.stream.resume();
    await liveAndExact(world, clients);
    expect(world.stream.reads).toHaveLength(1);
    expect(world.stream.reads[0]).toMatchObject({ from: 3, to: 30 });
  });

  it('starts at the oldest cursor of the clients that came while it waited for its slot', async () => {
    const world = await history(30, 1);
    // Another channel's replay holds the only slot.
    world.stream.pause((filters) => filters.some((filter) => filter.includes('.q.')));
    const [other] = (() => {
      const client = world.connect();
      world.subscribe(client.connection, 'q', 0);
      return [client];
    })();
    await vi.waitFor(() => expect(world.stream.reads).toHaveLength(1));
    const clients = resuming(world, [17, 8, 3]);
    world.stream.resume();
    await allLive(clients);
    await vi.waitFor(() => expect(other!.socket.controls('live')).toHaveLength(1));
    expectExact(world, clients);
    expect(world.stream.reads.map(({ from }) => from)).toEqual([1, 4]);
  });

  it('lets a client join a read that has not passed its cursor; an older one reads on its own', async () => {
    const world = await history(30);
    // The read stops before 10, having passed 9.
    world.stream.pause(() => true, 10);
    const [first] = resuming(world, [0]);
    await vi.waitFor(() => expect(world.stream.reads).toHaveLength(1));
    await vi.waitFor(() => expect(first!.socket.eventSeqs('product:p')).toEqual([1, 3, 5, 7, 9]));
    const later = resuming(world, [12, 9, 4]);
    await vi.waitFor(() => expect(world.stream.reads).toHaveLength(2));
    world.stream.resume();
    const clients = [first!, ...later];
    await allLive(clients);
    expectExact(world, clients);
    expect(world.stream.reads.map(({ from }) => from)).toEqual([1, 5]);
  });

  it("checks every event against each client's own warehouses", async () => {
    const world = fakeGateway();
    await world.router.ready;
    const watcher = world.connect();
    world.subscribe(watcher.connection, 'p');
    await vi.waitFor(() => expect(watcher.socket.controls('subscribed')).toHaveLength(1));
    for (let i = 0; i < 12; i++) world.publish('p', { warehouseId: i % 3 === 0 ? 'w1' : 'w2' });
    await vi.waitFor(() => expect(world.router.position).toBe(12));
    world.stream.pause();
    const everything = resuming(world, [1]);
    const w1 = resuming(world, [1], ['w1']);
    const w2 = resuming(world, [1], ['w2']);
    await vi.waitFor(() => expect(world.stream.reads).toHaveLength(1));
    world.stream.resume();
    await allLive([...everything, ...w1, ...w2]);
    expect(everything[0]!.socket.eventSeqs('product:p')).toEqual(owed(world, 1));
    expect(w1[0]!.socket.eventSeqs('product:p')).toEqual(owed(world, 1, ['w1']));
    expect(w2[0]!.socket.eventSeqs('product:p')).toEqual(owed(world, 1, ['w2']));
    expect(world.stream.reads).toHaveLength(1);
  });

  it('lets a congested client read on alone without holding up the others', async () => {
    const world = await history(30);
    world.stream.pause();
    const [slow, ...others] = resuming(world, [0, 0, 6]);
    slow!.socket.bufferedAmount = LIMIT_HALF + 1;
    await vi.waitFor(() => expect(world.stream.reads).toHaveLength(1));
    world.stream.resume();
    await allLive(others);
    expectExact(world, others);
    expect(slow!.socket.controls('live')).toEqual([]);
    slow!.socket.drain();
    await allLive([slow!]);
    world.publish('p');
    await vi.waitFor(() => expect(slow!.socket.eventSeqs('product:p')).toEqual(owed(world, 0)));
    expect(world.stream.reads).toHaveLength(2);
  });

  it('reads further when more live events came during the read than its clients may hold', async () => {
    const world = await history(20);
    world.stream.pause();
    const clients = resuming(world, [0, 3]);
    await vi.waitFor(() => expect(world.stream.reads).toHaveLength(1));
    // Far more than the 256 KiB a catching-up client holds back.
    for (let i = 0; i < 40; i++) world.publish('p', { pad: 16 * 1024 });
    await vi.waitFor(() => expect(world.router.position).toBe(60));
    world.stream.resume();
    await liveAndExact(world, clients);
    expect(world.stream.reads.map(({ from, to }) => [from, to])).toEqual([
      [1, 20],
      [21, 60],
    ]);
  });

  it('serves a client that joins after every other one left the read', async () => {
    const world = await history(30);
    world.stream.pause(() => true, 10);
    const [gone] = resuming(world, [0]);
    await vi.waitFor(() => expect(gone!.socket.eventSeqs('product:p')).toEqual([1, 3, 5, 7, 9]));
    world.subscriptions.cancelAll(gone!.connection);
    const [late] = resuming(world, [11]);
    world.stream.resume();
    await allLive([late!]);
    expect(late!.socket.eventSeqs('product:p')).toEqual(owed(world, 11));
  });

  it('tells every client of a failed read that the stream is unavailable, as a read of its own would', async () => {
    const world = await history(30);
    world.stream.failing = true;
    const clients = resuming(world, [0, 4, 9]);
    for (const { socket } of clients) {
      await vi.waitFor(() => expect(socket.closedWith).toBe(1013));
      expect(socket.controls('error')).toMatchObject([{ code: 'UNAVAILABLE', channel: 'product:p' }]);
      expect(socket.controls('live')).toEqual([]);
    }
  });
});
