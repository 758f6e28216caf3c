import {
  TRANSFER_ACTIONS,
  type Transfer,
  type TransferAction,
  type TransferEventData,
  type TransferStatus,
} from '@inv/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CALLER_MAY, HAPPY_PATH_EVENTS } from './expected-workflow.js';
import {
  newTransferBody,
  publishAnswer,
  reservedAnswer,
  type TransferFixture,
  transferFixture,
  uniqueId,
} from './support.js';

const ACTIONS = Object.keys(TRANSFER_ACTIONS) as TransferAction[];

describe('transfer workflow over REST (inventory answers faked on the bus)', () => {
  let f: TransferFixture;
  beforeAll(async () => {
    f = await transferFixture();
  });
  afterAll(async () => f?.close());

  const create = async (quantities = [5, 3]) => {
    const reply = await f.api.create(
      newTransferBody(quantities.map((quantity) => ({ productId: uniqueId('p'), quantity }))),
    );
    expect(reply.status).toBe(201);
    return reply.body;
  };
  /** Approves and plays inventory's part: the reservation succeeds. */
  const reserve = async (transfer: Transfer) => {
    const approved = await f.api.must(transfer.transferId, 'approve');
    await publishAnswer(f.nc, reservedAnswer(approved));
    return f.api.until(transfer.transferId, (t) => t.reservationStatus === 'reserved', 'reservation');
  };

  it('runs the happy path and publishes every step, in order, on subjects naming the transfer and both warehouses', async () => {
    const transfer = await create();
    const id = transfer.transferId;
    // No body at all is fine for the transitions that need nothing.
    const approve = await f.api.call('POST', `/api/transfers/${id}/approve`);
    expect(approve.status, JSON.stringify(approve.body)).toBe(200);
    expect(approve.body).toMatchObject({ status: 'approved', reservationStatus: 'pending' });
    await publishAnswer(f.nc, reservedAnswer(approve.body));
    await f.api.until(id, (t) => t.reservationStatus === 'reserved');
    await f.api.must(id, 'start-picking', { reason: 'wave 3' });
    await f.api.must(id, 'pack');
    const shipped = await f.api.must(id, 'ship');
    expect(shipped.reservationStatus).toBe('consumed');
    expect(shipped.lines.map((l) => l.shippedQuantity)).toEqual([5, 3]);
    const received = await f.api.must(id, 'receive', {
      lines: [
        { lineId: 'line-1', receivedQuantity: 4 },
        { lineId: 'line-2', receivedQuantity: 3 },
      ],
    });
    expect(received.lines.map((l) => l.discrepancy)).toEqual([1, 0]);
    expect(received.hasDiscrepancy).toBe(true);
    const completed = await f.api.must(id, 'complete', { reason: 'all booked' });
    expect(completed.status).toBe('completed');
    expect(completed.version).toBe(8);
    expect(completed.history.map((h) => [h.from, h.to])).toEqual([
      [null, 'requested'],
      ['requested', 'approved'],
      ['approved', 'picking_started'],
      ['picking_started', 'packed'],
      ['packed', 'shipped'],
      ['shipped', 'received'],
      ['received', 'completed'],
    ]);
    expect(completed.history[2]).toMatchObject({ actor: 'test-user', reason: 'wave 3' });

    const stored = await f.eventsOf(id);
    const types = stored.map((s) => s.event.type);
    expect(types).toEqual(HAPPY_PATH_EVENTS);
    for (const s of stored) {
      const token = s.event.type.replace('transfer.', '');
      expect(s.subject).toBe(`transfer.${id}.from.wh-src.to.wh-dst.${token}`);
      expect(s.msgId).toBe(s.event.id);
    }
    const data = stored.map((s) => s.event.data as TransferEventData);
    expect(data.map((d) => d.version)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(data.map((d) => d.previousStatus)).toEqual([
      null,
      'requested',
      'approved',
      'approved',
      'picking_started',
      'packed',
      'shipped',
      'received',
    ]);
    expect(data[2]).toMatchObject({
      status: 'approved',
      reservationStatus: 'reserved',
      actor: 'system:inventory',
    });
    expect(data[6]!.lines[0]).toMatchObject({ shippedQuantity: 5, receivedQuantity: 4, discrepancy: 1 });
    expect(data[7]).toMatchObject({ status: 'completed', reason: 'all booked', actor: 'test-user' });
    expect(stored.every((s) => s.event.aggregate.id === id)).toBe(true);
  });

  it('refuses to start picking until inventory has reserved the stock', async () => {
    const transfer = await create();
    await f.api.must(transfer.transferId, 'approve');
    const early = await f.api.act(transfer.transferId, 'start-picking');
    expect(early.status).toBe(409);
    expect(early.body).toMatchObject({
      code: 'RESERVATION_PENDING',
      details: { currentStatus: 'approved', reservationStatus: 'pending' },
    });
  });

  it('needs a reason to reject or cancel', async () => {
    const transfer = await create();
    for (const action of ['reject', 'cancel'] as const) {
      const reply = await f.api.act(transfer.transferId, action, {});
      expect(reply.status).toBe(400);
      expect(reply.body.field).toBe('reason');
    }
  });

  it('keeps the rejection reason of a manager and the cancellation history', async () => {
    const rejected = await f.api.must((await create()).transferId, 'reject', { reason: 'budget' });
    expect(rejected).toMatchObject({
      status: 'rejected',
      rejectionReason: 'budget',
      reservationStatus: 'none',
    });
    const reserved = await reserve(await create());
    const cancelled = await f.api.must(reserved.transferId, 'cancel', { reason: 'customer withdrew' });
    expect(cancelled).toMatchObject({ status: 'cancelled', reservationStatus: 'released' });
    expect(cancelled.history.at(-1)).toMatchObject({
      from: 'approved',
      to: 'cancelled',
      reason: 'customer withdrew',
    });
  });

  describe('receipt', () => {
    let shipped: Transfer;
    beforeAll(async () => {
      const reserved = await reserve(await create([5, 3]));
      await f.api.must(reserved.transferId, 'start-picking');
      await f.api.must(reserved.transferId, 'pack');
      shipped = await f.api.must(reserved.transferId, 'ship');
    });

    const cases: [string, unknown[], string][] = [
      [
        'more than was shipped',
        [
          { lineId: 'line-1', receivedQuantity: 6 },
          { lineId: 'line-2', receivedQuantity: 3 },
        ],
        'lines.0.receivedQuantity',
      ],
      ['a line that is not in the transfer', [{ lineId: 'line-7', receivedQuantity: 1 }], 'lines.0.lineId'],
      [
        'the same line twice',
        [
          { lineId: 'line-2', receivedQuantity: 1 },
          { lineId: 'line-2', receivedQuantity: 1 },
        ],
        'lines.1.lineId',
      ],
      ['a missing line', [{ lineId: 'line-2', receivedQuantity: 3 }], 'lines'],
      [
        'a negative quantity',
        [
          { lineId: 'line-1', receivedQuantity: -1 },
          { lineId: 'line-2', receivedQuantity: 3 },
        ],
        'lines.0.receivedQuantity',
      ],
    ];
    for (const [what, lines, field] of cases) {
      it(`refuses ${what} with 400 naming ${field}`, async () => {
        const reply = await f.api.act(shipped.transferId, 'receive', { lines });
        expect(reply.status).toBe(400);
        expect(reply.body).toMatchObject({ code: 'VALIDATION_FAILED', field });
        expect((await f.api.get(shipped.transferId)).body.status).toBe('shipped');
      });
    }
  });

  describe('every illegal transition is refused with 409 naming the current status', () => {
    /** A valid body for each action, so that only the transition itself can be the problem. */
    const bodyFor = (action: TransferAction, transfer: Transfer) => {
      if (action === 'receive') {
        return { lines: transfer.lines.map((l) => ({ lineId: l.lineId, receivedQuantity: 0 })) };
      }
      return action === 'reject' || action === 'cancel' ? { reason: 'test' } : {};
    };
    /** Brings a new transfer to `status` through the API. */
    const reach = async (status: TransferStatus): Promise<Transfer> => {
      const transfer = await create([2]);
      const id = transfer.transferId;
      if (status === 'requested') return transfer;
      if (status === 'rejected') return f.api.must(id, 'reject', { reason: 'no' });
      if (status === 'cancelled') return f.api.must(id, 'cancel', { reason: 'no' });
      let current = await reserve(transfer);
      const path: TransferAction[] = ['start-picking', 'pack', 'ship', 'receive', 'complete'];
      for (const action of path) {
        if (current.status === status) break;
        current = await f.api.must(id, action, bodyFor(action, current));
      }
      return current;
    };

    for (const status of Object.keys(CALLER_MAY) as TransferStatus[]) {
      it(`from ${status}`, async () => {
        const transfer = await reach(status);
        expect(transfer.status).toBe(status);
        const illegal = ACTIONS.filter((a) => !CALLER_MAY[status].includes(a));
        for (const action of illegal) {
          const reply = await f.api.act(transfer.transferId, action, bodyFor(action, transfer));
          expect(reply.status, `${action} from ${status}`).toBe(409);
          expect(reply.body).toMatchObject({
            code: 'INVALID_TRANSITION',
            details: { currentStatus: status, action, allowedActions: CALLER_MAY[status] },
          });
          expect(reply.body.message).toContain(status);
        }
        const after = (await f.api.get(transfer.transferId)).body;
        expect(after.version).toBe(transfer.version);
      });
    }
  });
});
