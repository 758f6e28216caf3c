import type { ReservationStatus, TransferStatus } from '@inv/contracts';
import { ConcurrencyConflict } from '@inv/platform';
import type { FilterQuery } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { TransferChange, TransferLine, TransferState, TransitionRecord } from '../../domain/transfer.js';
import { TransferLineRow, TransferRow, TransferTransitionRow } from './entities.js';

/**
 * Reads bypass the identity map: transfers become plain values at once and are written with conditional native
 * updates, so a later read in the same transaction sees the database, not a cached entity.
 */
const FRESH = { disableIdentityMap: true } as const;

function lineOfRow(row: TransferLineRow): TransferLine {
  return {
    lineId: row.lineId,
    productId: row.productId,
    variantId: row.variantId,
    uomId: row.uomId,
    quantity: row.quantity,
    shippedQuantity: row.shippedQuantity,
    receivedQuantity: row.receivedQuantity,
  };
}

function transitionOfRow(row: TransferTransitionRow): TransitionRecord {
  return {
    from: row.fromStatus as TransferStatus | null,
    to: row.toStatus as TransferStatus,
    actor: row.actor,
    reason: row.reason,
    at: row.at,
  };
}

function groupBy<T extends { transferId: string }>(rows: T[]): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const row of rows) {
    const group = groups.get(row.transferId);
    if (group) group.push(row);
    else groups.set(row.transferId, [row]);
  }
  return groups;
}

/** Transfers with their lines and history, in the order of `rows`. */
async function assemble(em: EntityManager, rows: TransferRow[]): Promise<TransferState[]> {
  if (rows.length === 0) return [];
  const ids = rows.map((r) => r.transferId);
  // One after the other: both run on the transaction's single connection anyway.
  const lines = await em.find(
    TransferLineRow,
    { transferId: { $in: ids } },
    { ...FRESH, orderBy: { position: 'asc' } },
  );
  const transitions = await em.find(
    TransferTransitionRow,
    { transferId: { $in: ids } },
    { ...FRESH, orderBy: { transitionId: 'asc' } },
  );
  const linesOf = groupBy(lines);
  const historyOf = groupBy(transitions);
  return rows.map((row) => ({
    transferId: row.transferId,
    sourceWarehouseId: row.sourceWarehouseId,
    destinationWarehouseId: row.destinationWarehouseId,
    status: row.status as TransferStatus,
    reservationStatus: row.reservationStatus as ReservationStatus,
    version: row.version,
    lines: (linesOf.get(row.transferId) ?? []).map(lineOfRow),
    note: row.note,
    rejectionReason: row.rejectionReason,
    history: (historyOf.get(row.transferId) ?? []).map(transitionOfRow),
    createdBy: row.createdBy,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  }));
}

export async function findTransfer(em: EntityManager, transferId: string): Promise<TransferState | null> {
  const row = await em.findOne(TransferRow, { transferId }, FRESH);
  if (!row) return null;
  const [transfer] = await assemble(em, [row]);
  return transfer ?? null;
}

export async function findTransfers(
  em: EntityManager,
  where: FilterQuery<TransferRow>,
  limit: number,
): Promise<TransferState[]> {
  const rows = await em.find(TransferRow, where, { ...FRESH, orderBy: { transferId: 'desc' }, limit });
  return assemble(em, rows);
}

function rowOf(transfer: TransferState): TransferRow {
  return {
    transferId: transfer.transferId,
    sourceWarehouseId: transfer.sourceWarehouseId,
    destinationWarehouseId: transfer.destinationWarehouseId,
    status: transfer.status,
    reservationStatus: transfer.reservationStatus,
    version: transfer.version,
    note: transfer.note,
    rejectionReason: transfer.rejectionReason,
    createdBy: transfer.createdBy,
    createdAt: transfer.createdAt,
    updatedAt: transfer.updatedAt,
  };
}

async function insertTransfer(em: EntityManager, transfer: TransferState): Promise<void> {
  await em.insert(TransferRow, rowOf(transfer));
  await em.insertMany(
    TransferLineRow,
    transfer.lines.map((line, position) => ({ transferId: transfer.transferId, position, ...line })),
  );
}

/** `UPDATE … WHERE version = <version read>`: changes nothing, and says so, when someone else got there first. */
async function updateTransfer(em: EntityManager, before: TransferState, after: TransferState) {
  const { transferId, createdAt: _createdAt, ...changed } = rowOf(after);
  const updated = await em.nativeUpdate(TransferRow, { transferId, version: before.version }, changed);
  if (updated === 0) {
    throw new ConcurrencyConflict(`transfer ${transferId} changed after version ${before.version}`);
  }
}

async function updateLineQuantities(em: EntityManager, transfer: TransferState): Promise<void> {
  const quantities = transfer.lines.map((l) => ({
    line_id: l.lineId,
    shipped: l.shippedQuantity,
    received: l.receivedQuantity,
  }));
  await em.execute(
    `update transfer_line l set shipped_quantity = v.shipped, received_quantity = v.received
       from jsonb_to_recordset(?::jsonb) as v(line_id text, shipped int, received int)
      where l.transfer_id = ? and l.line_id = v.line_id`,
    [JSON.stringify(quantities), transfer.transferId],
  );
}

/** Writes a change in the caller's transaction: the transfer (conditionally), its lines and its history. */
export async function saveChange(em: EntityManager, change: TransferChange): Promise<void> {
  const { before, after } = change;
  if (before === null) await insertTransfer(em, after);
  else {
    await updateTransfer(em, before, after);
    if (change.linesChanged) await updateLineQuantities(em, after);
  }
  if (change.transition) {
    await em.insert(TransferTransitionRow, {
      transferId: after.transferId,
      fromStatus: change.transition.from,
      toStatus: change.transition.to,
      actor: change.transition.actor,
      reason: change.transition.reason,
      version: after.version,
      at: change.transition.at,
    });
  }
}
