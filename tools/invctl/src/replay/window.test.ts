import { describe, expect, it } from 'vitest';
import { InFlightWindow } from './window.js';

function deferred() {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<void>((ok, fail) => {
    resolve = ok;
    reject = fail;
  });
  return { promise, resolve, reject };
}

describe('InFlightWindow', () => {
  it('never has more than its size in flight', async () => {
    const window = new InFlightWindow<number>(3);
    let inFlight = 0;
    let most = 0;
    const pending = Array.from({ length: 10 }, deferred);
    const submitting = (async () => {
      for (const [i, d] of pending.entries()) {
        await window.submit(
          i,
          async () => {
            most = Math.max(most, ++inFlight);
            await d.promise;
            inFlight--;
          },
          () => undefined,
        );
      }
    })();
    for (const d of pending) {
      await new Promise((r) => setImmediate(r));
      d.resolve();
    }
    await submitting;
    await window.drain();
    expect(most).toBe(3);
    expect(inFlight).toBe(0);
  });

  it('reports the earliest failure and starts nothing after it', async () => {
    const window = new InFlightWindow<string>(4);
    const done: string[] = [];
    const a = deferred();
    const b = deferred();
    await window.submit(
      'a',
      () => a.promise,
      () => done.push('a'),
    );
    await window.submit(
      'b',
      () => b.promise,
      () => done.push('b'),
    );
    b.reject(new Error('b failed'));
    a.reject(new Error('a failed'));
    await window.drain();
    expect(window.failure).toMatchObject({ key: 'a', error: { message: 'a failed' } });
    expect(
      await window.submit(
        'c',
        async () => done.push('c'),
        () => undefined,
      ),
    ).toBe(false);
    expect(done).toEqual([]);
  });
});
