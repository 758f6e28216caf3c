import { type DomainEvent, EVENT_CATALOG, newEventId, type StockKey } from '@inv/contracts';
import { ConcurrencyConflict } from '@inv/platform';
import type { LocationPatch, MovementContext, StockRecord } from '../../domain/record.js';
import type { StockChange } from '../../domain/stock.js';
import { MovementRow } from './entities.js';
import { BOOK_MOVEMENTS_SQL, BOOK_ONE_INCREASE_SQL } from './movements-sql.js';
import type { SqlClient } from './sql-client.js';

/** The record a group of movements applies to: an existing one by id, or one by stock key (created if allowed). */
export interface MovementTarget {
  inventoryId?: string;
  key?: StockKey;
  /** The id a record created by this statement gets. */
  newInventoryId: string;
  mayCreate: boolean;
  /** Refuse unless the record is at this version (0: does not exist yet). */
  expectedVersion?: number;
  location?: LocationPatch;
}

export interface MovementInput {
  change: StockChange;
  context: MovementContext;
  /** Ids for the events the movement may produce; unused ones are dropped. */
  eventIds: { updated: string; lowStock: string; outOfStock: string };
}

export interface MovementGroup {
  target: MovementTarget;
  movements: MovementInput[];
}

export type Refusal = 'not_found' | 'stale' | 'insufficient';

export type BookingResult =
  | {
      ok: true;
      /** Per group, in the order given. */
      booked: { record: StockRecord; movements: MovementRow[]; events: DomainEvent[] }[];
    }
  | {
      ok: false;
      /** Per group: why it was refused, or null when it alone would have passed. */
      refusals: (Refusal | null)[];
      /** Per group: the record as it was when the statement ran, or null when it does not exist. */
      current: (StockRecord | null)[];
    };

/**
 * A record's columns as the movement statement returns them (JSON: numbers, timestamps as text) or as `pg`
 * reads them from the table (bigint as text, timestamptz as a Date).
 */
export interface RecordJson {
  inventory_id: string;
  product_id: string;
  warehouse_id: string;
  variant_id: string | null;
  uom_id: string | null;
  quantity_available: number | string;
  quantity_reserved: number | string;
  minimum_stock: number | string;
  rack: string | null;
  bin: string | null;
  zone: string | null;
  aisle: string | null;
  version: number;
  updated_at: string | Date;
}

/** A ledger row's columns, from the movement statement's JSON or from the table (see RecordJson). */
export interface MovementJson {
  movement_id: number | string;
  inventory_id: string;
  record_version: number;
  product_id: string;
  warehouse_id: string;
  variant_id: string | null;
  uom_id: string | null;
  movement_type: string;
  quantity_change: number | string;
  reserved_change: number | string;
  available_before: number | string;
  available_after: number | string;
  reserved_before: number | string;
  reserved_after: number | string;
  minimum_stock: number | string;
  reason: string | null;
  source: string | null;
  actor: string;
  correlation_id: string | null;
  causation_id: string | null;
  transfer_id: string | null;
  transfer_line_id: string | null;
  batch_id: string | null;
  reservation_id: string | null;
  event_id: string;
  created_at: string | Date;
}

interface ResultJson {
  ok: boolean;
  failures: { rec: number; failure: Refusal }[] | null;
  current: { rec: number; row: RecordJson | null }[] | null;
  records: { rec: number; row: RecordJson }[] | null;
  movements: MovementJson[] | null;
  events: DomainEvent[] | null;
}

export function recordOfJson(row: RecordJson): StockRecord {
  return {
    inventoryId: row.inventory_id,
    productId: row.product_id,
    warehouseId: row.warehouse_id,
    variantId: row.variant_id,
    uomId: row.uom_id,
    levels: {
      available: Number(row.quantity_available),
      reserved: Number(row.quantity_reserved),
      minimumStock: Number(row.minimum_stock),
    },
    location: { rack: row.rack, bin: row.bin, zone: row.zone, aisle: row.aisle },
    version: row.version,
    updatedAt: new Date(row.updated_at),
  };
}

export function movementOfJson(row: MovementJson): MovementRow {
  return Object.assign(new MovementRow(), {
    movementId: Number(row.movement_id),
    inventoryId: row.inventory_id,
    recordVersion: row.record_version,
    productId: row.product_id,
    warehouseId: row.warehouse_id,
    variantId: row.variant_id,
    uomId: row.uom_id,
    movementType: row.movement_type,
    quantityChange: Number(row.quantity_change),
    reservedChange: Number(row.reserved_change),
    availableBefore: Number(row.available_before),
    availableAfter: Number(row.available_after),
    reservedBefore: Number(row.reserved_before),
    reservedAfter: Number(row.reserved_after),
    minimumStock: Number(row.minimum_stock),
    reason: row.reason,
    source: row.source,
    actor: row.actor,
    correlationId: row.correlation_id,
    causationId: row.causation_id,
    transferId: row.transfer_id,
    transferLineId: row.transfer_line_id,
    batchId: row.batch_id,
    reservationId: row.reservation_id,
    eventId: row.event_id,
    createdAt: new Date(row.created_at),
  });
}

function targetJson(target: MovementTarget, rec: number) {
  return {
    rec,
    inventory_id: target.inventoryId ?? null,
    product_id: target.key?.productId ?? null,
    warehouse_id: target.key?.warehouseId ?? null,
    variant_id: target.key?.variantId ?? null,
    uom_id: target.key?.uomId ?? null,
    new_id: target.newInventoryId,
    expected_version: target.expectedVersion ?? null,
    may_create: target.mayCreate,
    loc: target.location ?? {},
  };
}

