import { Migration } from '@mikro-orm/migrations';

/**
 * An endpoint's version (the aggregate version of its `webhooks.endpoint_*` events, bumped by every pause and
 * resume) and when its current pause began.
 */
export class Migration20261216000000_webhook_endpoint_version extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      alter table webhook_endpoint
        add column version integer not null default 1,
        add column paused_at timestamptz null;`);
  }
}
