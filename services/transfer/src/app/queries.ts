import {
  type AccessClaims,
  canSeeWarehouse,
  DomainError,
  seesAllWarehouses,
  type Transfer,
  type TransferStatus,
} from '@inv/contracts';
import { assertWarehouseAccess, decodePageCursor, keysetPage } from '@inv/platform';
import type { FilterQuery } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { TransferState } from '../domain/transfer.js';
import type { TransferRow } from '../infra/db/entities.js';
import { findTransfer, findTransfers } from '../infra/db/transfers.js';
import { transferDtoFor } from './dto.js';

/**
 * A transfer concerns both its warehouses: a caller with either may read it. What they may do to it is the
 * permission matrix's business (domain/permissions.ts).
 */
export function assertTransferAccess(
  claims: AccessClaims,
  transfer: Pick<TransferState, 'sourceWarehouseId' | 'destinationWarehouseId'>,
): void {
  if (canSeeWarehouse(claims, transfer.destinationWarehouseId)) return;
  assertWarehouseAccess(claims, transfer.sourceWarehouseId);
}

/** A transfer the caller may see, or NOT_FOUND / FORBIDDEN. */
export async function visibleTransfer(
  em: EntityManager,
  claims: AccessClaims,
  transferId: string,
): Promise<TransferState> {
  const transfer = await findTransfer(em, transferId);
  if (!transfer) throw new DomainError('NOT_FOUND', `no transfer ${transferId}`, { transferId });
  assertTransferAccess(claims, transfer);
  return transfer;
}

function eitherEnd(warehouseIds: string | string[]): FilterQuery<TransferRow> {
  const match = Array.isArray(warehouseIds) ? { $in: warehouseIds } : warehouseIds;
  return { $or: [{ sourceWarehouseId: match }, { destinationWarehouseId: match }] };
}

export interface TransferListFilter {
  warehouseId?: string;
  status?: TransferStatus;
  limit: number;
  after?: string;
}

/** Transfers the caller may see, newest first, one keyset page at a time. */
export async function listTransfers(
  em: EntityManager,
  claims: AccessClaims,
  query: TransferListFilter,
): Promise<{ items: Transfer[]; page: { limit: number; nextCursor: string | null } }> {
  if (query.warehouseId) assertWarehouseAccess(claims, query.warehouseId);
  const after = decodePageCursor(query.after, ['s']);
  const conditions: FilterQuery<TransferRow>[] = [];
  if (!seesAllWarehouses(claims)) conditions.push(eitherEnd(claims.warehouses));
  if (query.warehouseId) conditions.push(eitherEnd(query.warehouseId));
  if (query.status) conditions.push({ status: query.status });
  if (after) conditions.push({ transferId: { $lt: after[0] as string } });
  const transfers = await findTransfers(em, { $and: conditions }, query.limit + 1);
  return keysetPage(
    transfers,
    query.limit,
    (t) => [t.transferId],
    (t) => transferDtoFor(t, claims),
  );
}
