import { WS_CLOSE } from '@inv/contracts';
import pino from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { sessionPrefix } from '../domain/session-keys.js';
import type { Connection } from './connection.js';
import type {
  GatewayMetrics,
  SessionBucketListener,
  SessionClaim,
  SessionRepository,
  StreamStateSource,
} from './ports.js';
import { SessionTracker } from './sessions.js';

/** A bucket that stores nothing and that no other instance writes to, with `overrides` for what a test looks at. */
function quietRepository(overrides: Partial<SessionRepository> = {}): SessionRepository {
  return {
    load: async () => new Map(),
    save: async () => undefined,
    remove: async () => undefined,
    claim: async () => true,
    owner: async () => null,
    watch: async () => () => undefined,
    sessionsOf: async () => new Set(),
    ...overrides,
  };
}

/** A bucket that keeps owners and whose per-user listing answers the first caller last (a slow KV key listing). */
function slowFirstListing() {
  const owners = new Map<string, string>();
  let releaseFirst: () => void = () => undefined;
  const firstListed = new Promise<void>((resolve) => {
    releaseFirst = resolve;
  });
  let listings = 0;
  const repository = quietRepository({
    claim: async (prefix, owner) => {
      owners.set(prefix, owner);
      return true;
    },
    owner: async (prefix) => owners.get(prefix) ?? null,
    sessionsOf: async () => {
      if (++listings === 1) await firstListed;
      return new Set();
    },
  });
  return { repository, owners, releaseFirst };
}

function trackerOn(repository: SessionRepository, flushMs: number, maxPerUser?: number): SessionTracker {
  const metrics = { sessionTakeovers: { inc: () => undefined } } as unknown as GatewayMetrics;
  const stream = { epoch: 1 } as unknown as StreamStateSource;
  return new SessionTracker(repository, stream, metrics, pino({ level: 'silent' }), flushMs, maxPerUser);
}

function fakeConnection(id: string) {
  const closes: number[] = [];
  const connection = {
    id,
    user: 'user-1',
    session: null,
    subs: new Map(),
    usesAcks: false,
    closing: false,
    close: (code: number) => closes.push(code),
  } as unknown as Connection;
  return { connection, closes };
}

describe('session binding', () => {
  it("lets the newer connection own the session even when the older one's bind is still listing sessions", async () => {
    const { repository, owners, releaseFirst } = slowFirstListing();
    const tracker = trackerOn(repository, 1_000, 10);
    const older = fakeConnection('older');
    const newer = fakeConnection('newer');

    const olderBound = tracker.bind(older.connection, 's-1');
    const newerBound = tracker.bind(newer.connection, 's-1');
    await new Promise((resolve) => setImmediate(resolve));
    releaseFirst();
    await Promise.all([olderBound, newerBound]);

    expect([...owners.values()]).toEqual(['newer']);
    expect(older.closes).toEqual([WS_CLOSE.sessionTakenOver]);
    expect(newer.closes).toEqual([]);
  });
});

describe('a bind that outlives its connection', () => {
  it('leaves a connection closed before its claim landed without the session: it writes nothing', async () => {
    const saved: string[] = [];
    let landClaim: (landed: boolean) => void = () => undefined;
    const tracker = trackerOn(
      quietRepository({
        claim: () =>
          new Promise<boolean>((resolve) => {
            landClaim = resolve;
          }),
        save: async (_prefix, channel) => {
          saved.push(channel);
        },
      }),
      60_000,
    );
    const { connection } = fakeConnection('timed-out');
    const bound = tracker.bind(connection, 's-1');
    await new Promise((resolve) => setImmediate(resolve));
    // The gateway gave up waiting and closed the connection; it had reached the live end of a channel.
    (connection as { closing: boolean }).closing = true;
    connection.subs.set('product:p', {
      name: 'product:p',
      implicit: false,
      positioned: true,
      position: 90,
      acked: 90,
      stored: -1,
      ended: false,
    } as never);
    landClaim(true);
    await bound;

    tracker.positioned(connection, 'product:p');
    await tracker.flushAll();
    await tracker.release(connection);
    expect(saved).toEqual([]);
  });
});

