import { type ClientEvent, type ConnectionState, isReservationEvent } from '@inv/client';
import type { InventoryRecord, Transfer, TransferEventData } from '@inv/contracts';
import { ReservationLines } from './reservation-lines.js';

export interface FeedEntry {
  id: string;
  type: string;
  at: string;
  text: string;
  /** The full id of the transfer the line is about (the text shows its short form). */
  ref?: string;
}

const short = (id: string) => (id.length > 8 ? id.slice(-8) : id);

const FEED_SIZE = 100;
/** Transfers kept beyond the open ones: as many as a page loads, the finished ones going first, oldest first. */
const TRANSFERS_KEPT = 200;
const FINISHED: ReadonlySet<string> = new Set(['completed', 'rejected', 'cancelled']);

/**
 * What the dashboard shows: the stock records of the page shown and transfers, kept current by events. A record
 * or transfer only moves forward (by version), so an event replayed after a REST reload never rolls the view back.
 */
export class Store {
  readonly records = new Map<string, InventoryRecord>();
  readonly transfers = new Map<string, Transfer>();
  /** Order reservation lines per record: the active ones, and those that ended while the page was open. */
  readonly reservations = new ReservationLines();
  feed: FeedEntry[] = [];
  /** Warehouse and product ids from the inventory service's summaries, for the pickers. */
  catalog = { warehouses: [] as string[], products: [] as string[] };
  connection: ConnectionState = 'connecting';
  private readonly listeners = new Set<() => void>();
  private scheduled = false;

  onChange(listener: () => void): void {
    this.listeners.add(listener);
  }

  /** Coalesces many changes into one render per animation frame. */
  changed(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    requestAnimationFrame(() => {
      this.scheduled = false;
      for (const listener of this.listeners) listener();
    });
  }

  replaceRecords(records: InventoryRecord[]): void {
    this.records.clear();
    for (const record of records) this.records.set(record.inventoryId, record);
    this.changed();
  }

  replaceTransfers(transfers: Transfer[]): void {
    this.transfers.clear();
    for (const transfer of transfers) this.transfers.set(transfer.transferId, transfer);
    this.changed();
  }

  /** Whether a record the store does not hold yet is taken in when an event names it (the stock view's page). */
  admitsRecord: (record: InventoryRecord) => boolean = () => true;

  upsertRecord(record: InventoryRecord): void {
    const current = this.records.get(record.inventoryId);
    if (current ? current.version > record.version : !this.admitsRecord(record)) return;
    this.records.set(record.inventoryId, record);
    this.changed();
  }

  upsertTransfer(transfer: Transfer): void {
    const current = this.transfers.get(transfer.transferId);
    if (current && current.version > transfer.version) return;
    this.transfers.set(transfer.transferId, transfer);
    this.forgetOldFinishedTransfers();
    this.changed();
  }

  /** A page open all day sees thousands of transfers: past `TRANSFERS_KEPT`, finished ones go, never open ones. */
  private forgetOldFinishedTransfers(): void {
    if (this.transfers.size <= TRANSFERS_KEPT) return;
    const finished = [...this.transfers.values()]
      .filter((transfer) => FINISHED.has(transfer.status))
      .sort((a, b) => a.updatedAt.localeCompare(b.updatedAt));
    for (const transfer of finished) {
      if (this.transfers.size <= TRANSFERS_KEPT) return;
      this.transfers.delete(transfer.transferId);
    }
  }

  apply(event: ClientEvent): void {
    if (!this.feed.some((entry) => entry.id === event.id)) this.addToFeed(event);
    if (event.type === 'inventory.updated') this.upsertRecord(recordFrom(event.data, this.records));
    else if (isReservationEvent(event)) this.reservations.apply(event);
    else if (event.type.startsWith('transfer.'))
      this.upsertTransfer(transferFrom(event.data as TransferEventData, this.transfers));
    this.changed();
  }

  /** Newest first by the time the event happened: a replayed history and live events interleave correctly. */
  private addToFeed(event: ClientEvent): void {
    this.feed = [
      {
        id: event.id,
        type: event.type,
        at: event.occurredAt,
        text: describe(event),
        ref: 'transferId' in event.data ? String(event.data.transferId) : undefined,
      },
      ...this.feed,
    ]
      .sort((a, b) => b.at.localeCompare(a.at))
      .slice(0, FEED_SIZE);
  }

  setConnection(state: ConnectionState): void {
    this.connection = state;
    this.changed();
  }
}

