import type { AccessClaims, Transfer, TransferAction, TransferEventData } from '@inv/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type CallOptions,
  failedAnswer,
  newTransferBody,
  publishAnswer,
  reservedAnswer,
  type TransferFixture,
  transferFixture,
  uniqueId,
} from './support.js';

/** Tokens naming one side only: A is the source, B the destination of every transfer here. */
const as = (sub: string, warehouses: string[], role: AccessClaims['roles'][number]): CallOptions => ({
  claims: { sub, warehouses, roles: [role] },
});
const managerOfA = as('manager-a', ['wh-a'], 'manager');
const clerkOfA = as('clerk-a', ['wh-a'], 'clerk');
const managerOfB = as('manager-b', ['wh-b'], 'manager');
const clerkOfB = as('clerk-b', ['wh-b'], 'clerk');
const clerkOfC = as('clerk-c', ['wh-c'], 'clerk');

const BODY_OF: Partial<Record<TransferAction, (t: Transfer) => unknown>> = {
  reject: () => ({ reason: 'not now' }),
  cancel: () => ({ reason: 'not now' }),
  receive: (t) => ({ lines: t.lines.map((l) => ({ lineId: l.lineId, receivedQuantity: 0 })) }),
};

describe('transfer permission matrix over REST (refused side)', () => {
  let f: TransferFixture;
  beforeAll(async () => {
    f = await transferFixture();
  });
  afterAll(async () => f?.close());

  const create = async (by: CallOptions = clerkOfB) => {
    const body = newTransferBody([{ productId: uniqueId('p'), quantity: 40 }], {
      sourceWarehouseId: 'wh-a',
      destinationWarehouseId: 'wh-b',
    });
    const reply = await f.api.create(body, by);
    expect(reply.status, JSON.stringify(reply.body)).toBe(201);
    return reply.body;
  };
  const step = async (transfer: Transfer, action: TransferAction, by: CallOptions) => {
    const reply = await f.api.act(transfer.transferId, action, BODY_OF[action]?.(transfer) ?? {}, by);
    expect(reply.status, `${action}: ${JSON.stringify(reply.body)}`).toBe(200);
    return reply.body as Transfer;
  };
  /** Drives a new A→B transfer, each step by the side the matrix names, up to (and excluding) `action`. */
  const readyFor = async (action: TransferAction): Promise<Transfer> => {
    let t = await create();
    if (['approve', 'reject', 'cancel'].includes(action)) return t;
    t = await step(t, 'approve', managerOfA);
    await publishAnswer(f.nc, reservedAnswer(t));
    t = await f.api.until(t.transferId, (x) => x.reservationStatus === 'reserved', 'reservation');
    if (action === 'start-picking') return t;
    t = await step(t, 'start-picking', clerkOfA);
    if (action === 'pack') return t;
    t = await step(t, 'pack', clerkOfA);
    if (action === 'ship') return t;
    t = await step(t, 'ship', clerkOfA);
    if (action === 'receive') return t;
    return step(t, 'receive', clerkOfB);
  };
  /** The action is refused with 403 naming the missing claim, and the transfer did not move. */
  const expectRefused = async (
    action: TransferAction,
    by: CallOptions,
    missing: { warehouseId: string; side: string; role: string },
  ) => {
    const transfer = await readyFor(action);
    const reply = await f.api.act(transfer.transferId, action, BODY_OF[action]?.(transfer) ?? {}, by);
    expect(reply.status, `${action}: ${JSON.stringify(reply.body)}`).toBe(403);
    expect(reply.body.code).toBe('FORBIDDEN');
    expect(reply.body.details).toMatchObject({ action, ...missing });
    expect(reply.body.message).toContain(`${missing.role} of ${missing.warehouseId}`);
    const after = await f.api.get(transfer.transferId);
    expect(after.body.version).toBe(transfer.version);
    return transfer;
  };

  const SOURCE_MANAGER = { warehouseId: 'wh-a', side: 'source', role: 'manager' };
  const SOURCE_CLERK = { warehouseId: 'wh-a', side: 'source', role: 'clerk' };
  const DESTINATION_CLERK = { warehouseId: 'wh-b', side: 'destination', role: 'clerk' };

  it('refuses a B-only manager approving or rejecting an A→B transfer', async () => {
    await expectRefused('approve', managerOfB, SOURCE_MANAGER);
    await expectRefused('reject', managerOfB, SOURCE_MANAGER);
  });

  it('refuses an A clerk approving: deciding needs the manager role (checked before the warehouse)', async () => {
    const transfer = await create();
    const reply = await f.api.act(transfer.transferId, 'approve', {}, clerkOfA);
    expect(reply.status).toBe(403);
    expect(reply.body.details).toEqual({ permission: 'transfer:decide' });
  });

  it.each(['start-picking', 'pack', 'ship'] as const)(
    'refuses a B-only manager the source step %s',
    async (action) => {
      await expectRefused(action, managerOfB, SOURCE_CLERK);
    },
  );

  it.each(['receive', 'complete'] as const)(
    'refuses an A-only clerk (and an A-only manager) the destination step %s',
    async (action) => {
      await expectRefused(action, clerkOfA, DESTINATION_CLERK);
      await expectRefused(action, managerOfA, DESTINATION_CLERK);
    },
  );

  it('refuses cancelling by a B clerk who did not request it, and lets the requester and a manager of A', async () => {
    const transfer = await expectRefused('cancel', as('other-b', ['wh-b'], 'clerk'), SOURCE_MANAGER);
    expect((await f.api.get(transfer.transferId)).body.status).toBe('requested');
    const refusedManager = await f.api.act(transfer.transferId, 'cancel', { reason: 'x' }, managerOfB);
    expect(refusedManager.status).toBe(403);
    expect(refusedManager.body.details).toMatchObject({ requesterMay: true });
    await step(transfer, 'cancel', clerkOfB); // clerkOfB requested it
    await step(await create(), 'cancel', managerOfA);
  });

  it('lets a clerk of either end request, and refuses a clerk of neither, naming both ends', async () => {
    await create(clerkOfA);
    await create(clerkOfB);
    const body = newTransferBody([{ productId: 'p', quantity: 1 }], {
      sourceWarehouseId: 'wh-a',
      destinationWarehouseId: 'wh-b',
    });
    const refused = await f.api.create(body, clerkOfC);
    expect(refused.status).toBe(403);
    expect(refused.body.details.required).toEqual([
      { side: 'destination', warehouseId: 'wh-b', role: 'clerk' },
      { side: 'source', warehouseId: 'wh-a', role: 'clerk' },
    ]);
  });

  it('lets every step be taken by the side the matrix names', async () => {
    const done = await step(await readyFor('complete'), 'complete', clerkOfB);
    expect(done.status).toBe('completed');
    expect(done.history.map((h) => h.actor)).toEqual([
      'clerk-b',
      'manager-a',
      'clerk-a',
      'clerk-a',
      'clerk-a',
      'clerk-b',
      'clerk-b',
    ]);
  });

  it('keeps reads open to both ends and closed to others', async () => {
    const transfer = await create();
    for (const by of [clerkOfA, managerOfB, as('viewer-b', ['wh-b'], 'viewer')]) {
      expect((await f.api.get(transfer.transferId, by)).status).toBe(200);
    }
    expect((await f.api.get(transfer.transferId, clerkOfC)).status).toBe(403);
  });

  describe('a reservation failure names the source stock only to callers of the source', () => {
    let rejected: Transfer;
    beforeAll(async () => {
      const approved = await step(await create(), 'approve', managerOfA);
      await publishAnswer(f.nc, failedAnswer(approved, 60));
      rejected = await f.api.until(approved.transferId, (t) => t.status === 'rejected', 'rejection');
    });

    it('shows the quantities to the source', async () => {
      const seen = (await f.api.get(rejected.transferId, clerkOfA)).body;
      expect(seen.rejectionReason).toBe(
        `INSUFFICIENT_STOCK at wh-a: line-1 (${rejected.lines[0]!.productId}) requested 40, available 60`,
      );
    });

    it('hides them from a B-only caller in the transfer, its history, the list and a 409', async () => {
      const seen = (await f.api.get(rejected.transferId, clerkOfB)).body;
      expect(seen.rejectionReason).toBe(
        'the stock could not be reserved at wh-a (quantities are shown to callers of wh-a)',
      );
      expect(JSON.stringify(seen)).not.toMatch(/available|requested 40/);
      const list = await f.api.call('GET', '/api/transfers?warehouseId=wh-b&limit=200', clerkOfB);
      expect(JSON.stringify(list.body)).not.toMatch(/available 60/);
      const stale = await f.api.act(
        rejected.transferId,
        'receive',
        { lines: [{ lineId: 'line-1', receivedQuantity: 0 }], expectedVersion: 1 },
        clerkOfB,
      );
      expect(stale.status).toBe(409);
      expect(JSON.stringify(stale.body)).not.toMatch(/available 60/);
    });

    it('publishes the rejection event without the quantities', async () => {
      const events = await f.eventsOf(rejected.transferId);
      const rejection = events.find((s) => s.event.type === 'transfer.rejected')!;
      expect((rejection.event.data as TransferEventData).reason).toBe(
        'the stock could not be reserved at wh-a (quantities are shown to callers of wh-a)',
      );
    });
  });
});

describe('separate approver (TRANSFER_SEPARATE_APPROVER=true)', () => {
  let f: TransferFixture;
  beforeAll(async () => {
    f = await transferFixture({ env: { TRANSFER_SEPARATE_APPROVER: 'true' } });
  });
  afterAll(async () => f?.close());

  it('refuses the requester approving their own transfer and lets another manager of the source', async () => {
    const requester = as('manager-a1', ['wh-a'], 'manager');
    const created = await f.api.create(
      newTransferBody([{ productId: 'p', quantity: 1 }], {
        sourceWarehouseId: 'wh-a',
        destinationWarehouseId: 'wh-b',
      }),
      requester,
    );
    expect(created.status).toBe(201);
    const own = await f.api.act(created.body.transferId, 'approve', {}, requester);
    expect(own.status).toBe(403);
    expect(own.body.details).toMatchObject({ reason: 'SEPARATE_APPROVER', warehouseId: 'wh-a' });
    const other = await f.api.act(
      created.body.transferId,
      'approve',
      {},
      as('manager-a2', ['wh-a'], 'manager'),
    );
    expect(other.status).toBe(200);
  });
});