describe('claims of other instances', () => {
  it('closes the holder when a claim from a later bind lands, not when an earlier claim arrives late', async () => {
    let onClaim: (prefix: string, claim: SessionClaim) => void = () => undefined;
    const repository = quietRepository({
      watch: async (listener) => {
        onClaim = listener.claimed;
        return () => undefined;
      },
    });
    const tracker = trackerOn(repository, 60_000);
    await tracker.start();
    const holder = fakeConnection('here');
    await tracker.bind(holder.connection, 's-1');
    const prefix = sessionPrefix('user-1', 's-1');
    const since = holder.connection.session!.since;

    onClaim(prefix, { owner: 'elsewhere-older', since: since - 1 });
    onClaim(sessionPrefix('user-1', 's-2'), { owner: 'elsewhere-other-session', since: since + 1 });
    onClaim(prefix, { owner: 'here', since });
    expect(holder.closes).toEqual([]);
    onClaim(prefix, { owner: 'elsewhere-newer', since: since + 1 });
    expect(holder.closes).toEqual([WS_CLOSE.sessionTakenOver]);
    await tracker.stop();
  });
});

describe('a bucket made anew', () => {
  /** A holder of `s-1` at position 90 of `product:p`, its position already stored, and the bucket's listener. */
  async function heldSession(claimAgain: () => Promise<boolean>) {
    const saved: string[] = [];
    let listener: SessionBucketListener | null = null;
    const repository = quietRepository({
      watch: async (l) => {
        listener = l;
        return () => undefined;
      },
      save: async (_prefix, channel, cursor) => {
        saved.push(`${channel}@${cursor}`);
      },
    });
    const tracker = trackerOn(repository, 60_000);
    await tracker.start();
    const holder = fakeConnection('here');
    await tracker.bind(holder.connection, 's-1');
    holder.connection.subs.set('product:p', {
      name: 'product:p',
      implicit: false,
      positioned: true,
      position: 90,
      acked: 90,
      stored: 90,
      ended: false,
    } as never);
    repository.claim = claimAgain;
    return { tracker, holder, saved, recreated: () => listener!.recreated() };
  }

  it('claims the session again and writes a position it had already stored', async () => {
    const claims: number[] = [];
    const { tracker, holder, saved, recreated } = await heldSession(async () => claims.push(1) > 0);
    recreated();
    await vi.waitFor(() => expect(saved).toHaveLength(1));
    expect(claims).toHaveLength(1);
    expect(saved[0]).toMatch(/^product:p@/);
    expect(holder.closes).toEqual([]);
    await tracker.stop();
  });

  it('closes the holder with 4409 when a newer connection claimed the new bucket first, writing nothing', async () => {
    const { tracker, holder, saved, recreated } = await heldSession(async () => false);
    recreated();
    await vi.waitFor(() => expect(holder.closes).toEqual([WS_CLOSE.sessionTakenOver]));
    await tracker.flushAll();
    expect(saved).toEqual([]);
    await tracker.stop();
  });
});

describe('session writes', () => {
  it('does not store again a channel the client left while the owner was being looked up', async () => {
    const saved: string[] = [];
    const removed: string[] = [];
    let answerOwner: (owner: string) => void = () => undefined;
    const repository = quietRepository({
      owner: () =>
        new Promise<string>((resolve) => {
          answerOwner = resolve;
        }),
      save: async (_prefix, channel) => {
        saved.push(channel);
      },
      remove: async (_prefix, channel) => {
        removed.push(channel);
      },
    });
    const tracker = trackerOn(repository, 60_000);
    const { connection } = fakeConnection('tab');
    await tracker.bind(connection, 's-1');
    const channel = {
      name: 'product:left',
      implicit: false,
      positioned: true,
      position: 5,
      acked: 5,
      stored: -1,
      ended: false,
    };
    connection.subs.set(channel.name, channel as never);

    const writing = tracker.flushAll();
    // The client unsubscribes while the write looks up who owns the session.
    channel.ended = true;
    connection.subs.delete(channel.name);
    tracker.forget(connection, channel.name);
    answerOwner('tab');
    await writing;

    expect(removed).toEqual(['product:left']);
    expect(saved).toEqual([]);
  });

  it('writes the final position of a channel subscribed again after the client had left it', async () => {
    const saved: string[] = [];
    const tracker = trackerOn(
      quietRepository({
        save: async (_prefix, channel, cursor) => {
          saved.push(`${channel} ${cursor}`);
        },
      }),
      60_000,
    );
    const { connection } = fakeConnection('tab');
    await tracker.bind(connection, 's-1');
    tracker.forget(connection, 'product:again');
    const again = {
      name: 'product:again',
      implicit: false,
      positioned: true,
      position: 7,
      acked: 7,
      stored: -1,
      ended: false,
    };
    connection.subs.set(again.name, again as never);
    tracker.positioned(connection, again.name);
    // The connection closes before the immediate write: its subscriptions end, then the final write runs.
    again.ended = true;
    await tracker.release(connection);
    expect(saved).toHaveLength(1);
    expect(saved[0]).toMatch(/^product:again /);
  });
});
