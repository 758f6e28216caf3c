import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MarkQueue, type Published } from './mark-queue.js';

/** A mark function whose UPDATEs stay open until the test ends them, recording what each one marked. */
function recordingMark() {
  const updates: string[][] = [];
  const open: (() => void)[] = [];
  const mark = (rows: Published[]) => {
    updates.push(rows.map((r) => r.id));
    return new Promise<void>((resolve) => open.push(resolve));
  };
  const finishUpdate = async () => {
    open.shift()?.();
    await vi.advanceTimersByTimeAsync(0);
  };
  return { updates, mark, finishUpdate };
}

const row = (id: number): Published => ({ id: String(id), seq: id });

describe('MarkQueue', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('marks the rows acked within its delay with one UPDATE', async () => {
    const { updates, mark } = recordingMark();
    const queue = new MarkQueue(mark, 100, 5, () => undefined);
    queue.add(row(1));
    await vi.advanceTimersByTimeAsync(2);
    queue.add(row(2));
    queue.add(row(3));
    expect(updates).toEqual([]);
    await vi.advanceTimersByTimeAsync(3);
    expect(updates).toEqual([['1', '2', '3']]);
  });

  it('lets the rows acked while an UPDATE runs wait their delay for more, then marks them together', async () => {
    const { updates, mark, finishUpdate } = recordingMark();
    const queue = new MarkQueue(mark, 100, 5, () => undefined);
    queue.add(row(1));
    await vi.advanceTimersByTimeAsync(5);
    queue.add(row(2));
    await finishUpdate();
    queue.add(row(3));
    expect(updates).toEqual([['1']]);
    await vi.advanceTimersByTimeAsync(5);
    expect(updates).toEqual([['1'], ['2', '3']]);
  });

  it('marks at once when a full UPDATE is waiting, and never more than its size in one', async () => {
    const { updates, mark, finishUpdate } = recordingMark();
    const queue = new MarkQueue(mark, 2, 5, () => undefined);
    for (const id of [1, 2, 3]) queue.add(row(id));
    expect(updates).toEqual([['1', '2']]);
    await finishUpdate();
    await vi.advanceTimersByTimeAsync(5);
    expect(updates).toEqual([['1', '2'], ['3']]);
  });

  it('marks everything added when flushed, without waiting for the delay', async () => {
    const { updates, mark, finishUpdate } = recordingMark();
    const queue = new MarkQueue(mark, 100, 1_000, () => undefined);
    queue.add(row(1));
    let flushed = false;
    const flushing = queue.flush().then(() => {
      flushed = true;
    });
    expect(updates).toEqual([['1']]);
    await finishUpdate();
    await flushing;
    expect(flushed).toBe(true);
  });

  it('reports a failed UPDATE and forgets its rows, which the relay reads and publishes again', async () => {
    const failures: unknown[] = [];
    const marked: string[][] = [];
    const queue = new MarkQueue(
      async (rows) => {
        marked.push(rows.map((r) => r.id));
        throw new Error('connection lost');
      },
      100,
      5,
      (error) => failures.push(error),
    );
    queue.add(row(1));
    queue.add(row(2));
    await queue.flush();
    expect(marked).toEqual([['1', '2']]);
    expect(failures).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(10);
    expect(marked).toHaveLength(1);
  });
});
