import type { Transfer } from '@inv/contracts';
import { loadInventoryConfig, startInventoryService } from '@inv/inventory';
import {
  createTestDatabase,
  eventually,
  fetchJson,
  mintToken,
  startTestNats,
  TEST_JWT_SECRET,
  type TestDatabase,
  type TestNats,
  testLogger,
} from '@inv/testkit';
import { loadTransferConfig, startTransferService } from '@inv/transfer';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chooseSource, loadReorderConfig, type ReorderService, startReorderService } from '../src/index.js';

describe('reorder example', () => {
  let nats: TestNats;
  const dbs: TestDatabase[] = [];
  const stops: Array<() => Promise<void>> = [];
  let inventoryUrl: string;
  let transferUrl: string;
  let reorder: ReorderService;
  let reorderDb: TestDatabase;

  beforeAll(async () => {
    nats = await startTestNats();
    const [inventoryDb, transferDb] = await Promise.all([
      createTestDatabase('inv'),
      createTestDatabase('tr'),
    ]);
    reorderDb = await createTestDatabase('reorder');
    dbs.push(inventoryDb, transferDb, reorderDb);
    const common = { NATS_URL: nats.url, JWT_SECRET: TEST_JWT_SECRET, PORT: '0' };
    const inventory = await startInventoryService(
      loadInventoryConfig({ ...common, DATABASE_URL: inventoryDb.url, BATCH_SCAN_INTERVAL_MS: '0' }),
      { logger: testLogger('inventory') },
    );
    stops.push(() => inventory.stop());
    const transfer = await startTransferService(
      loadTransferConfig({ ...common, DATABASE_URL: transferDb.url }),
      {
        logger: testLogger('transfer'),
      },
    );
    stops.push(() => transfer.stop());
    inventoryUrl = inventory.url;
    transferUrl = transfer.url;
    reorder = await startReorderService(
      loadReorderConfig({
        NATS_URL: nats.url,
        DATABASE_URL: reorderDb.url,
        INVENTORY_URL: inventoryUrl,
        TRANSFER_URL: transferUrl,
        JWT_SECRET: TEST_JWT_SECRET,
      }),
      testLogger('reorder'),
    );
  });
  afterAll(async () => {
    await reorder?.stop();
    for (const stop of stops.reverse()) await stop();
    await Promise.all(dbs.map((db) => db.drop()));
    await nats?.stop();
  });

  async function adjust(body: Record<string, unknown>) {
    const token = await mintToken({ roles: ['manager'], warehouses: ['*'] });
    const reply = await fetchJson(`${inventoryUrl}/api/inventory/adjust`, { method: 'POST', body, token });
    expect(reply.status, JSON.stringify(reply.body)).toBe(200);
  }

  async function transfersInto(warehouseId: string): Promise<Transfer[]> {
    const token = await mintToken({ roles: ['manager'], warehouses: ['*'] });
    const reply = await fetchJson<{ items: Transfer[] }>(
      `${transferUrl}/api/transfers?warehouseId=${warehouseId}`,
      { token },
    );
    return reply.body.items.filter((t) => t.destinationWarehouseId === warehouseId);
  }

  it('requests one transfer of the deficit from the warehouse with the most to spare', async () => {
    await adjust({
      productId: 'p-1',
      warehouseId: 'big',
      quantity: 100,
      movementType: 'in',
      minimumStock: 10,
    });
    await adjust({
      productId: 'p-1',
      warehouseId: 'small',
      quantity: 30,
      movementType: 'in',
      minimumStock: 10,
    });
    await adjust({
      productId: 'p-1',
      warehouseId: 'shop',
      quantity: 20,
      movementType: 'in',
      minimumStock: 15,
    });
    // Down to 3 of a minimum of 15: low stock with a deficit of 12.
    await adjust({ productId: 'p-1', warehouseId: 'shop', quantity: 17, movementType: 'out' });
    const [transfer] = await eventually(async () => {
      const found = await transfersInto('shop');
      return found.length > 0 ? found : null;
    });
    expect(transfer!.sourceWarehouseId).toBe('big');
    expect(transfer!.lines.map((l) => [l.productId, l.quantity])).toEqual([['p-1', 12]]);
    const pool = new pg.Pool({ connectionString: reorderDb.url });
    const { rows } = await pool.query('select count(*)::int as n from processed_event');
    await pool.end();
    expect(rows[0].n).toBeGreaterThanOrEqual(1);
    expect(await transfersInto('shop')).toHaveLength(1);
  });

  it('chooses nothing when no other warehouse has stock above its minimum', () => {
    const record = (warehouseId: string, quantityAvailable: number, minimumStock: number) =>
      ({ warehouseId, variantId: null, uomId: null, quantityAvailable, minimumStock }) as never;
    const need = { warehouseId: 'shop', variantId: null, uomId: null, deficit: 5 };
    expect(chooseSource([record('a', 10, 10), record('shop', 1, 6)], need)).toBeNull();
    expect(chooseSource([record('a', 12, 10), record('b', 30, 27)], need)).toEqual({
      sourceWarehouseId: 'b',
      quantity: 3,
    });
  });
});
