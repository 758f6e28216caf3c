import { Migration } from '@mikro-orm/migrations';

/** The tables every service shares: outbox, inbox and idempotency keys. */
export class Migration20261122000000_platform extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table outbox (
        id bigserial primary key,
        event_id uuid not null unique,
        event_type text not null,
        subject text not null,
        order_key text not null,
        payload jsonb not null,
        created_at timestamptz not null default now(),
        published_at timestamptz null,
        stream_seq bigint null
      );`);
    this.addSql('create index outbox_unpublished_idx on outbox (id) where published_at is null;');
    this.addSql(
      'create index outbox_published_at_idx on outbox (published_at) where published_at is not null;',
    );
    this.addSql(`
      create table inbox (
        consumer text not null,
        event_id uuid not null,
        event_type text not null,
        stream_seq bigint null,
        processed_at timestamptz not null default now(),
        primary key (consumer, event_id)
      );`);
    this.addSql(`
      create table idempotency_key (
        scope text not null,
        key text not null,
        request_hash text not null,
        status_code integer not null,
        response jsonb not null,
        created_at timestamptz not null default now(),
        primary key (scope, key)
      );`);
  }

  override async down(): Promise<void> {
    this.addSql('drop table if exists idempotency_key;');
    this.addSql('drop table if exists inbox;');
    this.addSql('drop table if exists outbox;');
  }
}
