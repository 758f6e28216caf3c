import { eventually, testLogger } from '@inv/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  appendToOutbox,
  createMetricsRegistry,
  OutboxRelay,
  relayLockKey,
  runCommand,
} from '../src/index.js';
import { type PlatformFixture, platformFixture, readStream, scalar, stockEvent } from './support.js';

describe('transactional outbox', () => {
  let f: PlatformFixture;
  const relays: OutboxRelay[] = [];

  const startRelay = (options: Partial<ConstructorParameters<typeof OutboxRelay>[0]> = {}) => {
    const relay = new OutboxRelay({
      databaseUrl: f.db.url,
      nc: f.nc,
      logger: testLogger(),
      lockKey: relayLockKey('test'),
      pollIntervalMs: 50,
      publishTimeoutMs: 1_000,
      ...options,
    });
    relays.push(relay);
    relay.start();
    return relay;
  };
  const unpublished = () => scalar(f.orm, 'select count(*) from outbox where published_at is null');

  beforeAll(async () => {
    f = await platformFixture();
  });
  afterEach(async () => {
    await Promise.all(relays.splice(0).map((r) => r.stop()));
    await f.orm.em.fork().execute('truncate outbox');
  });
  afterAll(async () => f?.close());

  it('publishes nothing of a transaction that rolls back', async () => {
    const relay = startRelay();
    const committed = stockEvent('rb-1', 1);
    const rolledBack = stockEvent('rb-0', 1);
    await expect(
      runCommand({
        orm: f.orm,
        work: async (em) => {
          await appendToOutbox(em, [rolledBack]);
          throw new Error('rule says no');
        },
      }),
    ).rejects.toThrow('rule says no');
    await runCommand({
      orm: f.orm,
      work: (em) => appendToOutbox(em, [committed]),
      afterCommit: () => relay.notify(),
    });
    await eventually(async () => (await unpublished()) === 0);
    const ids = (await readStream(f.nc)).map((m) => m.event.id);
    expect(ids).toContain(committed.id);
    expect(ids).not.toContain(rolledBack.id);
  });

  it('delivers every event once and in order per record across a NATS kill -9 and restart', async () => {
    const before = (await readStream(f.nc)).length;
    const relay = startRelay();
    const records = ['a', 'b', 'c', 'd'];
    const written: string[] = [];
    const write = async (version: number) => {
      const events = records.map((r) => stockEvent(`ord-${r}`, version));
      await runCommand({
        orm: f.orm,
        work: (em) => appendToOutbox(em, events),
        afterCommit: () => relay.notify(),
      });
      written.push(...events.map((e) => e.id));
    };
    for (let v = 1; v <= 25; v++) await write(v);
    await f.nats.server!.kill('SIGKILL');
    for (let v = 26; v <= 75; v++) await write(v);
    expect(await unpublished()).toBeGreaterThan(0);
    await f.nats.server!.launch();
    for (let v = 76; v <= 100; v++) await write(v);
    await eventually(async () => (await unpublished()) === 0, {
      timeoutMs: 30_000,
      message: 'outbox drained',
    });

    const stream = (await readStream(f.nc)).slice(before);
    const ids = stream.map((m) => m.event.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual([...written].sort());
    for (const r of records) {
      const versions = stream
        .filter((m) => m.event.aggregate.id === `ord-${r}`)
        .map((m) => m.event.aggregate.version);
      expect(versions).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    }
  });

  it('publishes a burst across several aggregates once each, every aggregate in order', async () => {
    const before = (await readStream(f.nc)).length;
    const spread = Array.from({ length: 12 }, (_, i) => `burst-${i}`);
    const written: string[] = [];
    // Committed before the relay starts, so its batches hold many aggregates and a hot one with many events.
    for (let v = 1; v <= 30; v++) {
      const events = [
        ...spread.map((r) => stockEvent(r, v)),
        ...Array.from({ length: 6 }, (_, i) => stockEvent('burst-hot', (v - 1) * 6 + i + 1)),
      ];
      await runCommand({ orm: f.orm, work: (em) => appendToOutbox(em, events) });
      written.push(...events.map((e) => e.id));
    }
    startRelay({ batchSize: 100, maxInFlight: 8 });
    await eventually(async () => (await unpublished()) === 0, {
      timeoutMs: 20_000,
      message: 'burst drained',
    });

    const stream = (await readStream(f.nc)).slice(before);
    const ids = stream.map((m) => m.event.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual([...written].sort());
    const versionsOf = (id: string) =>
      stream.filter((m) => m.event.aggregate.id === id).map((m) => m.event.aggregate.version);
    for (const r of spread) expect(versionsOf(r)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    expect(versionsOf('burst-hot')).toEqual(Array.from({ length: 180 }, (_, i) => i + 1));
    // Aggregates were published side by side, not one after the other.
    const firstHot = ids.indexOf(stream.find((m) => m.event.aggregate.id === 'burst-hot')!.event.id);
    expect(stream.slice(firstHot, firstHot + 50).some((m) => m.event.aggregate.id !== 'burst-hot')).toBe(
      true,
    );
    const unmarked = await scalar(f.orm, 'select count(*) from outbox where stream_seq is null');
    expect(unmarked).toBe(0);
  });

  it('publishes an event committed during a long chain of another aggregate without waiting for the chain', async () => {
    const before = (await readStream(f.nc)).length;
    const hot = Array.from({ length: 400 }, (_, i) => stockEvent('long-chain', i + 1));
    await runCommand({ orm: f.orm, work: (em) => appendToOutbox(em, hot) });
    const relay = startRelay();
    // One read takes the whole chain (400 < batchSize): its events go out one ack after the other.
    await eventually(async () => (await readStream(f.nc)).length > before);
    const other = stockEvent('beside-the-chain', 1);
    await runCommand({
      orm: f.orm,
      work: (em) => appendToOutbox(em, [other]),
      afterCommit: () => relay.notify(),
    });
    await eventually(async () => (await unpublished()) === 0, { timeoutMs: 20_000 });

    const stream = (await readStream(f.nc)).slice(before);
    const seqOf = (id: string) => stream.find((m) => m.event.id === id)!.seq;
    expect(seqOf(other.id)).toBeLessThan(seqOf(hot.at(-1)!.id));
    expect(stream.filter((m) => m.event.aggregate.id === 'long-chain').map((m) => m.event.id)).toEqual(
      hot.map((e) => e.id),
    );
  });

  it('lets only one relay per database publish, and another takes over when it stops', async () => {
    const first = startRelay();
    const second = startRelay();
    await eventually(() => first.isLeader || second.isLeader);
    expect(first.isLeader && second.isLeader).toBe(false);
    const leader = first.isLeader ? first : second;
    const follower = leader === first ? second : first;
    await leader.stop();
    const event = stockEvent('takeover', 1);
    await runCommand({ orm: f.orm, work: (em) => appendToOutbox(em, [event]) });
    await eventually(async () => follower.isLeader && (await unpublished()) === 0, { timeoutMs: 10_000 });
    expect((await readStream(f.nc)).map((m) => m.event.id)).toContain(event.id);
  });

  it('passes a wake-up from a process whose relay is not the leader on to the leader', async () => {
    // Polls far apart: only the wake-up can get the event out within the test's time.
    const first = startRelay({ pollIntervalMs: 60_000 });
    const second = startRelay({ pollIntervalMs: 60_000 });
    await eventually(() => first.isLeader || second.isLeader);
    const follower = first.isLeader ? second : first;
    await eventually(async () => (await unpublished()) === 0);
    const event = stockEvent('wake-leader', 1);
    await runCommand({
      orm: f.orm,
      work: (em) => appendToOutbox(em, [event]),
      afterCommit: () => follower.notify(),
    });
    await eventually(async () => (await unpublished()) === 0, { timeoutMs: 5_000, message: 'leader woken' });
    expect((await readStream(f.nc)).map((m) => m.event.id)).toContain(event.id);
  });

  it('records the stream sequence of every published event', async () => {
    const relay = startRelay();
    const event = stockEvent('seq', 1);
    await runCommand({
      orm: f.orm,
      work: (em) => appendToOutbox(em, [event]),
      afterCommit: () => relay.notify(),
    });
    await eventually(async () => (await unpublished()) === 0);
    const seq = await scalar(f.orm, 'select stream_seq from outbox where event_id = ?', [event.id]);
    const stored = (await readStream(f.nc)).find((m) => m.event.id === event.id);
    expect(seq).toBe(stored?.seq);
  });

  it('times each published event in three phases that add up to its lag', async () => {
    const registry = createMetricsRegistry('test');
    const relay = startRelay({ registry });
    const events = [1, 2, 3].map((v) => stockEvent('phases', v));
    await runCommand({
      orm: f.orm,
      work: (em) => appendToOutbox(em, events),
      afterCommit: () => relay.notify(),
    });
    await eventually(async () => (await unpublished()) === 0);
    const metrics = await registry.getMetricsAsJSON();
    // A histogram's values carry the series they belong to (`_count`, `_sum`, `_bucket`) as `metricName`.
    type Value = { metricName?: string; labels: Record<string, unknown>; value: number };
    const seriesValue = (name: string, series: 'count' | 'sum', phase?: string) =>
      Number(
        (metrics.find((m) => m.name === name)?.values as Value[] | undefined)?.find(
          (v) => v.metricName === `${name}_${series}` && (phase === undefined || v.labels.phase === phase),
        )?.value,
      );
    const countOf = (name: string, phase?: string) => seriesValue(name, 'count', phase);
    const sumOf = (name: string, phase?: string) => seriesValue(name, 'sum', phase);
    for (const phase of ['pickup', 'queue', 'publish'])
      expect(countOf('outbox_relay_phase_seconds', phase)).toBe(3);
    const phases = ['pickup', 'queue', 'publish'].reduce(
      (sum, p) => sum + sumOf('outbox_relay_phase_seconds', p),
      0,
    );
    // Each row's lag is taken from its write to the ack: the phases cover it (clock readings apart, 1 ms each).
    expect(Math.abs(phases - sumOf('outbox_relay_lag_seconds'))).toBeLessThan(0.003 * 3);
  });
});

describe('outbox relay beyond the duplicate window', () => {
  let f: PlatformFixture;
  beforeAll(async () => {
    f = await platformFixture({ duplicateWindowMs: 200 });
  });
  afterAll(async () => f?.close());

  it('does not publish again an event the stream already holds after the window has passed', async () => {
    const relay = new OutboxRelay({
      databaseUrl: f.db.url,
      nc: f.nc,
      logger: testLogger(),
      lockKey: relayLockKey('window'),
      pollIntervalMs: 50,
      duplicateWindowMs: 200,
    });
    relay.start();
    const event = stockEvent('window', 1);
    await runCommand({
      orm: f.orm,
      work: (em) => appendToOutbox(em, [event]),
      afterCommit: () => relay.notify(),
    });
    await eventually(async () => (await readStream(f.nc)).length === 1);
    await relay.stop();

    // A relay that crashed after publishing and before marking: the row is still pending, and the stream's
    // de-duplication window (200 ms) has long passed for it.
    await f.orm.em
      .fork()
      .execute(
        "update outbox set published_at = null, stream_seq = null, created_at = now() - interval '1 hour' where event_id = ?",
        [event.id],
      );
    await new Promise((r) => setTimeout(r, 400)); // let the server's 200 ms window expire: no event marks it
    const again = new OutboxRelay({
      databaseUrl: f.db.url,
      nc: f.nc,
      logger: testLogger(),
      lockKey: relayLockKey('window'),
      pollIntervalMs: 50,
      duplicateWindowMs: 200,
    });
    again.start();
    await eventually(
      async () => (await scalar(f.orm, 'select count(*) from outbox where published_at is null')) === 0,
    );
    await again.stop();
    const stream = await readStream(f.nc);
    expect(stream.map((m) => m.event.id)).toEqual([event.id]);
  });
});
