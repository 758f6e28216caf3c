import { describe, expect, it } from 'vitest';
import { UsageError } from './errors.js';
import { buildSelection, resolveRange, selectsSubject } from './selection.js';

describe('buildSelection', () => {
  it('turns a warehouse channel into its three filters, as the gateway does', () => {
    expect(buildSelection({ channel: 'warehouse:w1' }).filters).toEqual([
      'inventory.product.*.warehouse.w1.>',
      'transfer.*.from.w1.>',
      'transfer.*.from.*.to.w1.>',
    ]);
  });

  it('reads the whole stream when neither subject nor channel is given', () => {
    expect(buildSelection({}).filters).toEqual(['>']);
  });

  it('takes a subject filter as it is', () => {
    expect(buildSelection({ subject: 'transfer.t1.>' })).toMatchObject({
      filters: ['transfer.t1.>'],
      label: 'subject transfer.t1.>',
    });
  });

  it.each([
    [{ channel: 'shelf:s1' }, 'unknown channel'],
    [{ channel: 'warehouse:w*' }, 'invalid id'],
    [{ channel: 'global', subject: '>' }, 'not both'],
    [{ fromSeq: 9, toSeq: 3 }, '--from-seq is after --to-seq'],
    [{ since: new Date(2_000), until: new Date(1_000) }, '--since is after --until'],
  ])('refuses %j', (options, message) => {
    expect(() => buildSelection(options)).toThrow(UsageError);
    expect(() => buildSelection(options)).toThrow(message);
  });
});

describe('selectsSubject', () => {
  it('matches a subject against any of the filters', () => {
    const selection = buildSelection({ channel: 'warehouse:w1' });
    expect(selectsSubject(selection, 'transfer.t1.from.w2.to.w1.approved')).toBe(true);
    expect(selectsSubject(selection, 'transfer.t1.from.w2.to.w3.approved')).toBe(false);
    expect(selectsSubject(selection, 'inventory.product.p.warehouse.w1.variant._.uom._.updated')).toBe(true);
  });
});

describe('resolveRange', () => {
  const stream = { firstSeq: 10, lastSeq: 100 };

  it('intersects the requested sequences with what the stream holds', () => {
    expect(resolveRange({}, stream)).toEqual({ start: 10, end: 100 });
    expect(resolveRange({ fromSeq: 5, toSeq: 500 }, stream)).toEqual({ start: 10, end: 100 });
    expect(resolveRange({ fromSeq: 20, toSeq: 30 }, stream)).toEqual({ start: 20, end: 30 });
  });

  it('starts at the first sequence of --since when that is later', () => {
    expect(resolveRange({ fromSeq: 20 }, stream, { timeStart: 42 })).toEqual({ start: 42, end: 100 });
  });

  it('is open-ended for a live tail', () => {
    expect(resolveRange({}, stream, { follow: true })).toEqual({ start: 10, end: Number.POSITIVE_INFINITY });
  });

  it('is null when nothing can match', () => {
    expect(resolveRange({ fromSeq: 101 }, stream)).toBeNull();
    expect(resolveRange({ toSeq: 9 }, stream)).toBeNull();
    expect(resolveRange({}, { firstSeq: 1, lastSeq: 0 })).toBeNull();
  });
});
