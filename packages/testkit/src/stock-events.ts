import { createEvent, stockSubject } from '@inv/contracts';

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
 * A valid `inventory.updated` event of the record at `version`, as the outbox relay would publish it, as JSON.
 * `reason` travels unchanged to every client: load generators put their send time in it.
 */
export function stockUpdatedJson(record: StockRecord, version: number, reason: string): string {
  const at = new Date();
  const event = createEvent(
    'inventory.updated',
    {
      inventoryId: `inv-${record.productId}-${record.warehouseId}`,
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
      source: 'bench',
      location: null,
      timestamp: at.toISOString(),
    },
    {
      aggregate: { type: 'inventory', id: `inv-${record.productId}-${record.warehouseId}`, version },
      occurredAt: at,
    },
  );
  return JSON.stringify(event);
}