function recordFrom(
  data: Extract<ClientEvent, { type: 'inventory.updated' }>['data'],
  records: Map<string, InventoryRecord>,
): InventoryRecord {
  const previous = records.get(data.inventoryId);
  const minimumStock = data.minimumStock ?? previous?.minimumStock ?? 0;
  return {
    inventoryId: data.inventoryId,
    productId: data.productId,
    warehouseId: data.warehouseId,
    variantId: data.variantId,
    uomId: data.uomId,
    quantityAvailable: data.quantityAvailable,
    quantityReserved: data.quantityReserved,
    minimumStock,
    location: data.location ?? previous?.location ?? { rack: null, bin: null, zone: null, aisle: null },
    version: data.version,
    isLowStock: minimumStock > 0 && data.quantityAvailable < minimumStock,
    isOutOfStock: data.quantityAvailable <= 0,
    updatedAt: data.timestamp,
  };
}

function transferFrom(data: TransferEventData, transfers: Map<string, Transfer>): Transfer {
  const previous = transfers.get(data.transferId);
  const history = [
    ...(previous?.history ?? []),
    ...(data.previousStatus !== data.status || !previous
      ? [
          {
            from: data.previousStatus,
            to: data.status,
            actor: data.actor,
            reason: data.reason,
            at: data.timestamp,
          },
        ]
      : []),
  ];
  return {
    transferId: data.transferId,
    sourceWarehouseId: data.sourceWarehouseId,
    destinationWarehouseId: data.destinationWarehouseId,
    status: data.status,
    reservationStatus: data.reservationStatus,
    version: data.version,
    lines: data.lines,
    note: previous?.note ?? null,
    rejectionReason: data.status === 'rejected' ? data.reason : (previous?.rejectionReason ?? null),
    hasDiscrepancy: data.lines.some((line) => (line.discrepancy ?? 0) !== 0),
    history,
    createdBy: previous?.createdBy ?? data.actor,
    createdAt: previous?.createdAt ?? data.timestamp,
    updatedAt: data.timestamp,
  };
}

function describe(event: ClientEvent): string {
  switch (event.type) {
    case 'inventory.updated': {
      const d = event.data;
      // Reservations and shipments move reserved stock only: available does not change.
      const change = d.changeAmount === 0 ? '' : ` ${d.changeAmount > 0 ? '+' : ''}${d.changeAmount}`;
      const available =
        d.changeAmount === 0
          ? `${d.quantityAvailable} available`
          : `available ${d.quantityAvailable - d.changeAmount} → ${d.quantityAvailable}`;
      return `${d.productId} @ ${d.warehouseId}:${change} (${d.movementType}) ${available}, ${d.quantityReserved} reserved`;
    }
    case 'inventory.low_stock':
      return `${event.data.productId} @ ${event.data.warehouseId} is low: ${event.data.quantityAvailable} < ${event.data.minimumStock}`;
    case 'inventory.out_of_stock':
      return `${event.data.productId} @ ${event.data.warehouseId} is out of stock`;
    case 'batch.expiring_soon':
      return `batch ${event.data.batchNumber} of ${event.data.productId} expires in ${event.data.daysUntilExpiry} days`;
    case 'inventory.reserved':
      return `transfer ${short(event.data.transferId)}: stock reserved at ${event.data.warehouseId}`;
    case 'inventory.reservation_failed':
      return `transfer ${short(event.data.transferId)}: reservation failed (${event.data.reason})`;
    case 'inventory.reservation_created':
      return `${event.data.productId} @ ${event.data.warehouseId}: ${event.data.quantity} reserved for ${event.data.reference}`;
    case 'inventory.reservation_committed':
      return `${event.data.productId} @ ${event.data.warehouseId}: ${event.data.committedQuantity} of ${event.data.reference} shipped`;
    case 'inventory.reservation_released':
      return `${event.data.productId} @ ${event.data.warehouseId}: ${event.data.releasedQuantity} of ${event.data.reference} released (${event.data.reason})`;
    case 'inventory.reservation_extended':
      return `${event.data.productId} @ ${event.data.warehouseId}: ${event.data.reference} held until ${event.data.expiresAt}`;
    default: {
      const d = event.data as TransferEventData;
      const lines = d.lines
        .map((l) => `${l.receivedQuantity ?? l.shippedQuantity ?? l.quantity} × ${l.productId}`)
        .join(', ');
      return `transfer ${short(d.transferId)} ${d.sourceWarehouseId} → ${d.destinationWarehouseId}: ${d.status}, ${lines}${d.reason ? ` (${d.reason})` : ''}`;
    }
  }
}
