import pino from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { fakeGateway, productSubject } from '../../test/fakes.js';
import { ConnectionRegistry } from './connections.js';
import { Protocol } from './protocol.js';
import type { SessionTracker } from './sessions.js';

/**
 * Live events that arrive while a broad channel catches up are held back and sent once the catch-up ends. They
 * were checked against the claims when they arrived: a token refreshed in between with fewer warehouses still let
 * the held events of the warehouses it no longer grants through.
 */
describe('a token refresh while a broad channel catches up', () => {
  it('sends no held event of a warehouse the refreshed token no longer grants', async () => {
    const world = fakeGateway();
    await world.router.ready;
    // A watcher keeps the channel's hub (and so the live router's reads) going.
    const watcher = world.connect();
    world.subscribe(watcher.connection, 'p');
    await vi.waitFor(() => expect(watcher.socket.controls('subscribed')).toHaveLength(1));
    for (let i = 0; i < 4; i++) world.publish('p', { warehouseId: i % 2 ? 'w2' : 'w1' });
    await vi.waitFor(() => expect(world.router.position).toBe(4));
    const protocol = new Protocol({
      subscriptions: world.subscriptions,
      sessions: {} as SessionTracker, // a refresh does not touch sessions
      connections: new ConnectionRegistry(world.metrics, 30_000),
      authenticate: async () => ({
        ok: true,
        claims: { sub: 'user', warehouses: ['w1'], roles: ['viewer'] },
        expiresAt: null,
      }),
      metrics: world.metrics,
      logger: pino({ level: 'silent' }),
      heartbeatMs: 30_000,
    });

    // The catch-up from the start is slow: live events 5 (w2) and 6 (w1) are held meanwhile.
    world.stream.pause();
    const { socket, connection } = world.connect(['w1', 'w2']);
    world.subscribe(connection, 'p', 0);
    await vi.waitFor(() => expect(socket.controls('subscribed')).toHaveLength(1));
    world.publish('p', { warehouseId: 'w2' });
    world.publish('p', { warehouseId: 'w1' });
    await vi.waitFor(() => expect(world.router.position).toBe(6));
    protocol.frame(connection, Buffer.from(JSON.stringify({ type: 'refresh', token: 't' })), false);
    await vi.waitFor(() => expect(socket.controls('refreshed')).toHaveLength(1));
    world.stream.resume();
    await vi.waitFor(() => expect(socket.controls('live')).toHaveLength(1));

    const refreshedAt = socket.frames.findIndex((frame) => frame.type === 'refreshed');
    const subjectOf = (id: unknown) =>
      [...world.stream.messages.values()].find((message) => `e${message.seq}` === id)!.subject;
    const sentAfter = socket.frames.slice(refreshedAt + 1).filter((frame) => typeof frame.id === 'string');
    expect(sentAfter.filter((frame) => subjectOf(frame.id) === productSubject('p', 'w2'))).toEqual([]);
    // What the new token grants still arrives, once each: the replayed w1 events and the held one.
    expect(socket.eventSeqs('product:p')).toEqual([1, 3, 6]);
  });
});
