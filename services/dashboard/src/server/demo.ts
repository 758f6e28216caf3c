/**
 * A sample for an empty system, loaded through the services' public REST APIs as any client would. Loading
 * twice adds nothing: a record that exists is left alone (with its batches), every write carries a
 * deterministic Idempotency-Key (a load cut short and run again does not book twice), and the sample transfers
 * are created only when none carries the sample's note, the sample reservations only when none holds the
 * reference (whatever its state: an expired one is not made again).
 */
import type { Rest } from './rest-client.js';

const WAREHOUSES = ['demo-north', 'demo-south', 'demo-east', 'demo-west'];
const PRODUCTS = Array.from({ length: 30 }, (_, i) => `sku-${String(i + 1).padStart(3, '0')}`);
const DEMO_NOTE = 'demo sample';

export interface DemoSummary {
  records: number;
  batches: number;
  transfers: number;
  reservations: number;
}

/** The sample's records: every product in two or three warehouses, some with variants and units. */
function sampleRecords() {
  const records = [];
  for (const [i, productId] of PRODUCTS.entries()) {
    const variantId = i % 5 === 0 ? 'red' : i % 7 === 0 ? 'large' : null;
    const uomId = i % 3 === 0 ? 'box' : 'each';
    for (const [w, warehouseId] of WAREHOUSES.entries()) {
      if ((i + w) % 4 === 3) continue;
      const low = (i + w) % 11 === 0;
      records.push({
        warehouseId,
        productId,
        variantId,
        uomId,
        quantity: low ? 2 : 20 + ((i * 7 + w * 13) % 80),
        minimumStock: low ? 10 : 5,
        zone: ['A', 'B', 'C'][i % 3],
        aisle: String((i % 6) + 1),
        rack: `R${(i % 4) + 1}`,
        bin: String((i * 3 + w) % 20).padStart(2, '0'),
      });
    }
  }
  return records;
}

function daysFromNow(days: number): string {
  return new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);
}

export async function loadDemo(rest: Rest): Promise<DemoSummary> {
  const summary: DemoSummary = { records: 0, batches: 0, transfers: 0, reservations: 0 };
  for (const record of sampleRecords()) {
    const query = new URLSearchParams({ warehouseId: record.warehouseId, productId: record.productId });
    const existing = await rest.call<{ items: { variantId: string | null; uomId: string | null }[] }>(
      'GET',
      `/api/inventory?${query}`,
    );
    if (existing.items.some((r) => r.variantId === record.variantId && r.uomId === record.uomId)) continue;
    const key = `demo-adjust-${record.warehouseId}-${record.productId}-${record.variantId}-${record.uomId}`;
    const done = await rest.call<{ inventory: { inventoryId: string } }>(
      'POST',
      '/api/inventory/adjust',
      { ...record, movementType: 'in', source: 'demo', reason: 'sample data' },
      key,
    );
    summary.records++;
    if (PRODUCTS.indexOf(record.productId) % 4 === 0) {
      summary.batches += await addBatches(rest, done.inventory.inventoryId, record.productId);
    }
  }
  summary.transfers = await sampleTransfers(rest);
  summary.reservations = await sampleReservations(rest);
  return summary;
}

async function addBatches(rest: Rest, inventoryId: string, productId: string): Promise<number> {
  // One batch expires within days (an expiring-soon alert), one in four months.
  for (const [n, days] of [
    [1, 5],
    [2, 120],
  ] as const) {
    const body = { batchNumber: `LOT-${productId}-${n}`, quantity: 5, expiresAt: daysFromNow(days) };
    await rest.call('POST', `/api/inventory/${inventoryId}/batches`, body, `demo-batch-${inventoryId}-${n}`);
  }
  return 2;
}

type TransferState = { transferId: string; version: number; reservationStatus: string; note: string | null };

