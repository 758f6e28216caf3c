import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mergeBySeq } from './merge.js';

async function* source(seqs: number[], onClose?: () => void) {
  try {
    for (const seq of seqs) yield { seq };
  } finally {
    onClose?.();
  }
}

async function collect<T>(iterable: AsyncIterable<T>, limit = Number.POSITIVE_INFINITY): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) {
    out.push(item);
    if (out.length >= limit) break;
  }
  return out;
}

describe('mergeBySeq', () => {
  it('merges disjoint ascending sources into one ascending sequence', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.integer({ min: 1, max: 10_000 })),
        fc.integer({ min: 1, max: 4 }),
        async (seqs, n) => {
          const parts = Array.from({ length: n }, (_, i) =>
            seqs.filter((_, j) => j % n === i).sort((a, b) => a - b),
          );
          const merged = await collect(mergeBySeq(parts.map((p) => source(p))));
          expect(merged.map((m) => m.seq)).toEqual([...seqs].sort((a, b) => a - b));
        },
      ),
    );
  });

  it('closes every source when the reader stops early', async () => {
    const closed: number[] = [];
    const merged = mergeBySeq([
      source([1, 4, 6], () => closed.push(1)),
      source([2, 3, 9], () => closed.push(2)),
    ]);
    expect((await collect(merged, 3)).map((m) => m.seq)).toEqual([1, 2, 3]);
    expect(closed.sort()).toEqual([1, 2]);
  });
});
