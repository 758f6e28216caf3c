import { DomainError, type ReservationState } from '@inv/contracts';
import { describe, expect, it } from 'vitest';
import {
  decideTransition,
  type HeldLine,
  planCommit,
  quantitiesPerRecord,
  shortagesOf,
} from './reservation.js';

const now = new Date('2026-12-01T10:00:00Z');
const later = new Date('2026-12-01T10:15:00Z');
const earlier = new Date('2026-12-01T09:00:00Z');

function codeOf(run: () => unknown): string | null {
  try {
    run();
    return null;
  } catch (error) {
    return error instanceof DomainError ? error.code : 'not a DomainError';
  }
}

describe('reservation transitions', () => {
  it('moves an active reservation to committed, released or (extended) active', () => {
    expect(decideTransition('active', 'commit', later, now)).toEqual({ apply: true, to: 'committed' });
    expect(decideTransition('active', 'release', later, now)).toEqual({ apply: true, to: 'released' });
    expect(decideTransition('active', 'extend', later, now)).toEqual({ apply: true, to: 'active' });
  });

  it('answers a repeated final action with no change', () => {
    expect(decideTransition('committed', 'commit', later, now)).toEqual({ apply: false });
    expect(decideTransition('released', 'release', later, now)).toEqual({ apply: false });
    expect(decideTransition('expired', 'release', earlier, now)).toEqual({ apply: false });
  });

  it.each([
    ['released', 'commit'],
    ['expired', 'commit'],
    ['committed', 'release'],
    ['committed', 'extend'],
    ['released', 'extend'],
    ['expired', 'extend'],
  ] as const)('refuses to go from %s by %s with INVALID_TRANSITION', (state, action) => {
    expect(codeOf(() => decideTransition(state, action, later, now))).toBe('INVALID_TRANSITION');
  });

  it('refuses to commit or extend a past-due reservation but lets it be released', () => {
    expect(codeOf(() => decideTransition('active', 'commit', earlier, now))).toBe('INVALID_TRANSITION');
    expect(codeOf(() => decideTransition('active', 'extend', now, now))).toBe('INVALID_TRANSITION');
    expect(decideTransition('active', 'release', earlier, now)).toEqual({ apply: true, to: 'released' });
  });

  it('expires only an active reservation that is due', () => {
    expect(decideTransition('active', 'expire', earlier, now)).toEqual({ apply: true, to: 'expired' });
    expect(decideTransition('active', 'expire', later, now)).toEqual({ apply: false });
    for (const state of ['committed', 'released', 'expired'] as ReservationState[]) {
      expect(decideTransition(state, 'expire', earlier, now)).toEqual({ apply: false });
    }
  });
});

const key = { productId: 'p1', warehouseId: 'w1', variantId: null, uomId: null };

describe('reservation stock checks', () => {
  it('sums lines naming the same record before comparing with what is available', () => {
    const lines = [
      { ...key, quantity: 3 },
      { ...key, variantId: undefined as unknown as null, quantity: 3 },
    ];
    const shortages = shortagesOf(lines, () => ({ available: 5, reserved: 0, minimumStock: 0 }));
    expect(shortages).toEqual([{ ...key, requested: 6, available: 5 }]);
    expect(shortagesOf(lines, () => ({ available: 6, reserved: 0, minimumStock: 0 }))).toEqual([]);
  });

  it('treats a record that does not exist as holding nothing', () => {
    expect(shortagesOf([{ ...key, quantity: 1 }], () => null)).toEqual([
      { ...key, requested: 1, available: 0 },
    ]);
  });

  it('groups quantities per record in inventory id order, leaving out zeros', () => {
    const sums = quantitiesPerRecord(
      [
        { inventoryId: 'b', q: 2 },
        { inventoryId: 'a', q: 1 },
        { inventoryId: 'b', q: 3 },
        { inventoryId: 'c', q: 0 },
      ],
      (l) => l.q,
    );
    expect([...sums]).toEqual([
      ['a', 1],
      ['b', 5],
    ]);
  });
});

describe('planCommit', () => {
  const lines: HeldLine[] = [
    { ...key, lineId: 'l1', inventoryId: 'a', quantity: 4 },
    { ...key, lineId: 'l2', inventoryId: 'b', quantity: 2 },
  ];

  it('commits every line in full without a list', () => {
    expect(planCommit(lines, undefined).map((o) => [o.committed, o.released])).toEqual([
      [4, 0],
      [2, 0],
    ]);
  });

  it('commits what is named and releases the rest of every line', () => {
    expect(planCommit(lines, [{ lineId: 'l1', quantity: 1 }]).map((o) => [o.committed, o.released])).toEqual([
      [1, 3],
      [0, 2],
    ]);
  });

  it.each([
    [[{ lineId: 'l9', quantity: 1 }], 'lines.0.lineId'],
    [[{ lineId: 'l2', quantity: 3 }], 'lines.0.quantity'],
    [
      [
        { lineId: 'l1', quantity: 1 },
        { lineId: 'l1', quantity: 1 },
      ],
      'lines.1.lineId',
    ],
  ])('refuses a partial commit %j naming %s', (partial, field) => {
    try {
      planCommit(lines, partial);
      expect.unreachable();
    } catch (error) {
      expect(error).toMatchObject({ code: 'VALIDATION_FAILED', field });
    }
  });
});
