import { GATEWAY_SESSIONS_BUCKET } from '@inv/contracts';
import { startTestNats, type TestNats } from '@inv/testkit';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionRepository } from '../src/app/ports.js';
import { sessionOwnerKey } from '../src/domain/session-keys.js';
import { openSessionBucket } from '../src/infra/nats/session-kv.js';

/**
 * Two connections of one durable session on two instances claim it; under load the older one's claim can land
 * last (its bind was slow). Before the fix the last claim won, so the older tab took the session from the newer.
 */
describe('durable session claims in the KV bucket', () => {
  let nats: TestNats;
  let nc: NatsConnection;
  let sessions: SessionRepository;
  beforeAll(async () => {
    nats = await startTestNats();
    nc = await connect({ servers: nats.url });
    sessions = await openSessionBucket(nc, { ttlMs: 3_600_000, replicas: 1 });
  });
  afterAll(async () => {
    await nc?.close();
    await nats?.stop();
  });

  /** Checks five times while another connection keeps writing one channel's position of the session. */
  async function whileWritten(prefix: string, channel: string, check: () => Promise<void>): Promise<void> {
    let writing = true;
    const writer = (async () => {
      for (let n = 0; writing; n++) await sessions.save(prefix, channel, `cursor-w${n}`);
    })();
    try {
      for (let round = 0; round < 5; round++) await check();
    } finally {
      writing = false;
      await writer;
    }
  }

  it('keeps the session with the connection whose bind began last, whatever order the claims land in', async () => {
    expect(await sessions.claim('u1.tabs', 'newer', 2_000)).toBe(true);
    expect(await sessions.claim('u1.tabs', 'older', 1_000)).toBe(false);
    expect(await sessions.owner('u1.tabs')).toBe('newer');
    expect(await sessions.claim('u1.tabs', 'newest', 3_000)).toBe(true);
    expect(await sessions.owner('u1.tabs')).toBe('newest');
  });

  it('lets exactly one of several concurrent claims win: the one whose bind began last', async () => {
    const results = await Promise.all(
      [5, 3, 9, 1, 7].map((since) => sessions.claim('u2.tabs', `c${since}`, since)),
    );
    expect(results.filter(Boolean).length).toBeGreaterThanOrEqual(1);
    expect(await sessions.owner('u2.tabs')).toBe('c9');
  });

  it('reads an owner written before claims were ordered, and replaces it', async () => {
    const kv = await new Kvm(nc).open(GATEWAY_SESSIONS_BUCKET);
    await kv.put(sessionOwnerKey('u3.tabs'), 'legacy-connection');
    expect(await sessions.owner('u3.tabs')).toBe('legacy-connection');
    expect(await sessions.claim('u3.tabs', 'current', Date.now())).toBe(true);
    expect(await sessions.owner('u3.tabs')).toBe('current');
  });

  it("lists a user's sessions, not another user's, while their positions are being written", async () => {
    await sessions.claim('u4.tab-a', 'a', 1);
    await sessions.save('u4.tab-a', 'product:p1', 'cursor-1');
    await sessions.save('u4.tab-b', 'product:p2', 'cursor-2');
    await sessions.save('u4.tab-b', 'product:p3', 'cursor-3');
    await sessions.remove('u4.tab-b', 'product:p3');
    await sessions.save('u5.tab-c', 'product:p1', 'cursor-4');
    await whileWritten('u4.tab-a', 'product:p1', async () => {
      expect(await sessions.sessionsOf('u4')).toEqual(new Set(['tab-a', 'tab-b']));
    });
    expect(await sessions.sessionsOf('u6')).toEqual(new Set());
  });

  it("loads a session's positions, not a removed channel's nor another session's, while they are written", async () => {
    await sessions.claim('u7.tab', 'tab', 1);
    await sessions.save('u7.tab', 'product:p1', 'cursor-1');
    await sessions.save('u7.tab', 'warehouse:w1', 'cursor-2');
    await sessions.save('u7.tab', 'product:gone', 'cursor-3');
    await sessions.remove('u7.tab', 'product:gone');
    await sessions.save('u7.other', 'product:p1', 'cursor-4');
    await whileWritten('u7.tab', 'warehouse:w1', async () => {
      const positions = await sessions.load('u7.tab');
      expect([...positions.keys()].sort()).toEqual(['product:p1', 'warehouse:w1']);
      expect(positions.get('product:p1')).toBe('cursor-1');
    });
  });
});
