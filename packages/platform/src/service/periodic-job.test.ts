import type { Logger } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PeriodicJob } from './periodic-job.js';

/** Runs that finish when the test says so; the nth run answers n. */
function heldRuns() {
  const releases: (() => void)[] = [];
  const run = vi.fn(
    () =>
      new Promise<number>((resolve) => {
        const number = releases.length + 1;
        releases.push(() => resolve(number));
      }),
  );
  return { run, release: (index: number) => releases[index]!() };
}

function fakeLogger() {
  return { warn: vi.fn(), debug: vi.fn() };
}

/** Lets settled promises run their callbacks. */
const settle = () => vi.advanceTimersByTimeAsync(0);

describe('PeriodicJob', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('runs every interval, first after one interval unless asked to run at start', async () => {
    const later = vi.fn(async () => 1);
    const atStart = vi.fn(async () => 1);
    const logger = fakeLogger() as unknown as Logger;
    const jobs = [
      new PeriodicJob({ run: later, intervalMs: 100, logger, failureMessage: 'x' }),
      new PeriodicJob({ run: atStart, intervalMs: 100, logger, failureMessage: 'x', runAtStart: true }),
    ];
    for (const job of jobs) job.start();
    await settle();
    expect([later.mock.calls.length, atStart.mock.calls.length]).toEqual([0, 1]);
    await vi.advanceTimersByTimeAsync(250);
    expect([later.mock.calls.length, atStart.mock.calls.length]).toEqual([2, 3]);
    for (const job of jobs) await job.stop();
  });

  it('skips a tick while the previous run is still going, instead of overlapping it', async () => {
    const { run, release } = heldRuns();
    const job = new PeriodicJob({ run, intervalMs: 100, logger: fakeLogger() as never, failureMessage: 'x' });
    job.start();
    await vi.advanceTimersByTimeAsync(350);
    expect(run).toHaveBeenCalledTimes(1);
    release(0);
    await vi.advanceTimersByTimeAsync(100);
    expect(run).toHaveBeenCalledTimes(2);
    release(1);
    await job.stop();
  });

  it('runs a run asked for now after the one in progress, and answers with its result', async () => {
    const { run, release } = heldRuns();
    const job = new PeriodicJob({ run, intervalMs: 0, logger: fakeLogger() as never, failureMessage: 'x' });
    const first = job.runNow();
    const second = job.runNow(async () => 42);
    await settle();
    expect(run).toHaveBeenCalledTimes(1);
    let secondDone = false;
    void second.then(() => {
      secondDone = true;
    });
    await settle();
    expect(secondDone).toBe(false);
    release(0);
    expect(await first).toBe(1);
    expect(await second).toBe(42);
  });

  it('waits in stop for the run in progress, and runs nothing after it', async () => {
    const { run, release } = heldRuns();
    const job = new PeriodicJob({
      run,
      intervalMs: 100,
      logger: fakeLogger() as never,
      failureMessage: 'x',
      runAtStart: true,
    });
    job.start();
    let stopped = false;
    const stopping = job.stop().then(() => {
      stopped = true;
    });
    await settle();
    expect(stopped).toBe(false);
    release(0);
    await stopping;
    await vi.advanceTimersByTimeAsync(500);
    expect(run).toHaveBeenCalledTimes(1);
  });

  it('logs a failed scheduled run at its level and tries again at the next tick', async () => {
    const logger = fakeLogger();
    const run = vi.fn().mockRejectedValueOnce(new Error('database away')).mockResolvedValue(1);
    const job = new PeriodicJob({
      run,
      intervalMs: 100,
      logger: logger as unknown as Logger,
      failureMessage: 'check failed',
      failureLevel: 'debug',
    });
    job.start();
    await vi.advanceTimersByTimeAsync(200);
    expect(run).toHaveBeenCalledTimes(2);
    expect(logger.debug).toHaveBeenCalledWith({ err: expect.any(Error) }, 'check failed');
    expect(logger.warn).not.toHaveBeenCalled();
    await job.stop();
  });

  it('with an interval of 0 never runs by itself, while runNow still runs', async () => {
    const run = vi.fn(async () => 7);
    const job = new PeriodicJob({ run, intervalMs: 0, logger: fakeLogger() as never, failureMessage: 'x' });
    job.start();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(run).not.toHaveBeenCalled();
    expect(await job.runNow()).toBe(7);
  });
});
