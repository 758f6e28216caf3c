import {
  type CreateBatchRequest,
  type CreateBatchResponse,
  type ExpiringBatchesResponse,
  newEventId,
  seesAllWarehouses,
} from '@inv/contracts';
import { assertWarehouseAccess } from '@inv/platform';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { z } from 'zod';
import { DAY_MS, daysUntilExpiry, parseExpiry } from '../domain/batch-expiry.js';
import { deltas } from '../domain/stock.js';
import { type BatchWithRecord, findBatchesExpiringBetween, insertBatch } from '../infra/db/batches.js';
import { BatchRow } from '../infra/db/entities.js';
import { entityManagerClient } from '../infra/db/sql-client.js';
import type { Caller } from './adjust.js';
import { movementDto, recordDto } from './dto.js';
import { applyMovement } from './movements.js';
import { visibleRecord } from './queries.js';

function batchDto(
  batch: Pick<
    BatchRow,
    'batchId' | 'inventoryId' | 'batchNumber' | 'quantity' | 'remaining' | 'expiresAt' | 'createdAt'
  >,
) {
  return {
    batchId: batch.batchId,
    inventoryId: batch.inventoryId,
    batchNumber: batch.batchNumber,
    quantity: batch.quantity,
    remaining: batch.remaining,
    expiresAt: batch.expiresAt.toISOString(),
    createdAt: batch.createdAt.toISOString(),
  };
}

/** Adds a batch (lot) with its expiry to a record, and its quantity to the record's stock as an `in`. */
export async function addBatch(
  em: EntityManager,
  inventoryId: string,
  request: CreateBatchRequest,
  caller: Caller,
): Promise<z.infer<typeof CreateBatchResponse>> {
  await visibleRecord(em, caller.claims, inventoryId);
  const now = new Date();
  const batchId = newEventId(now.getTime());
  const booked = await applyMovement(
    entityManagerClient(em),
    {
      target: { inventoryId },
      changes: [
        {
          change: deltas.in(request.quantity),
          context: {
            actor: caller.actor,
            reason: request.reason ?? `batch ${request.batchNumber}`,
            source: 'batch',
            correlationId: caller.correlationId,
            batchId,
          },
        },
      ],
    },
    now,
  );
  const movement = booked.movements[0]!;
  const batch = Object.assign(new BatchRow(), {
    batchId,
    inventoryId,
    batchNumber: request.batchNumber,
    quantity: request.quantity,
    remaining: request.quantity,
    expiresAt: parseExpiry(request.expiresAt),
    movementId: movement.movementId,
    createdAt: now,
  });
  await insertBatch(em, batch);
  return { batch: batchDto(batch), inventory: recordDto(booked.record), movement: movementDto(movement) };
}

const MAX_EXPIRING_LISTED = 1_000;

/** Batches that expire within `withinDays` (and have not expired yet), soonest first. */
export async function expiringBatches(
  em: EntityManager,
  caller: Pick<Caller, 'claims'>,
  query: { withinDays: number; warehouseId?: string },
  now: Date = new Date(),
): Promise<z.infer<typeof ExpiringBatchesResponse>> {
  if (query.warehouseId) assertWarehouseAccess(caller.claims, query.warehouseId);
  const warehouses = query.warehouseId
    ? [query.warehouseId]
    : seesAllWarehouses(caller.claims)
      ? undefined
      : caller.claims.warehouses;
  const batches = await findBatchesExpiringBetween(
    em,
    now,
    new Date(now.getTime() + query.withinDays * DAY_MS),
    {
      warehouses,
      limit: MAX_EXPIRING_LISTED,
    },
  );
  return {
    items: batches.map((b) => expiringBatchDto(b, now)),
    total: batches.length,
    withinDays: query.withinDays,
    timestamp: now.toISOString(),
  };
}

function expiringBatchDto(batch: BatchWithRecord, now: Date) {
  return {
    ...batchDto(batch),
    productId: batch.productId,
    warehouseId: batch.warehouseId,
    variantId: batch.variantId,
    uomId: batch.uomId,
    daysUntilExpiry: daysUntilExpiry(batch.expiresAt, now),
  };
}
