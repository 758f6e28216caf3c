import { BigIntType, EntitySchema } from '@mikro-orm/core';

/** Quantities are bigint columns read as JS numbers (contract quantities are safe integers). */
const quantity = () => ({ type: new BigIntType('number') });
const text = { type: 'text' } as const;
const optionalText = { type: 'text', nullable: true } as const;
const timestamp = { type: 'datetime', columnType: 'timestamptz' } as const;

export class InventoryRecordRow {
  inventoryId!: string;
  productId!: string;
  warehouseId!: string;
  variantId!: string | null;
  uomId!: string | null;
  quantityAvailable!: number;
  quantityReserved!: number;
  minimumStock!: number;
  rack!: string | null;
  bin!: string | null;
  zone!: string | null;
  aisle!: string | null;
  version!: number;
  createdAt!: Date;
  updatedAt!: Date;
}

export const InventoryRecordSchema = new EntitySchema<InventoryRecordRow>({
  class: InventoryRecordRow,
  tableName: 'inventory_record',
  properties: {
    inventoryId: { ...text, primary: true },
    productId: text,
    warehouseId: text,
    variantId: optionalText,
    uomId: optionalText,
    quantityAvailable: quantity(),
    quantityReserved: quantity(),
    minimumStock: quantity(),
    rack: optionalText,
    bin: optionalText,
    zone: optionalText,
    aisle: optionalText,
    version: { type: 'integer' },
    createdAt: timestamp,
    updatedAt: timestamp,
  },
});

/** One row of the append-only ledger (see the migration for the invariants the table enforces). */
export class MovementRow {
  movementId!: number;
  inventoryId!: string;
  recordVersion!: number;
  productId!: string;
  warehouseId!: string;
  variantId!: string | null;
  uomId!: string | null;
  movementType!: string;
  quantityChange!: number;
  reservedChange!: number;
  availableBefore!: number;
  availableAfter!: number;
  reservedBefore!: number;
  reservedAfter!: number;
  minimumStock!: number;
  reason!: string | null;
  source!: string | null;
  actor!: string;
  correlationId!: string | null;
  causationId!: string | null;
  transferId!: string | null;
  transferLineId!: string | null;
  batchId!: string | null;
  /** The order reservation a `reservation`, `reservation_release` or `reservation_commit` belongs to. */
  reservationId!: string | null;
  eventId!: string;
  createdAt!: Date;
}

export const MovementSchema = new EntitySchema<MovementRow>({
  class: MovementRow,
  tableName: 'inventory_movement',
  properties: {
    movementId: { type: new BigIntType('number'), primary: true, autoincrement: true },
    inventoryId: text,
    recordVersion: { type: 'integer' },
    productId: text,
    warehouseId: text,
    variantId: optionalText,
    uomId: optionalText,
    movementType: text,
    quantityChange: quantity(),
    reservedChange: quantity(),
    availableBefore: quantity(),
    availableAfter: quantity(),
    reservedBefore: quantity(),
    reservedAfter: quantity(),
    minimumStock: quantity(),
    reason: optionalText,
    source: optionalText,
    actor: text,
    correlationId: optionalText,
    causationId: optionalText,
    transferId: optionalText,
    transferLineId: optionalText,
    batchId: optionalText,
    reservationId: optionalText,
    eventId: { type: 'uuid' },
    createdAt: timestamp,
  },
});

export class BatchRow {
  batchId!: string;
  inventoryId!: string;
  batchNumber!: string;
  quantity!: number;
  /** What is left of `quantity`; stock leaving the record is taken from the first-expiring batches. */
  remaining!: number;
  expiresAt!: Date;
  movementId!: number;
  createdAt!: Date;
}

export const BatchSchema = new EntitySchema<BatchRow>({
  class: BatchRow,
  tableName: 'inventory_batch',
  properties: {
    batchId: { ...text, primary: true },
    inventoryId: text,
    batchNumber: text,
    quantity: quantity(),
    remaining: quantity(),
    expiresAt: timestamp,
    movementId: { type: new BigIntType('number') },
    createdAt: timestamp,
  },
});

/** A transfer as inventory's side of the saga sees it. */
export class TransferSagaRow {
  transferId!: string;
  sourceWarehouseId!: string;
  destinationWarehouseId!: string;
  state!: string;
  transferVersion!: number;
  updatedAt!: Date;
}

export const TransferSagaSchema = new EntitySchema<TransferSagaRow>({
  class: TransferSagaRow,
  tableName: 'transfer_saga',
  properties: {
    transferId: { ...text, primary: true },
    sourceWarehouseId: text,
    destinationWarehouseId: text,
    state: text,
    transferVersion: { type: 'integer' },
    updatedAt: timestamp,
  },
});

/** What was reserved for one transfer line at the source, and what became of it. */
export class TransferReservationRow {
  transferId!: string;
  lineId!: string;
  inventoryId!: string;
  quantity!: number;
  status!: string;
  shippedQuantity!: number | null;
  receivedQuantity!: number | null;
  destinationInventoryId!: string | null;
  updatedAt!: Date;
}

export const TransferReservationSchema = new EntitySchema<TransferReservationRow>({
  class: TransferReservationRow,
  tableName: 'transfer_reservation',
  properties: {
    transferId: { ...text, primary: true },
    lineId: { ...text, primary: true },
    inventoryId: text,
    quantity: quantity(),
    status: text,
    shippedQuantity: { type: new BigIntType('number'), nullable: true },
    receivedQuantity: { type: new BigIntType('number'), nullable: true },
    destinationInventoryId: optionalText,
    updatedAt: timestamp,
  },
});

export const INVENTORY_ENTITIES = [
  InventoryRecordSchema,
  MovementSchema,
  BatchSchema,
  TransferSagaSchema,
  TransferReservationSchema,
];
