import { Migration } from '@mikro-orm/migrations';

/**
 * What is left of each batch: stock leaving a record (out, shipped transfers, a lower count) is taken from its
 * batches first-expiring-first-out, so expiry alerts and lists speak of goods still on the shelf.
 */
export class Migration20261128000000_batch_remaining extends Migration {
  override async up(): Promise<void> {
    this.addSql('alter table inventory_batch add column remaining bigint;');
    this.addSql('update inventory_batch set remaining = quantity;');
    this.addSql(`
      alter table inventory_batch
        alter column remaining set not null,
        add constraint inventory_batch_remaining_range check (remaining >= 0 and remaining <= quantity);`);
    this.addSql(
      'create index inventory_batch_on_shelf_idx on inventory_batch (inventory_id, expires_at, batch_id) where remaining > 0;',
    );
  }

  override async down(): Promise<void> {
    this.addSql('drop index if exists inventory_batch_on_shelf_idx;');
    this.addSql('alter table inventory_batch drop column remaining;');
  }
}
