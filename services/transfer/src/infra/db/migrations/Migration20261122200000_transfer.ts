import { Migration } from '@mikro-orm/migrations';

/** Spelled out, not taken from the contracts: a migration must keep meaning what it meant when it ran. */
const STATUSES = [
  'requested',
  'approved',
  'rejected',
  'picking_started',
  'packed',
  'shipped',
  'received',
  'completed',
  'cancelled',
];
const RESERVATION_STATUSES = ['none', 'pending', 'reserved', 'failed', 'released', 'consumed'];
const list = (values: string[]) => values.map((v) => `'${v}'`).join(', ');

/** Transfers, their lines and the history of their transitions (who, when, why). */
export class Migration20261122200000_transfer extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table transfer (
        transfer_id text primary key,
        source_warehouse_id text not null,
        destination_warehouse_id text not null,
        status text not null check (status in (${list(STATUSES)})),
        reservation_status text not null check (reservation_status in (${list(RESERVATION_STATUSES)})),
        version integer not null check (version >= 1),
        note text null,
        rejection_reason text null,
        created_by text not null,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now(),
        constraint transfer_between_two_warehouses check (source_warehouse_id <> destination_warehouse_id)
      );`);
    // Listings are newest first per warehouse (either end) or per status.
    this.addSql('create index transfer_source_idx on transfer (source_warehouse_id, transfer_id desc);');
    this.addSql(
      'create index transfer_destination_idx on transfer (destination_warehouse_id, transfer_id desc);',
    );
    this.addSql('create index transfer_status_idx on transfer (status, transfer_id desc);');
    this.addSql(`
      create table transfer_line (
        transfer_id text not null references transfer (transfer_id),
        line_id text not null,
        position integer not null,
        product_id text not null,
        variant_id text null,
        uom_id text null,
        quantity integer not null check (quantity > 0),
        shipped_quantity integer null check (shipped_quantity >= 0),
        received_quantity integer null check (received_quantity >= 0 and received_quantity <= shipped_quantity),
        primary key (transfer_id, line_id),
        constraint transfer_line_position unique (transfer_id, position)
      );`);
    this.addSql(`
      create table transfer_transition (
        transition_id bigserial primary key,
        transfer_id text not null references transfer (transfer_id),
        from_status text null,
        to_status text not null,
        actor text not null,
        reason text null,
        version integer not null,
        at timestamptz not null default now(),
        constraint transfer_transition_one_per_version unique (transfer_id, version)
      );`);
  }

  override async down(): Promise<void> {
    this.addSql('drop table if exists transfer_transition;');
    this.addSql('drop table if exists transfer_line;');
    this.addSql('drop table if exists transfer;');
  }
}
