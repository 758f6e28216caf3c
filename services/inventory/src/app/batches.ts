import { type CreateBatchRequest, type CreateBatchResponse, newEventId } from '@inv/contracts';
import type { Caller } from '@inv/platform';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { z } from 'zod';
import { parseExpiry, remainingOfNewBatch } from '../domain/batch-expiry.js';
import { deltas } from '../domain/stock.js';
import { insertBatch, remainingInBatches } from '../infra/db/batches.js';
import { BatchRow } from '../infra/db/entities.js';
import { entityManagerClient } from '../infra/db/sql-client.js';
import { movementDto, recordDto } from './dto.js';
import { applyMovement } from './movements.js';
import { visibleRecord } from './queries.js';

export function batchDto(
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
  const onHand = booked.record.levels.available + booked.record.levels.reserved;
  const batch = Object.assign(new BatchRow(), {
    batchId,
    inventoryId,
    batchNumber: request.batchNumber,
    quantity: request.quantity,
    remaining: remainingOfNewBatch(request.quantity, onHand, await remainingInBatches(em, inventoryId)),
    expiresAt: parseExpiry(request.expiresAt),
    movementId: movement.movementId,
    createdAt: now,
  });
  await insertBatch(em, batch);
  return { batch: batchDto(batch), inventory: recordDto(booked.record), movement: movementDto(movement) };
}
