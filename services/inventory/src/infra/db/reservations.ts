import type { ReservationReleaseReason, ReservationState } from '@inv/contracts';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { HeldLine } from '../../domain/reservation.js';

/** An order reservation as stored, with its lines in the order they were given. */
export interface ReservationRow {
  reservationId: string;
  reference: string;
  state: ReservationState;
  expiresAt: Date;
  warehouseIds: string[];
  releaseReason: Exclude<ReservationReleaseReason, 'partial_commit'> | null;
  releaseNote: string | null;
  createdBy: string;
  createdAt: Date;
  updatedAt: Date;
  lines: StoredLine[];
}

export interface StoredLine extends HeldLine {
  committedQuantity: number | null;
}

interface HeadSql {
  reservation_id: string;
  reference: string;
  state: ReservationState;
  expires_at: Date;
  warehouse_ids: string[];
  release_reason: ReservationRow['releaseReason'];
  release_note: string | null;
  created_by: string;
  created_at: Date;
  updated_at: Date;
}

interface LineSql {
  reservation_id: string;
  line_id: string;
  inventory_id: string;
  product_id: string;
  warehouse_id: string;
  variant_id: string | null;
  uom_id: string | null;
  quantity: string | number;
  committed_quantity: string | number | null;
}

/**
 * A PostgreSQL array literal for one `?` binding: the query builder would spread a JS array into a list of
 * bindings, so arrays travel as their text form, each element quoted.
 */
export function pgArray(values: readonly (string | number)[]): string {
  return `{${values.map((v) => `"${String(v).replace(/[\\"]/g, (c) => `\\${c}`)}"`).join(',')}}`;
}

const HEAD_COLUMNS = `reservation_id, reference, state, expires_at, warehouse_ids, release_reason, release_note,
  created_by, created_at, updated_at`;

function lineOf(row: LineSql): StoredLine {
  return {
    lineId: row.line_id,
    inventoryId: row.inventory_id,
    productId: row.product_id,
    warehouseId: row.warehouse_id,
    variantId: row.variant_id,
    uomId: row.uom_id,
    quantity: Number(row.quantity),
    committedQuantity: row.committed_quantity === null ? null : Number(row.committed_quantity),
  };
}

async function withLines(em: EntityManager, heads: HeadSql[]): Promise<ReservationRow[]> {
  if (heads.length === 0) return [];
  const lines = await em.execute<LineSql[]>(
    `select * from order_reservation_line where reservation_id = any(?::text[]) order by reservation_id, position`,
    [pgArray(heads.map((h) => h.reservation_id))],
  );
  const byReservation = new Map<string, StoredLine[]>();
  for (const line of lines) {
    const list = byReservation.get(line.reservation_id) ?? [];
    list.push(lineOf(line));
    byReservation.set(line.reservation_id, list);
  }
  return heads.map((h) => rowOf(h, byReservation.get(h.reservation_id) ?? []));
}

function rowOf(h: HeadSql, lines: StoredLine[]): ReservationRow {
  return {
    reservationId: h.reservation_id,
    reference: h.reference,
    state: h.state,
    expiresAt: new Date(h.expires_at),
    warehouseIds: h.warehouse_ids,
    releaseReason: h.release_reason,
    releaseNote: h.release_note,
    createdBy: h.created_by,
    createdAt: new Date(h.created_at),
    updatedAt: new Date(h.updated_at),
    lines,
  };
}

/** The head columns and the lines (json, in position order) of reservations `r`. */
const WITH_LINES = `${HEAD_COLUMNS},
  (select coalesce(json_agg(l order by l.position), '[]') from order_reservation_line l
    where l.reservation_id = r.reservation_id) as lines`;

type RowSql = HeadSql & { lines: LineSql[] };

/**
 * A reservation with its lines in one round trip, locked for the rest of the transaction when `forUpdate`: every
 * change of its state goes there.
 */
export async function findReservation(
  em: EntityManager,
  reservationId: string,
  forUpdate = false,
): Promise<ReservationRow | null> {
  const [found] = await em.execute<RowSql[]>(
    `select ${WITH_LINES} from order_reservation r where reservation_id = ?${forUpdate ? ' for update of r' : ''}`,
    [reservationId],
  );
  return found ? rowOf(found, found.lines.map(lineOf)) : null;
}

/**
 * Claims up to `limit` active reservations due at `now`, oldest due first, locking them, with their lines in the
 * same round trip; rows another instance holds are skipped rather than waited for, so several sweepers share the
 * work and none expires one twice.
 */
export async function claimDueReservations(
  em: EntityManager,
  now: Date,
  limit: number,
): Promise<ReservationRow[]> {
  const found = await em.execute<RowSql[]>(
    `select ${WITH_LINES} from order_reservation r
      where state = 'active' and expires_at <= ?
      order by expires_at, reservation_id limit ? for update of r skip locked`,
    [now, limit],
  );
  return found.map((h) => rowOf(h, h.lines.map(lineOf)));
}

export interface ReservationFilter {
  reference?: string;
  state?: ReservationState;
  warehouseId?: string;
  /** The caller's warehouses, or null for every warehouse: a reservation is listed only if all its are there. */
  visibleWarehouses: string[] | null;
  /** Keyset: reservations with a greater id. */
  after?: string;
  limit: number;
}

/** Reservations in id order (ids are time-ordered), `limit` of them. */
export async function listReservationRows(
  em: EntityManager,
  filter: ReservationFilter,
): Promise<ReservationRow[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  if (filter.reference !== undefined) {
    where.push('reference = ?');
    params.push(filter.reference);
  }
  if (filter.state !== undefined) {
    where.push('state = ?');
    params.push(filter.state);
  }
  if (filter.warehouseId !== undefined) {
    where.push('warehouse_ids @> ?::text[]');
    params.push(pgArray([filter.warehouseId]));
  }
  if (filter.visibleWarehouses !== null) {
    where.push('warehouse_ids <@ ?::text[]');
    params.push(pgArray(filter.visibleWarehouses));
  }
  if (filter.after !== undefined) {
    where.push('reservation_id > ?');
    params.push(filter.after);
  }
  const heads = await em.execute<HeadSql[]>(
    `select ${HEAD_COLUMNS} from order_reservation ${where.length ? `where ${where.join(' and ')}` : ''}
      order by reservation_id limit ?`,
    [...params, filter.limit],
  );
  return withLines(em, heads);
}

/** Per record, what its active order reservations hold: the `reserved` they account for. */
export async function activeHoldsPerRecord(em: EntityManager): Promise<Map<string, number>> {
  const rows = await em.execute<{ inventory_id: string; held: string }[]>(
    `select l.inventory_id, sum(l.quantity) as held from order_reservation_line l
       join order_reservation r using (reservation_id) where r.state = 'active' group by l.inventory_id`,
  );
  return new Map(rows.map((r) => [r.inventory_id, Number(r.held)]));
}
