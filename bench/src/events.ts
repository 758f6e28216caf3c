import { createEvent, stockSubject } from '@inv/contracts';

/**
 * Every timed event carries its send time in `data.reason` as `bench:<ms>`: the reason field travels unchanged
 * from an adjust request through the outbox, the stream, the gateway (and the peers) to the clients, so one
 * parser times all of them. Warm-up events carry another reason and are not timed.
 */
export const TIMED_PREFIX = 'bench:';
export const WARMUP_REASON = 'warmup';

export function timedReason(sentAt: number): string {
  return `${TIMED_PREFIX}${sentAt}`;
}

/** The send time of a timed event's reason, or null for anything else. */
export function sentAtOf(reason: unknown): number | null {
  if (typeof reason !== 'string' || !reason.startsWith(TIMED_PREFIX)) return null;
  const sentAt = Number(reason.slice(TIMED_PREFIX.length));
  return Number.isFinite(sentAt) ? sentAt : null;
}

/** A stock record of the benchmarks, one product with numbered warehouses. */
export interface BenchRecord {
  productId: string;
  warehouseId: string;
}

/** The stream subject of a record's `inventory.updated` events, as the inventory service publishes them. */
export function recordSubject(record: BenchRecord): string {
  return stockSubject({ ...record, variantId: null, uomId: null }, 'inventory.updated');
}

/** A valid `inventory.updated` event at its current version, as the outbox relay would publish it. */
export function stockEventJson(record: BenchRecord, version: number, reason: string): string {
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
