import { setTimeout as sleep } from 'node:timers/promises';
import { now } from './stats.js';

export interface PaceResult {
  /** Operations started. */
  started: number;
  /** Operations not started because `maxInFlight` were still running (the target could not keep up). */
  skipped: number;
  elapsedMs: number;
}

/**
 * Open-loop load: starts operation i at `i / rate` seconds whatever earlier ones are doing (a closed loop would
 * hide queueing), for `durationMs`, then waits for those in flight. Beyond `maxInFlight` it skips instead of
 * queueing without bound.
 */
export async function paced(
  rate: number,
  durationMs: number,
  operation: (index: number) => unknown,
  maxInFlight = 512,
): Promise<PaceResult> {
  const start = now();
  const pending = new Set<Promise<unknown>>();
  let index = 0;
  let started = 0;
  let skipped = 0;
  for (;;) {
    const elapsed = now() - start;
    const due = Math.min(Math.floor((elapsed * rate) / 1000), Math.floor((durationMs * rate) / 1000));
    while (index < due) {
      index++;
      if (pending.size >= maxInFlight) {
        skipped++;
        continue;
      }
      started++;
      const running = Promise.resolve(operation(index - 1)).catch(() => undefined);
      pending.add(running);
      void running.finally(() => pending.delete(running));
    }
    if (elapsed >= durationMs) break;
    await sleep(1);
  }
  await Promise.all(pending);
  return { started, skipped, elapsedMs: now() - start };
}

/** Runs `workers` loops of `operation` until `durationMs` has passed: a closed loop, for contention. */
export async function closedLoop(
  workers: number,
  durationMs: number,
  operation: (worker: number) => Promise<unknown>,
): Promise<number> {
  const start = now();
  await Promise.all(
    Array.from({ length: workers }, async (_, worker) => {
      while (now() - start < durationMs) await operation(worker);
    }),
  );
  return now() - start;
}
