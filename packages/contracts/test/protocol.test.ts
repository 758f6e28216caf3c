import { describe, expect, it } from 'vitest';
import {
  AdjustRequest,
  ClientMessage,
  CreateTransferRequest,
  canSeeWarehouse,
  decodeCursor,
  encodeCursor,
  errorBody,
  hasPermission,
  ReceiveTransferRequest,
} from '../src/index.js';
import { ErrorFrame } from '../src/ws-protocol.js';

describe('cursors', () => {
  it('round-trip a position', () => {
    const position = { seq: 123_456_789, epoch: Date.UTC(2026, 10, 22) };
    expect(decodeCursor(encodeCursor(position))).toEqual(position);
  });

  it.each([undefined, 12, '', 'v2.1.1', 'v1.1', 'v1.-1.1', 'v1.ZZ.1', `v1.${'z'.repeat(12)}.1`])(
    'refuse the malformed cursor %j',
    (cursor) => {
      expect(decodeCursor(cursor)).toBeNull();
    },
  );
});

describe('WebSocket client messages', () => {
  it.each([
    { type: 'subscribe', channel: 'product:prod-123' },
    { type: 'subscribe', channel: 'global', cursor: 'v1.a.b' },
    { type: 'unsubscribe', channel: 'product:prod-123' },
    { type: 'ping' },
    { type: 'session', sessionId: 'sess-1' },
    { type: 'ack', channel: 'global', cursor: 'v1.a.b' },
  ])('accepts %j', (message) => {
    expect(ClientMessage.safeParse(message).success).toBe(true);
  });

  it.each([
    {},
    { type: 'subscribe' },
    { type: 'subscribe', channel: 7 },
    { type: 'dance' },
    { type: 'session', sessionId: 'a.b' },
    { type: 'subscribe', channel: 'global', cursor: 'x'.repeat(65) },
  ])('refuses %j', (message) => {
    expect(ClientMessage.safeParse(message).success).toBe(false);
  });

  it('has error frames that name a code the client can switch on', () => {
    expect(
      ErrorFrame.safeParse({ type: 'error', code: 'INVALID_CHANNEL', message: 'x', channel: 'p' }).success,
    ).toBe(true);
    expect(ErrorFrame.safeParse({ type: 'error', code: 'WHATEVER', message: 'x' }).success).toBe(false);
  });
});

describe('REST bodies', () => {
  const seedBody = {
    warehouseId: 'wh-001',
    productId: 'prod-123',
    variantId: 'variant-456',
    uomId: 'uom-box',
    quantity: 10,
    movementType: 'in',
    source: 'warehouse',
    reason: 'Restock',
    rack: 'A1',
    bin: '05',
    zone: 'Main',
    aisle: 'Aisle-1',
  };

  it('accepts the original contract adjust body', () => {
    expect(AdjustRequest.safeParse(seedBody).success).toBe(true);
  });

  it.each([
    ['quantity', { quantity: -1 }],
    ['quantity', { quantity: 1.5 }],
    ['quantity', { quantity: '10' }],
    ['quantity', { quantity: 0 }],
    ['movementType', { movementType: 'teleport' }],
    ['warehouseId', { warehouseId: 'wh.001' }],
    ['productId', { productId: 'prod>' }],
    ['reason', { reason: 'a\u0000b' }],
    ['rack', { rack: 'x'.repeat(33) }],
  ])('refuses a bad %s and names it', (field, change) => {
    const result = AdjustRequest.safeParse({ ...seedBody, ...change });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual([field]);
  });

  it('refuses unknown fields so typos do not pass silently', () => {
    const result = AdjustRequest.safeParse({ ...seedBody, quantiy: 3 });
    expect(result.success).toBe(false);
  });

  it('allows a zero quantity only for a stock count adjustment', () => {
    expect(AdjustRequest.safeParse({ ...seedBody, movementType: 'adjustment', quantity: 0 }).success).toBe(
      true,
    );
  });

  it('refuses a transfer to its own source warehouse and one without lines', () => {
    const line = { productId: 'p1', quantity: 2 };
    expect(
      CreateTransferRequest.safeParse({
        sourceWarehouseId: 'w1',
        destinationWarehouseId: 'w2',
        lines: [line],
      }).success,
    ).toBe(true);
    const same = CreateTransferRequest.safeParse({
      sourceWarehouseId: 'w1',
      destinationWarehouseId: 'w1',
      lines: [line],
    });
    expect(same.error?.issues[0]?.path).toEqual(['destinationWarehouseId']);
    expect(
      CreateTransferRequest.safeParse({ sourceWarehouseId: 'w1', destinationWarehouseId: 'w2', lines: [] })
        .success,
    ).toBe(false);
  });

  it('refuses a negative received quantity', () => {
    expect(
      ReceiveTransferRequest.safeParse({ lines: [{ lineId: 'l1', receivedQuantity: -1 }] }).success,
    ).toBe(false);
  });

  it('builds error bodies that old clients can read through `error`', () => {
    expect(errorBody('OPTIMISTIC_LOCK_FAILURE', 'Concurrent update conflict.')).toEqual({
      code: 'OPTIMISTIC_LOCK_FAILURE',
      message: 'Concurrent update conflict.',
      error: 'Concurrent update conflict.',
    });
  });
});

describe('claims', () => {
  it('grant actions by role', () => {
    expect(hasPermission({ roles: ['viewer'] }, 'inventory:adjust')).toBe(false);
    expect(hasPermission({ roles: ['clerk'] }, 'inventory:adjust')).toBe(true);
    expect(hasPermission({ roles: ['clerk'] }, 'transfer:decide')).toBe(false);
    expect(hasPermission({ roles: ['viewer', 'manager'] }, 'transfer:decide')).toBe(true);
  });

  it('confine warehouses unless they include *', () => {
    expect(canSeeWarehouse({ warehouses: ['w1'] }, 'w1')).toBe(true);
    expect(canSeeWarehouse({ warehouses: ['w1'] }, 'w2')).toBe(false);
    expect(canSeeWarehouse({ warehouses: ['*'] }, 'w2')).toBe(true);
  });
});
