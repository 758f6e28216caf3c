import { DomainError } from '@inv/contracts';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { newRecord, RecordChangeSet } from './record.js';
import {
  applyDelta,
  changeForAdjust,
  crossingsOf,
  deficitOf,
  deltaForAdjust,
  deltas,
  EMPTY_LEVELS,
  isLowStock,
  isOutOfStock,
  resolveChange,
  type StockLevels,
  stockKeyString,
} from './stock.js';

const levels = (available: number, minimumStock = 0, reserved = 0): StockLevels => ({
  available,
  reserved,
  minimumStock,
});

describe('stock rules', () => {
  it('adds with in, removes with out and sets available with a count', () => {
    expect(applyDelta(levels(5), deltas.in(3)).after.available).toBe(8);
    expect(applyDelta(levels(5), deltas.out(5)).after.available).toBe(0);
    const counted = applyDelta(
      levels(5),
      deltaForAdjust(levels(5), { movementType: 'adjustment', quantity: 2 }),
    );
    expect(counted).toMatchObject({ quantityChange: -3, after: { available: 2 } });
  });

  it('describes an adjust without the record: a count resolves against whatever is available when it applies', () => {
    const count = changeForAdjust({ movementType: 'adjustment', quantity: 4, minimumStock: 2 });
    expect(count).toMatchObject({ movementType: 'adjustment', countedAvailable: 4, minimumStock: 2 });
    expect(resolveChange(levels(9), count)).toEqual({
      movementType: 'adjustment',
      quantityChange: -5,
      reservedChange: 0,
      minimumStock: 2,
    });
    expect(resolveChange(levels(-3), count).quantityChange).toBe(7);
    const out = changeForAdjust({ movementType: 'out', quantity: 3, allowNegative: true });
    expect(resolveChange(levels(1), out)).toEqual(deltas.out(3, true));
    fc.assert(
      fc.property(
        fc.integer({ min: -50, max: 50 }),
        fc.integer({ min: 0, max: 50 }),
        (available, quantity) => {
          const change = (movementType: 'in' | 'out' | 'adjustment') =>
            resolveChange(levels(available), changeForAdjust({ movementType, quantity })).quantityChange;
          expect([change('in'), change('out'), change('adjustment')]).toEqual([
            quantity,
            -quantity,
            quantity - available,
          ]);
        },
      ),
    );
  });

  it('refuses an out beyond available stock with INSUFFICIENT_STOCK unless negative stock is allowed', () => {
    const refusal = (() => {
      try {
        applyDelta(levels(2), deltas.out(3), { inventoryId: 'i-1' });
      } catch (error) {
        return error;
      }
    })();
    expect(refusal).toBeInstanceOf(DomainError);
    expect(refusal).toMatchObject({
      code: 'INSUFFICIENT_STOCK',
      field: 'quantity',
      details: { available: 2, requested: 3, inventoryId: 'i-1' },
    });
    expect(applyDelta(levels(2), deltas.out(3, true)).after.available).toBe(-1);
  });

  it('moves stock between available and reserved, never reserving what is not there', () => {
    const reserved = applyDelta(levels(10), deltas.reserve(4));
    expect(reserved.after).toMatchObject({ available: 6, reserved: 4 });
    expect(() => applyDelta(levels(3), deltas.reserve(4))).toThrow(DomainError);
    expect(applyDelta(reserved.after, deltas.release(4)).after).toMatchObject({ available: 10, reserved: 0 });
    expect(() => applyDelta(levels(10, 0, 1), deltas.release(2))).toThrow(DomainError);
  });

  it('ships a reservation out, taking anything shipped beyond it from available even below zero', () => {
    expect(applyDelta(levels(0, 0, 5), deltas.shipOut(5, 0)).after).toMatchObject({
      available: 0,
      reserved: 0,
    });
    expect(applyDelta(levels(1, 0, 5), deltas.shipOut(5, 2)).after).toMatchObject({
      available: -1,
      reserved: 0,
    });
  });

  it('calls a record low below a positive minimum and out of stock at zero or less', () => {
    expect(isLowStock(levels(4, 5))).toBe(true);
    expect(isLowStock(levels(5, 5))).toBe(false);
    expect(isLowStock(levels(0, 0))).toBe(false);
    expect(isOutOfStock(levels(0))).toBe(true);
    expect(isOutOfStock(levels(-2))).toBe(true);
    expect(isOutOfStock(levels(1))).toBe(false);
    expect(deficitOf(levels(3, 10))).toBe(7);
    expect(deficitOf(levels(12, 10))).toBe(0);
  });

  it('reports a threshold only when it is crossed, not on every change beyond it', () => {
    expect(crossingsOf(levels(10, 5), levels(4, 5))).toEqual({ lowStock: true, outOfStock: false });
    expect(crossingsOf(levels(4, 5), levels(3, 5))).toEqual({ lowStock: false, outOfStock: false });
    expect(crossingsOf(levels(3, 5), levels(0, 5))).toEqual({ lowStock: false, outOfStock: true });
    expect(crossingsOf(levels(10, 5), levels(0, 5))).toEqual({ lowStock: true, outOfStock: true });
    expect(crossingsOf(levels(0, 5), levels(-1, 5))).toEqual({ lowStock: false, outOfStock: false });
    // A new minimum can itself make a record low.
    expect(crossingsOf(levels(4, 0), levels(4, 5))).toEqual({ lowStock: true, outOfStock: false });
    // A record that does not exist yet counts as empty, without a minimum.
    expect(crossingsOf(EMPTY_LEVELS, levels(0))).toEqual({ lowStock: false, outOfStock: false });
    expect(crossingsOf(EMPTY_LEVELS, levels(2, 5))).toEqual({ lowStock: true, outOfStock: false });
  });

  it('books one version per change, each change seeing the state the previous one left', () => {
    const changes = RecordChangeSet.of(null, () =>
      newRecord('i-1', { productId: 'p', warehouseId: 'w', variantId: null, uomId: null }, new Date()),
    );
    changes.apply(deltas.in(5), { actor: 'a' });
    changes.apply(deltas.reserve(2), { actor: 'a' });
    expect(changes.isNew).toBe(true);
    expect(changes.entries.map((e) => [e.version, e.before.available, e.after.available])).toEqual([
      [1, 0, 5],
      [2, 5, 3],
    ]);
    expect(changes.current).toMatchObject({ version: 2, levels: { available: 3, reserved: 2 } });
  });

  it('keeps available and reserved equal to the sum of the deltas, and reserved never negative', () => {
    const operation = fc.oneof(
      fc.integer({ min: 1, max: 20 }).map((q) => deltas.in(q)),
      fc.integer({ min: 1, max: 20 }).map((q) => deltas.out(q)),
      fc.integer({ min: 1, max: 20 }).map((q) => deltas.reserve(q)),
      fc.integer({ min: 1, max: 20 }).map((q) => deltas.release(q)),
      fc.integer({ min: 0, max: 20 }).map((q) => deltas.shipOut(q, 0)),
    );
    fc.assert(
      fc.property(fc.array(operation, { maxLength: 60 }), (operations) => {
        let state = EMPTY_LEVELS;
        let sumAvailable = 0;
        let sumReserved = 0;
        for (const delta of operations) {
          try {
            const applied = applyDelta(state, delta);
            state = applied.after;
            sumAvailable += applied.quantityChange;
            sumReserved += applied.reservedChange;
          } catch (error) {
            expect(error).toMatchObject({ code: 'INSUFFICIENT_STOCK' });
          }
          expect(state.available).toBeGreaterThanOrEqual(0);
          expect(state.reserved).toBeGreaterThanOrEqual(0);
        }
        expect([state.available, state.reserved]).toEqual([sumAvailable, sumReserved]);
      }),
    );
  });
});

describe('stockKeyString', () => {
  const key = (productId: string, warehouseId: string, variantId: string | null, uomId: string | null) =>
    stockKeyString({ productId, warehouseId, variantId, uomId });

  it('tells apart keys whose fields joined with a separator would read the same', () => {
    expect(key('p/w1', 'x', null, null)).not.toBe(key('p', 'w1/x', null, null));
    expect(key('p', 'w', 'v', null)).not.toBe(key('p', 'w', null, 'v'));
  });

  it('gives the same string for equal keys', () => {
    expect(key('p', 'w', 'v', 'each')).toBe(key('p', 'w', 'v', 'each'));
  });
});
