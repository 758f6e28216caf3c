import { EntitySchema } from '@mikro-orm/core';

/** An event waiting to be published, written in the same transaction as the change it describes. */
export class OutboxMessage {
  id!: string;
  eventId!: string;
  eventType!: string;
  subject!: string;
  /** Events with the same key (one aggregate) are published strictly in order. */
  orderKey!: string;
  payload!: Record<string, unknown>;
  createdAt: Date = new Date();
  publishedAt: Date | null = null;
  streamSeq: string | null = null;
}

export const OutboxMessageSchema = new EntitySchema<OutboxMessage>({
  class: OutboxMessage,
  tableName: 'outbox',
  properties: {
    id: { type: 'bigint', primary: true, autoincrement: true },
    eventId: { type: 'uuid', unique: true },
    eventType: { type: 'text' },
    subject: { type: 'text' },
    orderKey: { type: 'text' },
    payload: { type: 'json' },
    createdAt: { type: 'datetime', columnType: 'timestamptz' },
    publishedAt: { type: 'datetime', columnType: 'timestamptz', nullable: true },
    streamSeq: { type: 'bigint', nullable: true },
  },
});
