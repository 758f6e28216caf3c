import { Migration } from '@mikro-orm/migrations';

/** Registered endpoints and, per endpoint, the events that exhausted their retries. */
export class Migration20261201000000_webhooks extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table webhook_endpoint (
        endpoint_id text primary key,
        url text not null,
        event_types jsonb not null,
        warehouses jsonb not null,
        secret text not null,
        state text not null check (state in ('active', 'paused')),
        paused_reason text null,
        created_by text not null,
        created_at timestamptz not null default now()
      );`);
    this.addSql(`
      create table webhook_dead_letter (
        dead_letter_id bigserial primary key,
        endpoint_id text not null references webhook_endpoint (endpoint_id) on delete cascade,
        event_id text not null,
        event_type text not null,
        stream_sequence bigint not null,
        body text not null,
        attempts integer not null,
        last_error text not null,
        created_at timestamptz not null default now(),
        constraint webhook_dead_letter_once unique (endpoint_id, event_id)
      );`);
  }
}
