import { EntitySchema } from '@mikro-orm/core';

/** The response to the first request with an `Idempotency-Key`, replayed for every retry of it. */
export class IdempotencyRecord {
  scope!: string;
  key!: string;
  requestHash!: string;
  statusCode!: number;
  response!: unknown;
  createdAt: Date = new Date();
}

export const IdempotencyRecordSchema = new EntitySchema<IdempotencyRecord>({
  class: IdempotencyRecord,
  tableName: 'idempotency_key',
  properties: {
    scope: { type: 'text', primary: true },
    key: { type: 'text', primary: true },
    requestHash: { type: 'text' },
    statusCode: { type: 'integer' },
    response: { type: 'json' },
    createdAt: { type: 'datetime', columnType: 'timestamptz' },
  },
});
