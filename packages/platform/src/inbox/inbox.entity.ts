import { EntitySchema } from '@mikro-orm/core';

/** An event a consumer has applied; its primary key makes applying the same event twice impossible. */
export class InboxEntry {
  consumer!: string;
  eventId!: string;
  eventType!: string;
  streamSeq!: string | null;
  processedAt: Date = new Date();
}

export const InboxEntrySchema = new EntitySchema<InboxEntry>({
  class: InboxEntry,
  tableName: 'inbox',
  properties: {
    consumer: { type: 'text', primary: true },
    eventId: { type: 'uuid', primary: true },
    eventType: { type: 'text' },
    streamSeq: { type: 'bigint', nullable: true },
    processedAt: { type: 'datetime', columnType: 'timestamptz' },
  },
});
