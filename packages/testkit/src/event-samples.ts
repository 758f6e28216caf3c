import { createEvent, type DomainEvent, type EventData, type EventType } from '@inv/contracts';

const timestamp = '2026-11-22T10:00:00.000Z';
const record = {
  inventoryId: 'inv-1',
  productId: 'prod-123',
  warehouseId: 'wh-001',
  variantId: 'variant-456',
  uomId: 'uom-box',
};
const transfer = {
  transferId: 'tr-1',
  sourceWarehouseId: 'wh-001',
  destinationWarehouseId: 'wh-002',
  status: 'approved' as const,
  previousStatus: 'requested' as const,
  reservationStatus: 'pending' as const,
  version: 2,
  lines: [
    {
      lineId: 'line-1',
      productId: 'prod-123',
      variantId: null,
      uomId: null,
      quantity: 5,
      shippedQuantity: null,
      receivedQuantity: null,
      discrepancy: null,
    },
  ],
  actor: 'user-1',
  reason: null,
  timestamp,
};

const reservationLine = {
  ...record,
  reservationId: 'res-1',
  reference: 'order-123',
  lineId: 'l1',
  quantity: 3,
  expiresAt: '2026-11-22T10:15:00.000Z',
  timestamp,
};

/** One valid `data` per event type, at its current version. */
export const VALID_DATA: { [T in EventType]: Extract<DomainEvent, { type: T }>['data'] } = {
  'inventory.updated': {
    ...record,
    quantityAvailable: 15,
    quantityReserved: 0,
    minimumStock: 10,
    version: 3,
    previousQuantity: 5,
    changeAmount: 10,
    previousReserved: 0,
    reservedChange: 0,
    movementType: 'in',
    movementId: 'mov-1',
    transferId: null,
    reason: 'Restock',
    source: 'warehouse',
    location: { rack: 'A1', bin: '05', zone: 'Main', aisle: 'Aisle-1' },
    timestamp,
  },
  'inventory.low_stock': {
    ...record,
    quantityAvailable: 5,
    quantityReserved: 0,
    minimumStock: 10,
    deficit: 5,
    version: 3,
    timestamp,
  },
  'inventory.out_of_stock': {
    ...record,
    quantityAvailable: 0,
    quantityReserved: 2,
    minimumStock: 10,
    version: 4,
    timestamp,
  },
  'batch.expiring_soon': {
    ...record,
    batchId: 'batch-1',
    batchNumber: 'LOT-2026-11',
    quantity: 12,
    expiresAt: '2026-11-29T00:00:00.000Z',
    daysUntilExpiry: 7,
    thresholdDays: 7,
    timestamp,
  },
  'transfer.requested': { ...transfer, status: 'requested', previousStatus: null, reservationStatus: 'none' },
  'transfer.approved': transfer,
  'transfer.rejected': { ...transfer, status: 'rejected', reason: 'INSUFFICIENT_STOCK' },
  'transfer.picking_started': { ...transfer, status: 'picking_started' },
  'transfer.packed': { ...transfer, status: 'packed' },
  'transfer.shipped': { ...transfer, status: 'shipped' },
  'transfer.received': { ...transfer, status: 'received' },
  'transfer.completed': { ...transfer, status: 'completed' },
  'transfer.cancelled': { ...transfer, status: 'cancelled', reason: 'no longer needed' },
  'transfer.stock_reserved': { ...transfer, reservationStatus: 'reserved' },
  'inventory.reserved': {
    transferId: 'tr-1',
    warehouseId: 'wh-001',
    lines: [
      {
        lineId: 'line-1',
        inventoryId: 'inv-1',
        productId: 'prod-123',
        variantId: null,
        uomId: null,
        quantity: 5,
      },
    ],
    timestamp,
  },
  'inventory.reservation_failed': {
    transferId: 'tr-1',
    warehouseId: 'wh-001',
    reason: 'INSUFFICIENT_STOCK',
    shortages: [
      { lineId: 'line-1', productId: 'prod-123', variantId: null, uomId: null, requested: 5, available: 2 },
    ],
    timestamp,
  },
  'inventory.reservation_created': reservationLine,
  'inventory.reservation_committed': { ...reservationLine, committedQuantity: 2, releasedQuantity: 1 },
  'inventory.reservation_released': {
    ...reservationLine,
    reason: 'expired',
    releasedQuantity: 3,
    note: null,
  },
  'inventory.reservation_extended': { ...reservationLine, previousExpiresAt: timestamp },
  'webhooks.endpoint_paused': {
    endpointId: 'ep-1',
    reason: '3 consecutive events failed for the whole retry period',
    failures: 3,
    version: 2,
    timestamp,
  },
  'webhooks.endpoint_resumed': {
    endpointId: 'ep-1',
    actor: 'admin-1',
    pausedAt: '2026-11-22T09:00:00.000Z',
    version: 3,
    timestamp,
  },
};

function aggregateOf(type: EventType): { type: 'inventory' | 'transfer' | 'webhook_endpoint'; id: string } {
  if (type.startsWith('transfer.')) return { type: 'transfer', id: 'tr-1' };
  if (type.startsWith('webhooks.')) return { type: 'webhook_endpoint', id: 'ep-1' };
  return { type: 'inventory', id: 'inv-1' };
}

export function sampleEvent<T extends EventType>(type: T): Extract<DomainEvent, { type: T }> {
  return createEvent(type, VALID_DATA[type] as EventData<T>, {
    aggregate: { ...aggregateOf(type), version: 3 },
    correlationId: 'corr-1',
  });
}