/** Transfers in several states: requested, approved, packed, shipped, completed, cancelled. */
async function sampleTransfers(rest: Rest): Promise<number> {
  const page = await rest.call<{ items: TransferState[] }>('GET', '/api/transfers?limit=200');
  if (page.items.some((t) => t.note === DEMO_NOTE)) return 0;
  const plans: [string, string, string, string[]][] = [
    ['demo-north', 'demo-south', 'sku-002', []],
    ['demo-north', 'demo-east', 'sku-003', ['approve']],
    ['demo-south', 'demo-west', 'sku-006', ['approve', 'start-picking', 'pack']],
    ['demo-east', 'demo-north', 'sku-007', ['approve', 'start-picking', 'pack', 'ship']],
    [
      'demo-west',
      'demo-south',
      'sku-010',
      ['approve', 'start-picking', 'pack', 'ship', 'receive', 'complete'],
    ],
    ['demo-south', 'demo-north', 'sku-011', ['cancel']],
  ];
  for (const [from, to, productId, steps] of plans) {
    const source = await rest.call<{
      items: { quantityAvailable: number; variantId: string | null; uomId: string | null }[];
    }>('GET', `/api/inventory?${new URLSearchParams({ warehouseId: from, productId })}`);
    const line = source.items[0];
    let t = await rest.call<TransferState & { lines: { lineId: string; quantity: number }[] }>(
      'POST',
      '/api/transfers',
      {
        sourceWarehouseId: from,
        destinationWarehouseId: to,
        note: DEMO_NOTE,
        lines: [{ productId, variantId: line?.variantId ?? null, uomId: line?.uomId ?? null, quantity: 2 }],
      },
    );
    for (const step of steps) {
      if (step === 'start-picking') t = await reserved(rest, t.transferId);
      const body: Record<string, unknown> =
        step === 'cancel'
          ? { reason: 'sample: no longer needed' }
          : step === 'receive'
            ? { lines: t.lines.map((l) => ({ lineId: l.lineId, receivedQuantity: l.quantity })) }
            : {};
      t = await rest.call('POST', `/api/transfers/${t.transferId}/${step}`, body);
    }
  }
  return plans.length;
}

/** Picking waits for the source's reservation, which the inventory service makes from the approval event. */
async function reserved(rest: Rest, transferId: string) {
  for (let attempt = 0; attempt < 100; attempt++) {
    const t = await rest.call<TransferState & { lines: { lineId: string; quantity: number }[] }>(
      'GET',
      `/api/transfers/${transferId}`,
    );
    if (t.reservationStatus === 'reserved') return t;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`transfer ${transferId}: the stock was not reserved in 10 s`);
}

/** Order reservations: [reference, products (1 unit each), seconds until they expire]. Some expire soon. */
const RESERVATIONS: [string, string[], number][] = [
  ['demo-order-1001', ['sku-001'], 240],
  ['demo-order-1002', ['sku-004', 'sku-005'], 420],
  ['demo-order-1003', ['sku-008'], 900],
  ['demo-order-1004', ['sku-012'], 3_600],
  ['demo-order-1005', ['sku-013', 'sku-014'], 4 * 3_600],
  ['demo-order-1006', ['sku-016'], 86_400],
  ['demo-cart-2001', ['sku-020'], 300],
  ['demo-cart-2002', ['sku-021'], 1_800],
];

async function sampleReservations(rest: Rest): Promise<number> {
  let made = 0;
  for (const [reference, products, expiresInSeconds] of RESERVATIONS) {
    const existing = await rest.call<{ items: unknown[] }>(
      'GET',
      `/api/reservations?${new URLSearchParams({ reference, limit: '1' })}`,
    );
    if (existing.items.length > 0) continue;
    const lines = [];
    for (const productId of products) {
      const stock = await rest.call<{
        items: {
          warehouseId: string;
          variantId: string | null;
          uomId: string | null;
          quantityAvailable: number;
        }[];
      }>('GET', `/api/inventory?${new URLSearchParams({ productId })}`);
      const record = stock.items.find((r) => r.quantityAvailable >= 5);
      if (record) {
        const { warehouseId, variantId, uomId } = record;
        lines.push({ warehouseId, productId, variantId, uomId, quantity: 1 + (made % 3) });
      }
    }
    if (lines.length === 0) continue;
    await rest.call(
      'POST',
      '/api/reservations',
      { reference, lines, expiresInSeconds },
      `demo-reservation-${reference}`,
    );
    made++;
  }
  return made;
}
