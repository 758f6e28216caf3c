import { describe, expect, it } from 'vitest';
import { applyReservationAnswer, withoutSourceStock } from './reservation.js';
import { requestTransfer, type TransferState } from './transfer.js';
import { transition } from './transitions.js';

const now = new Date('2026-01-02T03:04:05Z');

function approved(): TransferState {
  const requested = requestTransfer(
    {
      transferId: 't1',
      sourceWarehouseId: 'A',
      destinationWarehouseId: 'B',
      lines: [{ productId: 'p1', quantity: 999_999 }],
    },
    'clerk-b',
    now,
  ).after;
  return transition(requested, 'approve', { actor: 'manager-a', reason: null }, now).after;
}

function rejectedForStock(): TransferState {
  const effect = applyReservationAnswer(
    approved(),
    {
      outcome: 'failed',
      reason: 'INSUFFICIENT_STOCK',
      warehouseId: 'A',
      shortages: [{ lineId: 'line-1', productId: 'p1', requested: 999_999, available: 60 }],
    },
    now,
  );
  if (!('change' in effect)) throw new Error('answer ignored');
  return effect.change.after;
}

describe('a transfer as seen without access to its source', () => {
  it("drops the source's quantities from a failed reservation's reason and history", () => {
    const full = rejectedForStock();
    expect(full.rejectionReason).toBe('INSUFFICIENT_STOCK at A: line-1 (p1) requested 999999, available 60');
    const seen = withoutSourceStock(full);
    const reason = 'the stock could not be reserved at A (quantities are shown to callers of A)';
    expect(seen.rejectionReason).toBe(reason);
    expect(seen.history.at(-1)).toMatchObject({ to: 'rejected', actor: 'system:inventory', reason });
    expect(JSON.stringify(seen)).not.toContain('available 60');
    expect(seen.lines).toEqual(full.lines);
  });

  it("leaves a transfer without a failed reservation as it is (a manager's cancel reason included)", () => {
    const byManager = transition(approved(), 'cancel', { actor: 'manager-a', reason: 'no truck' }, now).after;
    expect(withoutSourceStock(byManager)).toBe(byManager);
  });
});
