import { Migration } from '@mikro-orm/migrations';

/** Spelled out: a migration keeps meaning what it meant when it ran. The first eight are the original ones. */
const MOVEMENT_TYPES = [
  'in',
  'out',
  'adjustment',
  'reservation',
  'release',
  'transfer_out',
  'transfer_in',
  'transfer_discrepancy',
  'reservation_release',
  'reservation_commit',
];
const ORIGINAL_MOVEMENT_TYPES = MOVEMENT_TYPES.slice(0, 8);
const listed = (types: string[]) => types.map((t) => `'${t}'`).join(', ');

/**
 * Order reservations (carts, orders) and their lines. A line keeps its stock key so a reservation can be shown
 * and listed without joining the records; `warehouse_ids` lets lists be confined to a caller's warehouses.
 * Their ledger rows carry the reservation id: `reservation` (shared with the transfer saga, which leaves it
 * null), `reservation_release` and `reservation_commit`.
 *
 * A line's inventory_id has no foreign key on purpose: the key check would take a KEY SHARE lock on the record,
 * which conflicts with the movement's FOR UPDATE and made concurrent reservations of one record deadlock.
 * Records are never deleted and a line names one the command just read.
 */
export class Migration20261201040000_order_reservations extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      alter table inventory_movement
        drop constraint inventory_movement_movement_type_check,
        add constraint inventory_movement_movement_type_check check (movement_type in (${listed(MOVEMENT_TYPES)})),
        add column reservation_id text null;`);
    this.addSql(
      'create index inventory_movement_reservation_idx on inventory_movement (reservation_id) where reservation_id is not null;',
    );
    this.addSql(`
      create table order_reservation (
        reservation_id text primary key,
        reference text not null,
        state text not null check (state in ('active', 'committed', 'released', 'expired')),
        expires_at timestamptz not null,
        warehouse_ids text[] not null,
        release_reason text null check (release_reason in ('released', 'expired')),
        release_note text null,
        created_by text not null,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now()
      );`);
    this.addSql(
      `create index order_reservation_due_idx on order_reservation (expires_at, reservation_id) where state = 'active';`,
    );
    this.addSql(
      'create index order_reservation_reference_idx on order_reservation (reference, reservation_id);',
    );
    this.addSql(
      'create index order_reservation_warehouses_idx on order_reservation using gin (warehouse_ids);',
    );
    this.addSql(`
      create table order_reservation_line (
        reservation_id text not null references order_reservation (reservation_id),
        line_id text not null,
        position integer not null,
        inventory_id text not null,
        product_id text not null,
        warehouse_id text not null,
        variant_id text null,
        uom_id text null,
        quantity bigint not null check (quantity > 0),
        committed_quantity bigint null check (committed_quantity >= 0 and committed_quantity <= quantity),
        primary key (reservation_id, line_id)
      );`);
    this.addSql(
      'create index order_reservation_line_record_idx on order_reservation_line (inventory_id, reservation_id);',
    );
  }

  override async down(): Promise<void> {
    this.addSql('drop table if exists order_reservation_line;');
    this.addSql('drop table if exists order_reservation;');
    this.addSql(`
      alter table inventory_movement
        drop column reservation_id,
        drop constraint inventory_movement_movement_type_check,
        add constraint inventory_movement_movement_type_check check (movement_type in (${listed(ORIGINAL_MOVEMENT_TYPES)}));`);
  }
}
