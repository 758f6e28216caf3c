import { resolve } from 'node:path';
import type { DomainEvent } from '@inv/contracts';
import { eventually, spawnServer, stopChild } from '@inv/testkit';
import { nanos } from '@nats-io/nats-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type NatsFixture,
  natsFixture,
  publishEvents,
  readTarget,
  stockUpdated,
  transferEvent,
} from './support.js';

const ROOT = resolve(import.meta.dirname, '../../..');
/** The workspace's linked bin (what `npx invctl` runs) and the package's own entry. */
const LINKED_BIN = resolve(ROOT, 'node_modules/.bin/invctl');
const PACKAGE_BIN = resolve(ROOT, 'tools/invctl/bin/invctl.js');
const TOTAL = 10_000;

function exitOf(child: ReturnType<typeof spawnServer>['child']): Promise<number | null> {
  return new Promise((done) => {
    if (child.exitCode !== null) done(child.exitCode);
    else child.once('exit', (code) => done(code));
  });
}

describe('invctl replay, killed in the middle (built binary)', () => {
  let f: NatsFixture;
  let events: DomainEvent[];

  beforeAll(async () => {
    f = await natsFixture();
    events = Array.from({ length: TOTAL }, (_, i) =>
      i % 5 === 0
        ? transferEvent('transfer.requested', { transferId: `t${i}`, from: 'w1', to: 'w2' }, 1)
        : stockUpdated({ productId: `p${i % 50}`, warehouseId: `w${i % 4}` }, Math.floor(i / 200) + 1),
    );
    expect(await publishEvents(f.nc, events)).toHaveLength(TOTAL);
    // The shortest duplicate window NATS allows: a re-run must not lean on de-duplication to land each event once.
    await f.jsm.streams.add({
      name: 'REPLAY',
      subjects: ['replay.>'],
      duplicate_window: nanos(100),
    });
  });
  afterAll(async () => {
    await f?.close();
  });

  // A failed assertion must not leave a CLI process behind (a live tail never ends by itself).
  const started: ReturnType<typeof spawnServer>[] = [];
  const spawnCli = (command: string, args: string[]) => {
    const spawned = spawnServer(command, args);
    started.push(spawned);
    return spawned;
  };
  afterEach(async () => {
    await Promise.all(started.splice(0).map((s) => stopChild(s.child, 'SIGKILL')));
  });

  it('prints its help through the linked bin', async () => {
    const help = spawnCli(LINKED_BIN, ['replay', '--help']);
    expect(await exitOf(help.child)).toBe(0);
    expect(help.output()).toContain('Usage: invctl replay [options]');
  });

  it('replays 10,000 events exactly once and in order after a SIGKILL and a re-run', async () => {
    const args = ['replay', '--to-stream', 'REPLAY', '--nats', f.nats.url];
    // Paced, so that the kill lands in the middle whatever the machine's speed.
    const first = spawnCli(LINKED_BIN, [...args, '--rate', '2500']);
    const replayedSoFar = () =>
      Number(/replayed: (\d+)\/\d+\n(?![\s\S]*replayed:)/.exec(first.output())?.[1] ?? 0);
    await eventually(() => replayedSoFar() >= 3_000, { timeoutMs: 60_000, message: '3000 replayed' });
    await stopChild(first.child, 'SIGKILL');
    expect(first.child.signalCode).toBe('SIGKILL');

    const partial = await readTarget(f.nc, 'REPLAY');
    expect(partial.length).toBeGreaterThanOrEqual(3_000);
    expect(partial.length).toBeLessThan(TOTAL);
    expect(partial.map((m) => m.eventId)).toEqual(events.slice(0, partial.length).map((e) => e.id));

    const second = spawnCli(process.execPath, [PACKAGE_BIN, ...args]);
    expect(await exitOf(second.child)).toBe(0);
    expect(second.output()).toContain(
      `resuming: REPLAY already holds this replay up to source seq ${partial.length}`,
    );
    expect(second.output()).toContain(`${TOTAL - partial.length} message(s) published, 0 already there`);

    const target = await readTarget(f.nc, 'REPLAY');
    expect(target).toHaveLength(TOTAL);
    expect(new Set(target.map((m) => m.eventId)).size).toBe(TOTAL);
    expect(target.map((m) => m.eventId)).toEqual(events.map((e) => e.id));
    expect(target.map((m) => m.sourceSeq)).toEqual(events.map((_, i) => i + 1));
  });

  it('tails a channel until Ctrl-C, then cleans up its consumers', async () => {
    // The replay killed above leaves its reader behind until the server expires it; count only the tail's.
    const consumers = async () => (await f.jsm.streams.info('EVENTS')).state.consumer_count;
    const before = await consumers();
    const tail = spawnCli(LINKED_BIN, [
      'events',
      '--channel',
      'transfer:t5',
      '--follow',
      '--json',
      '--nats',
      f.nats.url,
    ]);
    const lines = () =>
      tail
        .output()
        .split('\n')
        .filter((l) => l.startsWith('{'));
    // A channel with little history: the test's process output keeps only its last 20,000 characters.
    const history = events.filter((e) => e.type === 'transfer.requested' && e.data.transferId === 't5');
    await eventually(() => lines().length === history.length, { timeoutMs: 20_000, message: 'history' });
    expect(await consumers()).toBe(before + 1);
    const [live] = await publishEvents(f.nc, [
      transferEvent('transfer.approved', { transferId: 't5', from: 'w1', to: 'w2' }, 2),
    ]);
    await eventually(() => lines().length === history.length + 1, { message: 'the live event' });
    expect(history).toHaveLength(1);
    expect(JSON.parse(lines().at(-1)!)).toMatchObject({ seq: live, valid: true });
    tail.child.kill('SIGINT');
    expect(await exitOf(tail.child)).toBe(0);
    expect(await consumers()).toBe(before);
  });
});
