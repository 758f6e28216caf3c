import type { Location, StockKey } from '@inv/contracts';
import { type AppliedDelta, applyDelta, EMPTY_LEVELS, type StockDelta, type StockLevels } from './stock.js';

/** Stock of one (product, variant?, UOM?, warehouse), with the version that guards concurrent changes. */
export interface StockRecord extends StockKey {
  inventoryId: string;
  levels: StockLevels;
  location: Location;
  /** Number of changes the record has seen; 0 before it exists. */
  version: number;
  updatedAt: Date;
}

/** Who and what caused a movement; stored with it in the ledger. */
export interface MovementContext {
  actor: string;
  reason?: string | null;
  source?: string | null;
  correlationId?: string | null;
  /** The event that caused it (saga movements). */
  causationId?: string | null;
  transferId?: string | null;
  transferLineId?: string | null;
  batchId?: string | null;
  /** The order reservation of a reservation movement. */
  reservationId?: string | null;
}

/** A movement about to be booked: the change, the record version it produces and its context. */
export interface LedgerEntry extends AppliedDelta {
  version: number;
  context: MovementContext;
}

/** Location fields of a request: absent leaves a field alone, null clears it. */
export type LocationPatch = { [K in keyof Location]?: string | null };

/** The identity of a record: its id and stock key, as events and responses name it. */
export function recordRef(record: StockKey & { inventoryId: string }) {
  const { inventoryId, productId, warehouseId, variantId, uomId } = record;
  return { inventoryId, productId, warehouseId, variantId, uomId };
}

export const NO_LOCATION: Location = Object.freeze({ rack: null, bin: null, zone: null, aisle: null });

export function newRecord(inventoryId: string, key: StockKey, now: Date): StockRecord {
  return {
    inventoryId,
    ...key,
    levels: { ...EMPTY_LEVELS },
    location: { ...NO_LOCATION },
    version: 0,
    updatedAt: now,
  };
}

/**
 * The changes one command makes to one record: each delta becomes a ledger entry and one version, applied in
 * order to the evolving state. The original version is what the conditional update checks.
 */
export class RecordChangeSet {
  readonly entries: LedgerEntry[] = [];
  private state: StockRecord;

  constructor(
    /** The record as read, or null when the command creates it. */
    readonly original: StockRecord | null,
    fresh: StockRecord,
  ) {
    this.state = structuredClone(original ?? fresh);
  }

  static of(record: StockRecord | null, create: () => StockRecord): RecordChangeSet {
    return new RecordChangeSet(record, record ?? create());
  }

  get current(): StockRecord {
    return this.state;
  }

  get isNew(): boolean {
    return this.original === null;
  }

  get originalVersion(): number {
    return this.original?.version ?? 0;
  }

  apply(delta: StockDelta, context: MovementContext, now: Date = new Date()): LedgerEntry {
    const applied = applyDelta(this.state.levels, delta, { inventoryId: this.state.inventoryId });
    const version = this.state.version + 1;
    this.state = { ...this.state, levels: applied.after, version, updatedAt: now };
    const entry = { ...applied, version, context };
    this.entries.push(entry);
    return entry;
  }

  /** Changes location fields; returns the names of the fields that really changed. */
  patchLocation(patch: LocationPatch): string[] {
    const changed: string[] = [];
    const location = { ...this.state.location };
    for (const field of Object.keys(NO_LOCATION) as (keyof Location)[]) {
      const value = patch[field];
      if (value !== undefined && value !== location[field]) {
        location[field] = value;
        changed.push(field);
      }
    }
    this.state = { ...this.state, location };
    return changed;
  }
}
