import { Migration } from '@mikro-orm/migrations';

/** Spelled out, not taken from the contracts: a migration must keep meaning what it meant when it ran. */
const MOVEMENT_TYPES = [
  'in',
  'out',
  'adjustment',
  'reservation',
  'release',
  'transfer_out',
  'transfer_in',
  'transfer_discrepancy',
];

/**
 * Stock records, their append-only movement ledger, batches, expiry notices and the transfer saga's state.
 * The ledger alone rebuilds every record: per inventory_id, available = sum(quantity_change), reserved =
 * sum(reserved_change), version = max(record_version) (= count of rows), minimum stock = minimum_stock of the
 * row with the highest record_version; the key columns are repeated on every row.
 */
export class Migration20261122100000_inventory extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table inventory_record (
        inventory_id text primary key,
        product_id text not null,
        warehouse_id text not null,
        variant_id text null,
        uom_id text null,
        quantity_available bigint not null default 0,
        quantity_reserved bigint not null default 0 check (quantity_reserved >= 0),
        minimum_stock bigint not null default 0 check (minimum_stock >= 0),
        rack text null,
        bin text null,
        zone text null,
        aisle text null,
        version integer not null check (version >= 1),
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now(),
        constraint inventory_record_stock_key unique nulls not distinct (product_id, variant_id, uom_id, warehouse_id)
      );`);
    this.addSql(
      'create index inventory_record_warehouse_idx on inventory_record (warehouse_id, inventory_id);',
    );
    this.addSql(
      'create index inventory_record_variant_idx on inventory_record (variant_id) where variant_id is not null;',
    );
    this.addSql(
      'create index inventory_record_uom_idx on inventory_record (uom_id) where uom_id is not null;',
    );
    this.addSql(`create index inventory_record_low_stock_idx on inventory_record (warehouse_id)
                   where minimum_stock > 0 and quantity_available < minimum_stock;`);

    this.addSql(`
      create table inventory_movement (
        movement_id bigserial primary key,
        inventory_id text not null references inventory_record (inventory_id),
        record_version integer not null,
        product_id text not null,
        warehouse_id text not null,
        variant_id text null,
        uom_id text null,
        movement_type text not null check (movement_type in (${MOVEMENT_TYPES.map((t) => `'${t}'`).join(', ')})),
        quantity_change bigint not null,
        reserved_change bigint not null,
        available_before bigint not null,
        available_after bigint not null,
        reserved_before bigint not null,
        reserved_after bigint not null,
        minimum_stock bigint not null,
        reason text null,
        source text null,
        actor text not null,
        correlation_id text null,
        causation_id text null,
        transfer_id text null,
        transfer_line_id text null,
        batch_id text null,
        event_id uuid not null unique,
        created_at timestamptz not null default now(),
        constraint inventory_movement_one_per_version unique (inventory_id, record_version),
        constraint inventory_movement_available_adds_up check (available_after = available_before + quantity_change),
        constraint inventory_movement_reserved_adds_up check (reserved_after = reserved_before + reserved_change)
      );`);
    this.addSql(
      'create index inventory_movement_transfer_idx on inventory_movement (transfer_id) where transfer_id is not null;',
    );
    // The ledger is history: corrections are new movements, never edits.
    this.addSql(`
      create function inventory_movement_append_only() returns trigger language plpgsql as $$
      begin
        raise exception 'inventory_movement is append-only (% refused)', tg_op;
      end $$;`);
    this.addSql(`
      create trigger inventory_movement_append_only before update or delete on inventory_movement
        for each row execute function inventory_movement_append_only();`);

    this.addSql(`
      create table inventory_batch (
        batch_id text primary key,
        inventory_id text not null references inventory_record (inventory_id),
        batch_number text not null,
        quantity bigint not null check (quantity > 0),
        expires_at timestamptz not null,
        movement_id bigint not null references inventory_movement (movement_id),
        created_at timestamptz not null default now()
      );`);
    this.addSql('create index inventory_batch_expires_idx on inventory_batch (expires_at, batch_id);');
    this.addSql('create index inventory_batch_record_idx on inventory_batch (inventory_id);');
    this.addSql(`
      create table batch_expiry_notice (
        batch_id text not null references inventory_batch (batch_id),
        threshold_days integer not null,
        event_id uuid null,
        notified_at timestamptz not null default now(),
        primary key (batch_id, threshold_days)
      );`);

    this.addSql(`
      create table transfer_saga (
        transfer_id text primary key,
        source_warehouse_id text not null,
        destination_warehouse_id text not null,
        state text not null check (state in ('reserved', 'failed', 'shipped', 'received', 'released', 'closed')),
        transfer_version integer not null,
        updated_at timestamptz not null default now()
      );`);
    this.addSql(`
      create table transfer_reservation (
        transfer_id text not null,
        line_id text not null,
        inventory_id text not null references inventory_record (inventory_id),
        quantity bigint not null check (quantity > 0),
        status text not null check (status in ('reserved', 'shipped', 'received', 'released')),
        shipped_quantity bigint null,
        received_quantity bigint null,
        destination_inventory_id text null references inventory_record (inventory_id),
        updated_at timestamptz not null default now(),
        primary key (transfer_id, line_id)
      );`);
  }

  override async down(): Promise<void> {
    this.addSql('drop table if exists transfer_reservation;');
    this.addSql('drop table if exists transfer_saga;');
    this.addSql('drop table if exists batch_expiry_notice;');
    this.addSql('drop table if exists inventory_batch;');
    this.addSql('drop table if exists inventory_movement;');
    this.addSql('drop function if exists inventory_movement_append_only();');
    this.addSql('drop table if exists inventory_record;');
  }
}
