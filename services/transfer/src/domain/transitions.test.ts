import { DomainError } from '@inv/contracts';
import { describe, expect, it } from 'vitest';
import { applyReservationAnswer, INVENTORY_ACTOR } from './reservation.js';
import { discrepancyOf, hasDiscrepancy, requestTransfer, type TransferState } from './transfer.js';
import { receiveLines, transition } from './transitions.js';

const now = new Date('2026-01-02T03:04:05Z');
const later = new Date('2026-01-02T04:00:00Z');

function requested(): TransferState {
  return requestTransfer(
    {
      transferId: 't1',
      sourceWarehouseId: 'src',
      destinationWarehouseId: 'dst',
      lines: [
        { productId: 'p1', quantity: 10 },
        { productId: 'p2', variantId: 'v1', uomId: 'box', quantity: 4 },
      ],
    },
    'clerk-1',
    now,
  ).after;
}

const by = (actor: string, reason: string | null = null) => ({ actor, reason });

function reserved(): TransferState {
  const approved = transition(requested(), 'approve', by('manager-1'), now).after;
  const effect = applyReservationAnswer(approved, { outcome: 'reserved' }, now);
  if (!('change' in effect)) throw new Error('reservation was ignored');
  return effect.change.after;
}

function shipped(): TransferState {
  let t = transition(reserved(), 'start-picking', by('clerk-1'), now).after;
  t = transition(t, 'pack', by('clerk-1'), now).after;
  return transition(t, 'ship', by('clerk-1'), now).after;
}

function errorOf(run: () => unknown): DomainError {
  try {
    run();
  } catch (error) {
    if (error instanceof DomainError) return error;
    throw error;
  }
  throw new Error('no error');
}

describe('transfer transitions', () => {
  it('starts requested, version 1, with numbered lines and a history entry by the requester', () => {
    const change = requestTransfer(
      {
        transferId: 't1',
        sourceWarehouseId: 'a',
        destinationWarehouseId: 'b',
        lines: [{ productId: 'p', quantity: 1 }],
      },
      'clerk-1',
      now,
    );
    expect(change.eventType).toBe('transfer.requested');
    expect(change.after).toMatchObject({ status: 'requested', reservationStatus: 'none', version: 1 });
    expect(change.after.lines[0]).toMatchObject({ lineId: 'line-1', variantId: null, uomId: null });
    expect(change.after.history).toEqual([
      { from: null, to: 'requested', actor: 'clerk-1', reason: null, at: now },
    ]);
  });

  it('records who made each transition, when and why, and bumps the version each time', () => {
    const change = transition(requested(), 'approve', by('manager-1', 'needed for the sale'), later);
    expect(change.eventType).toBe('transfer.approved');
    expect(change.after.version).toBe(2);
    expect(change.after.reservationStatus).toBe('pending');
    expect(change.after.history.at(-1)).toEqual({
      from: 'requested',
      to: 'approved',
      actor: 'manager-1',
      reason: 'needed for the sale',
      at: later,
    });
    expect(change.before?.status).toBe('requested');
  });

  it('refuses to start picking while the reservation is pending', () => {
    const approved = transition(requested(), 'approve', by('m'), now).after;
    const error = errorOf(() => transition(approved, 'start-picking', by('c'), now));
    expect(error.code).toBe('RESERVATION_PENDING');
    expect(error.details).toMatchObject({ currentStatus: 'approved', reservationStatus: 'pending' });
  });

  it('ships every line in full and consumes the reservation', () => {
    const t = shipped();
    expect(t.status).toBe('shipped');
    expect(t.reservationStatus).toBe('consumed');
    expect(t.lines.map((l) => l.shippedQuantity)).toEqual([10, 4]);
  });

  it('keeps a rejection reason given by a manager, leaving nothing reserved', () => {
    const t = transition(requested(), 'reject', by('manager-1', 'not this week'), now).after;
    expect(t).toMatchObject({
      status: 'rejected',
      reservationStatus: 'none',
      rejectionReason: 'not this week',
    });
  });

  it('releases a pending or granted reservation on cancel, and reserves nothing on an early cancel', () => {
    const pending = transition(requested(), 'approve', by('m'), now).after;
    expect(transition(pending, 'cancel', by('c', 'x'), now).after.reservationStatus).toBe('released');
    expect(transition(reserved(), 'cancel', by('c', 'x'), now).after.reservationStatus).toBe('released');
    expect(transition(requested(), 'cancel', by('c', 'x'), now).after.reservationStatus).toBe('none');
  });

  it('refuses an illegal transition without changing anything', () => {
    const t = requested();
    const error = errorOf(() => transition(t, 'ship', by('c'), now));
    expect(error.code).toBe('INVALID_TRANSITION');
    expect(error.details).toMatchObject({
      currentStatus: 'requested',
      allowedActions: ['approve', 'reject', 'cancel'],
    });
    expect(t.status).toBe('requested');
  });
});

