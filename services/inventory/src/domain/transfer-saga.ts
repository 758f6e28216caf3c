import type { StockKey, TransferEventData, TransferEventType, TransferLineSnapshot } from '@inv/contracts';
import { stockKeyString } from './stock.js';

/**
 * Inventory's side of a transfer:
 *   reserved ─ship→ shipped ─receive→ received;  reserved ─cancel/reject→ released;
 *   failed (nothing reserved) ─approve again→ reserved | failed;  none/failed ─cancel/reject→ closed.
 */
export type SagaState = 'reserved' | 'failed' | 'shipped' | 'received' | 'released' | 'closed';

export interface SagaRecord {
  transferId: string;
  state: SagaState;
  /** The transfer version of the last event that moved this saga; older or equal events are stale. */
  transferVersion: number;
}

export type SagaStep = 'reserve' | 'ship' | 'receive' | 'release' | 'close';

export type SagaDecision = { apply: SagaStep[] } | { ignore: string };

const ignore = (reason: string): SagaDecision => ({ ignore: reason });

/**
 * What a transfer event means for stock, given what was done so far. Every step happens at most once, and a
 * step whose predecessor was skipped catches up (a receipt seen before its shipment ships first). An event
 * with a version not newer than the last applied one is a duplicate or arrived late, and changes nothing.
 */
export function decideSagaSteps(
  type: TransferEventType,
  transferVersion: number,
  saga: SagaRecord | null,
): SagaDecision {
  if (saga && transferVersion <= saga.transferVersion) {
    return ignore(`stale: transfer version ${transferVersion} <= ${saga.transferVersion}`);
  }
  const state = saga?.state ?? null;
  switch (type) {
    case 'transfer.approved':
      return state === null || state === 'failed' ? { apply: ['reserve'] } : ignore(`already ${state}`);
    case 'transfer.shipped':
      return state === 'reserved'
        ? { apply: ['ship'] }
        : ignore(`cannot ship when ${state ?? 'not reserved'}`);
    case 'transfer.received':
      if (state === 'reserved') return { apply: ['ship', 'receive'] };
      return state === 'shipped'
        ? { apply: ['receive'] }
        : ignore(`cannot receive when ${state ?? 'not reserved'}`);
    case 'transfer.cancelled':
    case 'transfer.rejected':
      if (state === 'reserved') return { apply: ['release'] };
      // Closing a transfer never reserved makes a late approval a no-op instead of a stranded reservation.
      return state === null || state === 'failed' ? { apply: ['close'] } : ignore(`already ${state}`);
    default:
      return ignore('not a stock step');
  }
}

export function stockKeyOfLine(line: TransferLineSnapshot, warehouseId: string): StockKey {
  return { productId: line.productId, warehouseId, variantId: line.variantId, uomId: line.uomId };
}

export interface Shortage {
  lineId: string;
  productId: string;
  variantId: string | null;
  uomId: string | null;
  requested: number;
  available: number;
}

/**
 * Lines the source cannot cover. Lines for the same stock share it, so their demand is summed; every line of
 * a short stock is reported.
 */
export function shortagesOf(
  transfer: Pick<TransferEventData, 'lines' | 'sourceWarehouseId'>,
  availableOf: (key: StockKey) => number,
): Shortage[] {
  const demand = new Map<string, number>();
  for (const line of transfer.lines) {
    const key = stockKeyString(stockKeyOfLine(line, transfer.sourceWarehouseId));
    demand.set(key, (demand.get(key) ?? 0) + line.quantity);
  }
  return transfer.lines.flatMap((line) => {
    const key = stockKeyOfLine(line, transfer.sourceWarehouseId);
    const available = availableOf(key);
    if ((demand.get(stockKeyString(key)) ?? 0) <= available) return [];
    return [
      {
        lineId: line.lineId,
        productId: line.productId,
        variantId: line.variantId,
        uomId: line.uomId,
        requested: line.quantity,
        available,
      },
    ];
  });
}

export interface ShipmentPlan {
  shipped: number;
  /** Taken from the reservation. */
  fromReserved: number;
  /** Shipped beyond the reservation, taken from available stock. */
  beyondReservation: number;
  /** Reserved but not shipped: goes back to available stock. */
  released: number;
}

export function planShipment(reserved: number, shippedQuantity: number | null): ShipmentPlan {
  const shipped = shippedQuantity ?? reserved;
  const fromReserved = Math.min(shipped, reserved);
  return {
    shipped,
    fromReserved,
    beyondReservation: shipped - fromReserved,
    released: reserved - fromReserved,
  };
}

export interface ReceiptPlan {
  received: number;
  /** Received minus shipped: negative when goods went missing. */
  difference: number;
}

export function planReceipt(shipped: number, receivedQuantity: number | null): ReceiptPlan {
  const received = receivedQuantity ?? shipped;
  return { received, difference: received - shipped };
}

export function discrepancyReason(transferId: string, shipped: number, plan: ReceiptPlan): string {
  const gap = plan.difference < 0 ? `missing ${-plan.difference}` : `surplus ${plan.difference}`;
  return `transfer ${transferId}: shipped ${shipped}, received ${plan.received}, ${gap}`;
}
