import { Migration } from '@mikro-orm/migrations';

/**
 * An endpoint's version (the aggregate version of its `webhooks.endpoint_*` events, bumped by every pause and
 * resume), when its current pause began, and its run of consecutive dead letters (kept here, not in the worker's
 * memory, so a bridge restart does not reset the count that pauses it).
 */
export class Migration20261216000000_webhook_endpoint_version extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      alter table webhook_endpoint
        add column version integer not null default 1,
        add column paused_at timestamptz null,
        add column consecutive_dead_letters integer not null default 0;`);
  }
}
