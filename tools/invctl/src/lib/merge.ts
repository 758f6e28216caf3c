/**
 * Merges sources that each yield in ascending `seq` into one ascending sequence, reading one item ahead per
 * source. Used to read a channel with several subject filters (one consumer per filter, as NATS 2.9 allows
 * one filter per consumer) in stream order.
 */
export async function* mergeBySeq<T extends { seq: number }>(sources: AsyncIterable<T>[]): AsyncGenerator<T> {
  const iterators = sources.map((s) => s[Symbol.asyncIterator]());
  const heads: (IteratorResult<T> | null)[] = await Promise.all(iterators.map((it) => it.next()));
  try {
    for (;;) {
      let min = -1;
      heads.forEach((head, i) => {
        if (
          head &&
          !head.done &&
          (min < 0 || head.value.seq < (heads[min] as IteratorYieldResult<T>).value.seq)
        ) {
          min = i;
        }
      });
      if (min < 0) return;
      yield (heads[min] as IteratorYieldResult<T>).value;
      heads[min] = await iterators[min]!.next();
    }
  } finally {
    await Promise.all(iterators.map((it, i) => (heads[i]?.done ? undefined : it.return?.(undefined))));
  }
}
