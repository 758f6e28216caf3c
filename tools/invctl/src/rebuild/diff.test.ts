import { describe, expect, it } from 'vitest';
import { chainDifferences, diffStock, type StockState } from './diff.js';

const record = (inventoryId: string, overrides: Partial<StockState> = {}): StockState => ({
  inventoryId,
  productId: 'p1',
  warehouseId: 'w1',
  variantId: null,
  uomId: null,
  quantityAvailable: 10,
  quantityReserved: 2,
  minimumStock: 5,
  version: 3,
  ...overrides,
});

describe('diffStock', () => {
  it('finds nothing when both sides agree', () => {
    expect(diffStock([record('a'), record('b')], [record('b'), record('a')])).toEqual([]);
  });

  it('names every field that differs with both values', () => {
    expect(
      diffStock([record('a', { quantityAvailable: 17, version: 4, uomId: 'box' })], [record('a')]),
    ).toEqual([
      { inventoryId: 'a', field: 'quantityAvailable', live: 17, rebuilt: 10 },
      { inventoryId: 'a', field: 'uomId', live: 'box', rebuilt: null },
      { inventoryId: 'a', field: 'version', live: 4, rebuilt: 3 },
    ]);
  });

  it('reports records found on one side only', () => {
    expect(diffStock([record('a')], [record('b')])).toEqual([
      { inventoryId: 'a', field: 'record', live: 'present', rebuilt: 'missing' },
      { inventoryId: 'b', field: 'record', live: 'missing', rebuilt: 'present' },
    ]);
  });

  it('does not compare a minimum stock the source does not carry', () => {
    expect(diffStock([record('a', { minimumStock: 9 })], [record('a', { minimumStock: null })])).toEqual([]);
  });
});

describe('chainDifferences', () => {
  it('describes a movement that does not continue the previous one', () => {
    expect(
      chainDifferences([
        {
          inventoryId: 'a',
          recordVersion: 4,
          expectedVersion: 4,
          availableBefore: 12,
          previousAvailableAfter: 10,
          reservedBefore: 0,
          previousReservedAfter: 0,
        },
      ]),
    ).toEqual([
      {
        inventoryId: 'a',
        field: 'ledger',
        live: 'v4: before available 12, reserved 0',
        rebuilt: 'v4: after available 10, reserved 0',
        note: 'movement does not continue the previous one',
      },
    ]);
  });
});