describe('receipt', () => {
  it('records received quantities and the shortfall as a discrepancy', () => {
    const t = transition(
      shipped(),
      'receive',
      {
        ...by('clerk-2'),
        received: [
          { lineId: 'line-2', receivedQuantity: 4 },
          { lineId: 'line-1', receivedQuantity: 7 },
        ],
      },
      now,
    ).after;
    expect(t.lines.map((l) => [l.receivedQuantity, discrepancyOf(l)])).toEqual([
      [7, 3],
      [4, 0],
    ]);
    expect(hasDiscrepancy(t)).toBe(true);
  });

  it('has no discrepancy when everything arrived', () => {
    const t = transition(
      shipped(),
      'receive',
      {
        ...by('c'),
        received: [
          { lineId: 'line-1', receivedQuantity: 10 },
          { lineId: 'line-2', receivedQuantity: 4 },
        ],
      },
      now,
    ).after;
    expect(hasDiscrepancy(t)).toBe(false);
  });

  const lines = () => shipped().lines;
  const cases: [string, { lineId: string; receivedQuantity: number }[], string][] = [
    [
      'more than shipped',
      [
        { lineId: 'line-1', receivedQuantity: 11 },
        { lineId: 'line-2', receivedQuantity: 4 },
      ],
      'lines.0.receivedQuantity',
    ],
    ['an unknown line', [{ lineId: 'line-9', receivedQuantity: 1 }], 'lines.0.lineId'],
    [
      'a line twice',
      [
        { lineId: 'line-1', receivedQuantity: 1 },
        { lineId: 'line-1', receivedQuantity: 1 },
      ],
      'lines.1.lineId',
    ],
    ['a missing line', [{ lineId: 'line-1', receivedQuantity: 10 }], 'lines'],
  ];
  for (const [what, received, field] of cases) {
    it(`refuses ${what}, naming ${field}`, () => {
      const error = errorOf(() => receiveLines(lines(), received));
      expect(error.code).toBe('VALIDATION_FAILED');
      expect(error.field).toBe(field);
    });
  }
});

describe('reservation answers', () => {
  const approved = () => transition(requested(), 'approve', by('m'), now).after;

  it('marks the stock reserved without a status change and announces it', () => {
    const effect = applyReservationAnswer(approved(), { outcome: 'reserved' }, later);
    if (!('change' in effect)) throw new Error('ignored');
    expect(effect.change.eventType).toBe('transfer.stock_reserved');
    expect(effect.change.transition).toBeNull();
    expect(effect.change.after).toMatchObject({
      status: 'approved',
      reservationStatus: 'reserved',
      version: 3,
    });
  });

  it('rejects the transfer as the system when the source lacks stock, with the shortage as reason', () => {
    const effect = applyReservationAnswer(
      approved(),
      {
        outcome: 'failed',
        reason: 'INSUFFICIENT_STOCK',
        warehouseId: 'src',
        shortages: [{ lineId: 'line-1', productId: 'p1', requested: 10, available: 3 }],
      },
      later,
    );
    if (!('change' in effect)) throw new Error('ignored');
    expect(effect.change.eventType).toBe('transfer.rejected');
    expect(effect.change.actor).toBe(INVENTORY_ACTOR);
    expect(effect.change.after).toMatchObject({ status: 'rejected', reservationStatus: 'failed' });
    expect(effect.change.after.rejectionReason).toBe(
      'INSUFFICIENT_STOCK at src: line-1 (p1) requested 10, available 3',
    );
    expect(effect.change.after.history.at(-1)).toMatchObject({
      from: 'approved',
      to: 'rejected',
      actor: INVENTORY_ACTOR,
    });
  });

  it('ignores an answer for a transfer cancelled meanwhile or answered before', () => {
    const cancelled = transition(approved(), 'cancel', by('c', 'changed plans'), now).after;
    expect(applyReservationAnswer(cancelled, { outcome: 'reserved' }, now)).toHaveProperty('ignored');
    expect(applyReservationAnswer(reserved(), { outcome: 'reserved' }, now)).toHaveProperty('ignored');
    expect(
      applyReservationAnswer(
        reserved(),
        { outcome: 'failed', reason: 'X', warehouseId: 'src', shortages: [] },
        now,
      ),
    ).toHaveProperty('ignored');
  });
});
