import {
  type AccessClaims,
  type AdjustRequest,
  type AdjustResponse,
  DomainError,
  newEventId,
  type StockKey,
  type UpdateInventorySettingsRequest,
} from '@inv/contracts';
import { assertWarehouseAccess } from '@inv/platform';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { z } from 'zod';
import { assertMayAllowNegative } from '../domain/negative-stock.js';
import { type LocationPatch, newRecord, RecordChangeSet, type StockRecord } from '../domain/record.js';
import { deltaForAdjust, deltas } from '../domain/stock.js';
import { findRecordByKey } from '../infra/db/records.js';
import { movementDto, recordDto } from './dto.js';
import { bookChanges } from './ledger.js';
import { visibleRecord } from './queries.js';

/** The caller of a command, from the request. */
export interface Caller {
  claims: AccessClaims;
  actor: string;
  correlationId: string | null;
}

/**
 * A client that names the version it saw fails at once when the record has moved on: it must look at the new
 * value (sent along) before deciding again, so retrying on its behalf would be wrong.
 */
export function assertExpectedVersion(record: StockRecord | null, expectedVersion: number | undefined): void {
  if (expectedVersion === undefined) return;
  const currentVersion = record?.version ?? 0;
  if (currentVersion === expectedVersion) return;
  throw new DomainError(
    'OPTIMISTIC_LOCK_FAILURE',
    `The record was changed by someone else: it is at version ${currentVersion}, not ${expectedVersion}.`,
    {
      reason: 'STALE_VERSION',
      expectedVersion,
      currentVersion,
      current: record ? recordDto(record) : null,
    },
  );
}

function locationPatchOf(body: LocationPatch): LocationPatch {
  return { rack: body.rack, bin: body.bin, zone: body.zone, aisle: body.aisle };
}

function responseOf(booked: Awaited<ReturnType<typeof bookChanges>>): AdjustResponse {
  return { inventory: recordDto(booked.record), movement: movementDto(booked.movements.at(-1)!) };
}

/**
 * `POST /api/inventory/adjust`: `in` adds, `out` removes (never below zero unless `allowNegative`),
 * `adjustment` sets available stock to a count. The first `in` or `adjustment` creates the record.
 */
export async function adjustStock(
  em: EntityManager,
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
  const record = await findRecordByKey(em, key);
  assertExpectedVersion(record, caller.expectedVersion);
  const now = new Date();
  const changes = RecordChangeSet.of(record, () => newRecord(newEventId(now.getTime()), key, now));
  changes.patchLocation(locationPatchOf(request));
  changes.apply(
    deltaForAdjust(changes.current.levels, request),
    {
      actor: caller.actor,
      reason: request.reason ?? null,
      source: request.source ?? null,
      correlationId: caller.correlationId,
    },
    now,
  );
  return responseOf(await bookChanges(em, changes));
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
  assertExpectedVersion(record, caller.expectedVersion);
  const changes = new RecordChangeSet(record, record);
  const moved = changes.patchLocation(locationPatchOf(request));
  changes.apply(deltas.settings(request.minimumStock), {
    actor: caller.actor,
    reason: describeSettings(record, request, moved),
    source: 'settings',
    correlationId: caller.correlationId,
  });
  return responseOf(await bookChanges(em, changes));
}