function movementJson(input: MovementInput, rec: number, seq: number) {
  const { change, context, eventIds } = input;
  return {
    rec,
    seq,
    q: change.countedAvailable === undefined ? change.quantityChange : 0,
    r: change.reservedChange,
    counted: change.countedAvailable ?? null,
    allow_neg: change.allowNegative ?? false,
    min_stock: change.minimumStock ?? null,
    movement_type: change.movementType,
    reason: context.reason ?? null,
    source: context.source ?? null,
    actor: context.actor,
    correlation_id: context.correlationId ?? null,
    causation_id: context.causationId ?? null,
    transfer_id: context.transferId ?? null,
    transfer_line_id: context.transferLineId ?? null,
    batch_id: context.batchId ?? null,
    reservation_id: context.reservationId ?? null,
    updated_id: eventIds.updated,
    low_id: eventIds.lowStock,
    out_id: eventIds.outOfStock,
  };
}

const SCHEMA_VERSIONS = {
  updated: EVENT_CATALOG['inventory.updated'].current,
  low_stock: EVENT_CATALOG['inventory.low_stock'].current,
  out_of_stock: EVENT_CATALOG['inventory.out_of_stock'].current,
};

/**
 * A statement built by `bookMovementsSql` with an extension (e.g. a reservation written with its stock), its
 * own prepared-statement name, and the extension's parameters ($5 on).
 */
export interface ExtendedBooking {
  sql: string;
  name: string;
  params: unknown[];
}

/** A unique violation on the stock key: someone created the record after this statement's snapshot. */
function isCreationRace(error: unknown): boolean {
  const e = error as { code?: string; constraint?: string };
  return e?.code === '23505' && e.constraint === 'inventory_record_stock_key';
}

/** One record, one movement that adds stock and takes nothing: the lean statement books it (movements-sql.ts). */
function isOneIncrease(groups: MovementGroup[]): boolean {
  if (groups.length !== 1 || groups[0]!.movements.length !== 1) return false;
  const { change } = groups[0]!.movements[0]!;
  return (
    change.countedAvailable === undefined &&
    change.quantityChange > 0 &&
    change.quantityChange + change.reservedChange >= 0
  );
}

function statementOf(groups: MovementGroup[], extension?: ExtendedBooking): { sql: string; name: string } {
  if (extension) return extension;
  if (isOneIncrease(groups)) return { sql: BOOK_ONE_INCREASE_SQL, name: 'inventory_book_one_increase' };
  return { sql: BOOK_MOVEMENTS_SQL, name: 'inventory_book_movements' };
}

/**
 * Books groups of movements in one statement (see movements-sql.ts), all or nothing. A count
 * (`countedAvailable`) must be the only movement of its group. A lost creation race becomes a
 * ConcurrencyConflict, which commands retry.
 */
export async function bookMovements(
  client: SqlClient,
  groups: MovementGroup[],
  now: Date,
  extension?: ExtendedBooking,
): Promise<BookingResult> {
  const targets = groups.map((g, i) => targetJson(g.target, i));
  const movements = groups.flatMap((g, i) => g.movements.map((m, j) => movementJson(m, i, j + 1)));
  const params = [
    JSON.stringify(targets),
    JSON.stringify(movements),
    now,
    JSON.stringify({ ...SCHEMA_VERSIONS, occurredAt: now.toISOString() }),
    ...(extension?.params ?? []),
  ];
  const statement = statementOf(groups, extension);
  let rows: { result: ResultJson | string }[];
  try {
    rows = await client.query(statement.sql, params, statement.name);
  } catch (error) {
    if (isCreationRace(error)) throw new ConcurrencyConflict('inventory record created concurrently');
    throw error;
  }
  const raw = rows[0]!.result;
  const result: ResultJson = typeof raw === 'string' ? JSON.parse(raw) : raw;
  if (!result.ok) {
    const refusals: (Refusal | null)[] = groups.map(() => null);
    for (const f of result.failures ?? []) refusals[f.rec] = f.failure;
    const current: (StockRecord | null)[] = groups.map(() => null);
    for (const c of result.current ?? []) current[c.rec] = c.row ? recordOfJson(c.row) : null;
    return { ok: false, refusals, current };
  }
  if (client.autocommit) client.committed?.();
  const records = new Map((result.records ?? []).map((r) => [r.rec, recordOfJson(r.row)]));
  const allMovements = (result.movements ?? []).map(movementOfJson);
  const allEvents = result.events ?? [];
  const booked = groups.map((_, i) => {
    const record = records.get(i)!;
    return {
      record,
      movements: allMovements.filter((m) => m.inventoryId === record.inventoryId),
      events: allEvents.filter((e) => e.aggregate.id === record.inventoryId),
    };
  });
  return { ok: true, booked };
}

/**
 * Prepares the movement statements on one connection (the lean one for an increase, the generic one for a take)
 * by booking on a record that does not exist: both are refused (`not_found`), nothing is written, and the
 * connection has them planned before its first stock change.
 */
export async function warmMovementStatements(connection: SqlClient): Promise<void> {
  const now = new Date();
  const eventIds = () => ({
    updated: newEventId(now.getTime()),
    lowStock: newEventId(now.getTime()),
    outOfStock: newEventId(now.getTime()),
  });
  for (const quantityChange of [1, -1]) {
    await bookMovements(
      connection,
      [
        {
          target: { inventoryId: 'warm-up: no such record', newInventoryId: 'warm-up', mayCreate: false },
          movements: [
            {
              change: { movementType: quantityChange > 0 ? 'in' : 'out', quantityChange, reservedChange: 0 },
              context: { actor: 'warm-up', reason: null, source: null },
              eventIds: eventIds(),
            },
          ],
        },
      ],
      now,
    );
  }
}
