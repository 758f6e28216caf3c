import {
  type AdjustRequest,
  type AdjustResponse,
  DomainError,
  type StockKey,
  type UpdateInventorySettingsRequest,
} from '@inv/contracts';
import {
  assertExpectedVersion,
  assertWarehouseAccess,
  type Caller,
  ConcurrencyConflict,
} from '@inv/platform';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { z } from 'zod';
import { assertMayAllowNegative } from '../domain/negative-stock.js';
import type { LocationPatch, StockRecord } from '../domain/record.js';
import { changeForAdjust, deltas } from '../domain/stock.js';
import type { SqlClient } from '../infra/db/sql-client.js';
import { movementDto, recordDto } from './dto.js';
import {
  type BookedChanges,
  type MovementLine,
  type MovementOutcome,
  tryApplyMovements,
} from './movements.js';
import { visibleRecord } from './queries.js';

function locationPatchOf(body: LocationPatch): LocationPatch {
  const patch: LocationPatch = {};
  for (const field of ['rack', 'bin', 'zone', 'aisle'] as const) {
    if (body[field] !== undefined) patch[field] = body[field];
  }
  return patch;
}

function responseOf(booked: BookedChanges): AdjustResponse {
  return { inventory: recordDto(booked.record), movement: movementDto(booked.movements.at(-1)!) };
}

/** How a use case books one line: alone on a client, or through the write path's MovementCombiner. */
export type LineWriter = (line: MovementLine) => Promise<MovementOutcome>;

/** Each line in a statement of its own on `db` (e.g. the transaction of a request with an Idempotency-Key). */
export function writeAlone(db: SqlClient): LineWriter {
  return (line) => tryApplyMovements(db, [line]);
}

/**
 * `POST /api/inventory/adjust`: `in` adds, `out` removes (never below zero unless `allowNegative`),
 * `adjustment` sets available stock to a count. The first change creates the record. One atomic statement:
 * the change applies to whatever the record holds at that moment, so concurrent adjusts never conflict; only a
 * pinned version (If-Match / expectedVersion) can lose, at once.
 */
export async function adjustStock(
  write: LineWriter,
  request: AdjustRequest,
  caller: Caller & { expectedVersion?: number },
): Promise<AdjustResponse> {
  assertMayAllowNegative(caller.claims, request);
  assertWarehouseAccess(caller.claims, request.warehouseId);
  const key: StockKey = {
    productId: request.productId,
    warehouseId: request.warehouseId,
    variantId: request.variantId ?? null,
    uomId: request.uomId ?? null,
  };
  const outcome = await write({
    target: { key },
    expectedVersion: caller.expectedVersion,
    location: locationPatchOf(request),
    changes: [
      {
        change: changeForAdjust(request),
        context: {
          actor: caller.actor,
          reason: request.reason ?? null,
          source: request.source ?? null,
          correlationId: caller.correlationId,
        },
      },
    ],
  });
  if (!outcome.ok) throw outcome.error;
  return responseOf(outcome.booked[0]!);
}

type SettingsRequest = z.infer<typeof UpdateInventorySettingsRequest>;

function describeSettings(record: StockRecord, request: SettingsRequest, moved: string[]): string {
  const parts: string[] = [];
  if (request.minimumStock !== undefined) {
    parts.push(`minimumStock ${record.levels.minimumStock} -> ${request.minimumStock}`);
  }
  for (const field of moved) {
    const key = field as keyof LocationPatch;
    parts.push(`${field} ${record.location[key] ?? '-'} -> ${request[key] ?? '-'}`);
  }
  return `settings: ${parts.join(', ') || 'unchanged'}`;
}

/**
 * `PATCH /api/inventory/:inventoryId`: minimum stock and location. Booked as a zero adjustment, so every
 * version of a record has its ledger row and its event; a new minimum can itself cross the low-stock line.
 */
export async function updateSettings(
  em: EntityManager,
  db: SqlClient,
  inventoryId: string,
  request: SettingsRequest,
  caller: Caller & { expectedVersion?: number },
): Promise<AdjustResponse> {
  const given = [request.minimumStock, request.rack, request.bin, request.zone, request.aisle];
  if (given.every((value) => value === undefined)) {
    throw new DomainError(
      'VALIDATION_FAILED',
      'nothing to change: give minimumStock or a location field',
      undefined,
      'minimumStock',
    );
  }
  const record = await visibleRecord(em, caller.claims, inventoryId);
  assertExpectedVersion('record', caller.expectedVersion, {
    version: record.version,
    current: () => recordDto(record),
  });
  const patch = locationPatchOf(request);
  const moved = (Object.keys(patch) as (keyof LocationPatch)[]).filter(
    (f) => patch[f] !== record.location[f],
  );
  // The description names the values read, so the change is pinned to that version: a client that did not
  // pin one lost only a race and is retried from a fresh read.
  const outcome = await tryApplyMovements(db, [
    {
      target: { inventoryId },
      expectedVersion: caller.expectedVersion ?? record.version,
      location: patch,
      changes: [
        {
          change: deltas.settings(request.minimumStock),
          context: {
            actor: caller.actor,
            reason: describeSettings(record, request, moved),
            source: 'settings',
            correlationId: caller.correlationId,
          },
        },
      ],
    },
  ]);
  if (outcome.ok) return responseOf(outcome.booked[0]!);
  const lostRace = caller.expectedVersion === undefined && outcome.error.code === 'OPTIMISTIC_LOCK_FAILURE';
  if (lostRace)
    throw new ConcurrencyConflict(`inventory ${inventoryId} changed after version ${record.version}`);
  throw outcome.error;
}
