import type { InventoryRecord } from '@inv/contracts';

export interface ReorderNeed {
  warehouseId: string;
  variantId: string | null;
  uomId: string | null;
  deficit: number;
}

/**
 * The warehouse with the most spare stock of the same item (available above its own minimum) and how much to
 * take from it: the deficit, or the spare when that is smaller. Null when no other warehouse has any to spare.
 */
export function chooseSource(
  records: InventoryRecord[],
  need: ReorderNeed,
): { sourceWarehouseId: string; quantity: number } | null {
  let best: { sourceWarehouseId: string; spare: number } | null = null;
  for (const r of records) {
    if (r.warehouseId === need.warehouseId || r.variantId !== need.variantId || r.uomId !== need.uomId)
      continue;
    const spare = r.quantityAvailable - r.minimumStock;
    if (spare > 0 && (!best || spare > best.spare)) best = { sourceWarehouseId: r.warehouseId, spare };
  }
  if (!best) return null;
  return { sourceWarehouseId: best.sourceWarehouseId, quantity: Math.min(need.deficit, best.spare) };
}
