import { WS_CLOSE } from '@inv/contracts';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { Connection } from './connection.js';
import type { GatewayMetrics, SessionRepository, StreamStateSource } from './ports.js';
import { SessionTracker } from './sessions.js';

/** An in-memory bucket whose per-user listing answers the first caller last (a slow KV key listing). */
function slowFirstListing() {
  const owners = new Map<string, string>();
  let releaseFirst: () => void = () => undefined;
  const firstListed = new Promise<void>((resolve) => {
    releaseFirst = resolve;
  });
  let listings = 0;
  const repository: SessionRepository = {
    load: async () => new Map(),
    save: async () => undefined,
    remove: async () => undefined,
    claim: async (prefix, owner) => {
      owners.set(prefix, owner);
      return true;
    },
    owner: async (prefix) => owners.get(prefix) ?? null,
    sessionsOf: async () => {
      if (++listings === 1) await firstListed;
      return new Set();
    },
  };
  return { repository, owners, releaseFirst };
}

function fakeConnection(id: string) {
  const closes: number[] = [];
  const connection = {
    id,
    user: 'user-1',
    session: null,
    subs: new Map(),
    usesAcks: false,
    close: (code: number) => closes.push(code),
  } as unknown as Connection;
  return { connection, closes };
}

describe('session binding', () => {
  it("lets the newer connection own the session even when the older one's bind is still listing sessions", async () => {
    const { repository, owners, releaseFirst } = slowFirstListing();
    const metrics = { sessionTakeovers: { inc: () => undefined } } as unknown as GatewayMetrics;
    const stream = { epoch: 1 } as unknown as StreamStateSource;
    const tracker = new SessionTracker(repository, stream, metrics, pino({ level: 'silent' }), 1_000, 10);
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
