import type { InventoryRecord, Transfer } from '@inv/contracts';
import { loadInventoryConfig, startInventoryService } from '@inv/inventory';
import {
  createTestDatabase,
  ServiceProcess,
  startTestNats,
  TEST_JWT_SECRET,
  type TestDatabase,
  type TestNats,
  testLogger,
} from '@inv/testkit';
import pg from 'pg';
import { RestClient, type TransferFixture, transferFixture } from './support.js';

export interface Stock {
  available: number;
  reserved: number;
}

/** Inventory as the transfer tests see it: over its REST API and, for the ledger, its database. */
export class InventorySide {
  readonly api: RestClient;
  private readonly pool: pg.Pool;

  constructor(
    readonly db: TestDatabase,
    url: () => string,
  ) {
    this.api = new RestClient(url, { roles: ['clerk'], warehouses: ['*'] });
    this.pool = new pg.Pool({ connectionString: db.url, max: 2 });
  }

  async seed(productId: string, warehouseId: string, quantity: number): Promise<void> {
    const reply = await this.api.call('POST', '/api/inventory/adjust', {
      body: { productId, warehouseId, quantity, movementType: 'in', reason: 'test stock' },
    });
    if (reply.status !== 200)
      throw new Error(`seeding answered ${reply.status}: ${JSON.stringify(reply.body)}`);
  }

  /** Available and reserved of a product (no variant, no UOM) in a warehouse; zero when it has no record. */
  async stock(productId: string, warehouseId: string): Promise<Stock> {
    const reply = await this.api.call<{ items: InventoryRecord[] }>(
      'GET',
      `/api/inventory/product/${productId}/warehouse/${warehouseId}`,
    );
    if (reply.status !== 200)
      throw new Error(`stock answered ${reply.status}: ${JSON.stringify(reply.body)}`);
    const record = reply.body.items.find((r) => r.variantId === null && r.uomId === null);
    return { available: record?.quantityAvailable ?? 0, reserved: record?.quantityReserved ?? 0 };
  }

  /** The transfer's movements in inventory's ledger, in booking order. */
  async ledger(transferId: string) {
    const result = await this.pool.query<{
      movement_type: string;
      warehouse_id: string;
      product_id: string;
      quantity_change: number;
      reserved_change: number;
      reason: string | null;
    }>(
      `select movement_type, warehouse_id, product_id, quantity_change::int, reserved_change::int, reason
         from inventory_movement where transfer_id = $1 order by movement_id`,
      [transferId],
    );
    return result.rows;
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

export interface JointFixture {
  nats: TestNats;
  transfer: TransferFixture;
  inventory: InventorySide;
  /** Inventory's own process when it runs as one (`inventoryProcess: true`), for crashing it. */
  inventoryProcess: ServiceProcess | null;
  /** Stock of every line's product at both ends of a transfer. */
  stockOf(transfer: Pick<Transfer, 'lines' | 'sourceWarehouseId' | 'destinationWarehouseId'>): Promise<{
    source: Stock[];
    destination: Stock[];
  }>;
  close(): Promise<void>;
}

function inventoryEnv(nats: TestNats, db: TestDatabase): Record<string, string> {
  return {
    NATS_URL: nats.url,
    DATABASE_URL: db.url,
    JWT_SECRET: TEST_JWT_SECRET,
    BATCH_SCAN_INTERVAL_MS: '0',
  };
}

/**
 * Both services on one test nats-server, each with its own fresh database. Inventory runs in this process, or
 * as a child process from its build when a test must crash it (`inventoryProcess: true`).
 */
export async function jointFixture(options: { inventoryProcess?: boolean } = {}): Promise<JointFixture> {
  const nats = await startTestNats();
  const inventoryDb = await createTestDatabase('inventory');
  const env = inventoryEnv(nats, inventoryDb);
  let url: string;
  let stopInventory: () => Promise<void>;
  let child: ServiceProcess | null = null;
  if (options.inventoryProcess) {
    child = await ServiceProcess.start({ entry: 'services/inventory/dist/main.js', env });
    url = child.url;
    stopInventory = () => child!.stop();
  } else {
    const service = await startInventoryService(loadInventoryConfig({ ...env, PORT: '0' }), {
      logger: testLogger('inventory'),
    });
    url = service.url;
    stopInventory = () => service.stop();
  }
  const transfer = await transferFixture({ nats });
  const inventory = new InventorySide(inventoryDb, () => url);
  const fixture: JointFixture = {
    nats,
    transfer,
    inventory,
    inventoryProcess: child,
    async stockOf(t) {
      const at = (warehouseId: string) =>
        Promise.all(t.lines.map((line) => inventory.stock(line.productId, warehouseId)));
      return { source: await at(t.sourceWarehouseId), destination: await at(t.destinationWarehouseId) };
    },
    async close() {
      await transfer.close();
      await stopInventory();
      await inventory.close();
      await Promise.all([nats.stop(), inventoryDb.drop()]);
    },
  };
  return fixture;
}
