import { afterEach, describe, expect, it, vi } from 'vitest';
import { eventLoopLoad, type HeldWrites, WriteFlusher } from './write-flusher.js';

function holder(name: string, log: string[]): HeldWrites {
  return { flushWrites: () => log.push(name) };
}

const nextTick = () => new Promise<void>((resolve) => process.nextTick(resolve));

describe('when held writes are flushed', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('flushes every holder at the end of the burst when the process is not busy', async () => {
    const log: string[] = [];
    const flusher = new WriteFlusher(10, () => false);
    flusher.hold(holder('a', log));
    flusher.hold(holder('b', log));
    expect(log).toEqual([]);
    await nextTick();
    expect(log).toEqual(['a', 'b']);
  });

  it('holds the writes for the delay while the process is busy, then flushes the holders of the delay together', () => {
    vi.useFakeTimers({ toFake: ['setTimeout'] });
    const log: string[] = [];
    const flusher = new WriteFlusher(10, () => true);
    flusher.hold(holder('a', log));
    vi.advanceTimersByTime(9);
    flusher.hold(holder('b', log));
    expect(log).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(log).toEqual(['a', 'b']);
  });

  it('starts a new delay with the first holder after a flush', () => {
    vi.useFakeTimers({ toFake: ['setTimeout'] });
    const log: string[] = [];
    const flusher = new WriteFlusher(10, () => true);
    flusher.hold(holder('a', log));
    vi.advanceTimersByTime(10);
    flusher.hold(holder('b', log));
    vi.advanceTimersByTime(9);
    expect(log).toEqual(['a']);
    vi.advanceTimersByTime(1);
    expect(log).toEqual(['a', 'b']);
  });

  it('never holds writes with a delay of 0, busy or not', async () => {
    const log: string[] = [];
    const flusher = new WriteFlusher(0, () => true);
    flusher.hold(holder('a', log));
    await nextTick();
    expect(log).toEqual(['a']);
  });
});

describe('event loop load', () => {
  it('is busy after the loop ran without a pause, and not once it has been idle', async () => {
    const load = eventLoopLoad(0.5, 20);
    try {
      expect(load.busy()).toBe(false);
      await vi.waitFor(
        () => {
          const until = performance.now() + 30;
          while (performance.now() < until) {
            // A callback that keeps the loop busy for longer than a sample.
          }
          expect(load.busy()).toBe(true);
        },
        { timeout: 5_000, interval: 1 },
      );
      await vi.waitFor(() => expect(load.busy()).toBe(false), { timeout: 5_000, interval: 50 });
    } finally {
      load.stop();
    }
  });
});
