/** The state of one stock record that a rebuild recomputes and compares. */
export interface StockState {
  inventoryId: string;
  productId: string;
  warehouseId: string;
  variantId: string | null;
  uomId: string | null;
  quantityAvailable: number;
  quantityReserved: number;
  /** Null when the source does not carry it (events upcast from version 1). */
  minimumStock: number | null;
  version: number;
}

export interface Difference {
  inventoryId: string;
  /** A field of the record, `record` when it exists on one side only, `ledger` for a broken movement chain. */
  field: string;
  live: unknown;
  rebuilt: unknown;
  note?: string;
}

const FIELDS = [
  'productId',
  'warehouseId',
  'variantId',
  'uomId',
  'quantityAvailable',
  'quantityReserved',
  'minimumStock',
  'version',
] as const satisfies (keyof StockState)[];

/** Every field in which the live records and the rebuilt ones disagree, ordered by record and field. */
export function diffStock(live: StockState[], rebuilt: StockState[]): Difference[] {
  const rebuiltById = new Map(rebuilt.map((r) => [r.inventoryId, r]));
  const liveIds = new Set(live.map((r) => r.inventoryId));
  const differences: Difference[] = [];
  for (const record of live) {
    const other = rebuiltById.get(record.inventoryId);
    if (!other) {
      differences.push({
        inventoryId: record.inventoryId,
        field: 'record',
        live: 'present',
        rebuilt: 'missing',
      });
      continue;
    }
    for (const field of FIELDS) {
      if (field === 'minimumStock' && other.minimumStock === null) continue;
      if (record[field] !== other[field]) {
        differences.push({
          inventoryId: record.inventoryId,
          field,
          live: record[field],
          rebuilt: other[field],
        });
      }
    }
  }
  for (const record of rebuilt) {
    if (!liveIds.has(record.inventoryId)) {
      differences.push({
        inventoryId: record.inventoryId,
        field: 'record',
        live: 'missing',
        rebuilt: 'present',
      });
    }
  }
  return differences.sort(
    (a, b) => a.inventoryId.localeCompare(b.inventoryId) || a.field.localeCompare(b.field),
  );
}

/** A ledger row whose "before" does not continue the previous row's "after", or a version that skips. */
export interface ChainBreak {
  inventoryId: string;
  recordVersion: number;
  expectedVersion: number;
  availableBefore: number;
  previousAvailableAfter: number | null;
  reservedBefore: number;
  previousReservedAfter: number | null;
}

export function chainDifferences(breaks: ChainBreak[]): Difference[] {
  return breaks.map((b) => ({
    inventoryId: b.inventoryId,
    field: 'ledger',
    live: `v${b.recordVersion}: before available ${b.availableBefore}, reserved ${b.reservedBefore}`,
    rebuilt: `v${b.expectedVersion}: after available ${b.previousAvailableAfter ?? 0}, reserved ${b.previousReservedAfter ?? 0}`,
    note: 'movement does not continue the previous one',
  }));
}

/** One difference per order reservation whose ledger replay does not reproduce what it holds on a record. */
export function reservationDifferences(
  holds: { reservationId: string; inventoryId: string; state: string; held: number; ledgerHeld: number }[],
): Difference[] {
  return holds.map((h) => ({
    inventoryId: h.inventoryId,
    field: `reservation ${h.reservationId}`,
    live: h.held,
    rebuilt: h.ledgerHeld,
    note: `${h.state} reservation: its ledger movements leave ${h.ledgerHeld} reserved, it holds ${h.held}`,
  }));
}
