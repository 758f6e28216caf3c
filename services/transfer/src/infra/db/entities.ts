import { BigIntType, EntitySchema } from '@mikro-orm/core';

const text = { type: 'text' } as const;
const optionalText = { type: 'text', nullable: true } as const;
const timestamp = { type: 'datetime', columnType: 'timestamptz' } as const;

export class TransferRow {
  transferId!: string;
  sourceWarehouseId!: string;
  destinationWarehouseId!: string;
  status!: string;
  reservationStatus!: string;
  version!: number;
  note!: string | null;
  rejectionReason!: string | null;
  createdBy!: string;
  createdAt!: Date;
  updatedAt!: Date;
}

export const TransferSchema = new EntitySchema<TransferRow>({
  class: TransferRow,
  tableName: 'transfer',
  properties: {
    transferId: { ...text, primary: true },
    sourceWarehouseId: text,
    destinationWarehouseId: text,
    status: text,
    reservationStatus: text,
    version: { type: 'integer' },
    note: optionalText,
    rejectionReason: optionalText,
    createdBy: text,
    createdAt: timestamp,
    updatedAt: timestamp,
  },
});

export class TransferLineRow {
  transferId!: string;
  lineId!: string;
  position!: number;
  productId!: string;
  variantId!: string | null;
  uomId!: string | null;
  quantity!: number;
  shippedQuantity!: number | null;
  receivedQuantity!: number | null;
}

export const TransferLineSchema = new EntitySchema<TransferLineRow>({
  class: TransferLineRow,
  tableName: 'transfer_line',
  properties: {
    transferId: { ...text, primary: true },
    lineId: { ...text, primary: true },
    position: { type: 'integer' },
    productId: text,
    variantId: optionalText,
    uomId: optionalText,
    quantity: { type: 'integer' },
    shippedQuantity: { type: 'integer', nullable: true },
    receivedQuantity: { type: 'integer', nullable: true },
  },
});

export class TransferTransitionRow {
  /** Assigned by the database. */
  transitionId?: number;
  transferId!: string;
  fromStatus!: string | null;
  toStatus!: string;
  actor!: string;
  reason!: string | null;
  /** The transfer version this transition produced. */
  version!: number;
  at!: Date;
}

export const TransferTransitionSchema = new EntitySchema<TransferTransitionRow>({
  class: TransferTransitionRow,
  tableName: 'transfer_transition',
  properties: {
    transitionId: { type: new BigIntType('number'), primary: true, autoincrement: true },
    transferId: text,
    fromStatus: optionalText,
    toStatus: text,
    actor: text,
    reason: optionalText,
    version: { type: 'integer' },
    at: timestamp,
  },
});

export const TRANSFER_ENTITIES = [TransferSchema, TransferLineSchema, TransferTransitionSchema];
