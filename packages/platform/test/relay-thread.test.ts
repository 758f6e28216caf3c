import { existsSync } from 'node:fs';
import { eventually } from '@inv/testkit';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  appendToOutbox,
  createMetricsRegistry,
  RelayThread,
  relayLockKey,
  runCommand,
} from '../src/index.js';
import { type PlatformFixture, platformFixture, readStream, scalar, stockEvent } from './support.js';

/** The thread runs compiled code: `npm run typecheck` builds it (npm test does, before every suite). */
const WORKER = new URL('../dist/outbox/relay-worker.js', import.meta.url);

/** A logger whose lines the test reads. */
function capturingLogger() {
  const lines: Array<{ msg: string }> = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  return { logger, lines };
}

describe('the outbox relay on a thread of its own', () => {
  let f: PlatformFixture;
  beforeAll(async () => {
    f = await platformFixture();
  });
  afterAll(async () => f?.close());

  const dataFor = (natsUrl: string) => ({
    service: 'relay-thread-test',
    logLevel: 'silent',
    databaseUrl: f.db.url,
    lockKey: relayLockKey('relay-thread-test'),
    eventBus: {
      config: { NATS_URL: natsUrl, STREAM_REPLICAS: 1, STREAM_MAX_AGE_HOURS: 24 },
      deadLetters: true,
    },
  });

  it('has its worker built (the thread starts compiled code)', () => {
    expect(existsSync(WORKER)).toBe(true);
  });

  it('publishes the outbox in order, leads, and counts in the process registry what it published', async () => {
    const registry = createMetricsRegistry('test');
    const thread = new RelayThread(dataFor(f.nats.url), capturingLogger().logger, {
      registry,
      workerUrl: WORKER,
    });
    thread.start();
    const events = [1, 2, 3, 4, 5].map((v) => stockEvent('thread', v));
    await runCommand({
      orm: f.orm,
      work: (em) => appendToOutbox(em, events),
      afterCommit: () => thread.notify(),
    });
    await eventually(
      async () => (await scalar(f.orm, 'select count(*) from outbox where published_at is null')) === 0,
    );
    const stored = (await readStream(f.nc)).filter((m) => events.some((e) => e.id === m.event.id));
    expect(stored.map((m) => m.event.id)).toEqual(events.map((e) => e.id));
    await eventually(() => thread.isLeader);
    await eventually(async () =>
      (await registry.getSingleMetricAsString('outbox_published_total')).includes(' 5'),
    );
    await thread.stop();
    expect(thread.isLeader).toBe(false);
  });

  it('starts a thread again when it ends, and stops while it waits to', async () => {
    const { logger, lines } = capturingLogger();
    // Nothing listens there: the thread cannot connect to NATS, and ends.
    const thread = new RelayThread(dataFor('nats://127.0.0.1:1'), logger, { workerUrl: WORKER });
    thread.start();
    await eventually(
      () => lines.filter((l) => l.msg === 'outbox relay thread ended; starting it again').length >= 2,
      {
        timeoutMs: 15_000,
      },
    );
    await thread.stop();
    const ended = lines.length;
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(lines.length).toBe(ended);
  });
});
