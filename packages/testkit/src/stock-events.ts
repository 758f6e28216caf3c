import { createEvent, type EventOf, stockSubject } from '@inv/contracts';

/** A stock record of load tests and benchmarks: a product in a warehouse, no variant, no unit. */
export interface StockRecord {
  productId: string;
  warehouseId: string;
}

/** The stream subject of a record's `inventory.updated` events, as the inventory service publishes them. */
export function stockRecordSubject(record: StockRecord): string {
  return stockSubject({ ...record, variantId: null, uomId: null }, 'inventory.updated');
}

/**
 * A valid `inventory.updated` event of the record at `version`, as the outbox relay would publish it. `reason`
 * travels unchanged to every client: load generators put their send time in it.
 */
export function stockUpdatedEvent(
  record: StockRecord & { inventoryId?: string },
  version: number,
  { reason = null, source = null }: { reason?: string | null; source?: string | null } = {},
): EventOf<'inventory.updated'> {
  const at = new Date();
  const inventoryId = record.inventoryId ?? `inv-${record.productId}-${record.warehouseId}`;
  return createEvent(
    'inventory.updated',
    {
      inventoryId,
      productId: record.productId,
      warehouseId: record.warehouseId,
      variantId: null,
      uomId: null,
      quantityAvailable: version,
      quantityReserved: 0,
      minimumStock: null,
      version,
      previousQuantity: version - 1,
      changeAmount: 1,
      previousReserved: 0,
      reservedChange: 0,
      movementType: 'in',
      movementId: null,
      transferId: null,
      reason,
      source,
      location: null,
      timestamp: at.toISOString(),
    },
    { aggregate: { type: 'inventory', id: inventoryId, version }, occurredAt: at },
  );
}

/** `stockUpdatedEvent` as the JSON a load generator publishes (source `bench`). */
export function stockUpdatedJson(record: StockRecord, version: number, reason: string): string {
  return JSON.stringify(stockUpdatedEvent(record, version, { reason, source: 'bench' }));
}
