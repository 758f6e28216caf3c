import { createEvent, type DomainEvent, type EventMeta } from '@inv/contracts';
import { type LedgerEntry, recordRef, type StockRecord } from './record.js';
import { deficitOf } from './stock.js';

/**
 * The events of one booked movement: always `inventory.updated`, plus `inventory.low_stock` and
 * `inventory.out_of_stock` when the movement crossed those thresholds.
 */
export function stockEventsOf(record: StockRecord, entry: LedgerEntry, movementId: string): DomainEvent[] {
  const occurredAt = new Date();
  const timestamp = occurredAt.toISOString();
  const meta: EventMeta = {
    aggregate: { type: 'inventory', id: record.inventoryId, version: entry.version },
    correlationId: entry.context.correlationId ?? null,
    causationId: entry.context.causationId ?? null,
    occurredAt,
  };
  const key = recordRef(record);
  const levels = {
    quantityAvailable: entry.after.available,
    quantityReserved: entry.after.reserved,
    minimumStock: entry.after.minimumStock,
    version: entry.version,
    timestamp,
  };
  const events: DomainEvent[] = [
    createEvent(
      'inventory.updated',
      {
        ...key,
        ...levels,
        previousQuantity: entry.before.available,
        changeAmount: entry.quantityChange,
        previousReserved: entry.before.reserved,
        reservedChange: entry.reservedChange,
        movementType: entry.movementType,
        movementId,
        transferId: entry.context.transferId ?? null,
        reason: entry.context.reason ?? null,
        source: entry.context.source ?? null,
        location: { ...record.location },
      },
      meta,
    ),
  ];
  if (entry.crossings.lowStock) {
    events.push(
      createEvent('inventory.low_stock', { ...key, ...levels, deficit: deficitOf(entry.after) }, meta),
    );
  }
  if (entry.crossings.outOfStock) {
    events.push(createEvent('inventory.out_of_stock', { ...key, ...levels }, meta));
  }
  return events;
}
