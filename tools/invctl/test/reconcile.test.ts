import { DURABLE_CONSUMERS, EVENTS_STREAM } from '@inv/contracts';
import { type InventoryService, loadInventoryConfig, startInventoryService } from '@inv/inventory';
import {
  createTestDatabase,
  eventually,
  mintToken,
  startTestNats,
  TEST_JWT_SECRET,
  type TestDatabase,
  type TestNats,
  testLogger,
} from '@inv/testkit';
import { loadTransferConfig, startTransferService, type TransferService } from '@inv/transfer';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonLines, runCli } from './support.js';

const SAGA = DURABLE_CONSUMERS.inventoryTransfers.name;

describe('invctl reconcile transfers', () => {
  let nats: TestNats;
  let nc: NatsConnection;
  let inventoryDb: TestDatabase;
  let transferDb: TestDatabase;
  let inventory: InventoryService;
  let transfer: TransferService;
  let token: string;

  const startInventory = async () => {
    inventory = await startInventoryService(
      loadInventoryConfig({
        NATS_URL: nats.url,
        DATABASE_URL: inventoryDb.url,
        JWT_SECRET: TEST_JWT_SECRET,
        PORT: '0',
        BATCH_SCAN_INTERVAL_MS: '0',
      }),
      { logger: testLogger('inventory') },
    );
  };
  const call = async (base: string, method: string, path: string, body?: unknown) => {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = await response.json();
    if (response.status >= 300)
      throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(json)}`);
    return json;
  };
  const stock = async (productId: string) => {
    const [row] = await inventory.orm.em
      .fork()
      .execute<{ available: number; reserved: number }[]>(
        'select quantity_available::int as available, quantity_reserved::int as reserved from inventory_record where product_id = ? and warehouse_id = ?',
        [productId, 'wh-src'],
      );
    return row;
  };
  const reconcile = (...extra: string[]) =>
    runCli([
      'reconcile',
      'transfers',
      '--transfer-database',
      transferDb.url,
      '--inventory-database',
      inventoryDb.url,
      '--min-age',
      '0',
      '--json',
      ...extra,
    ]);

  beforeAll(async () => {
    nats = await startTestNats();
    [inventoryDb, transferDb] = await Promise.all([
      createTestDatabase('inventory'),
      createTestDatabase('transfer'),
    ]);
    nc = await connect({ servers: nats.url });
    token = await mintToken({ roles: ['admin'], warehouses: ['*'] });
    await startInventory();
    transfer = await startTransferService(
      loadTransferConfig({
        NATS_URL: nats.url,
        DATABASE_URL: transferDb.url,
        JWT_SECRET: TEST_JWT_SECRET,
        PORT: '0',
      }),
      { logger: testLogger('transfer') },
    );
  });
  afterAll(async () => {
    await transfer?.stop();
    await inventory?.stop();
    await nc?.close();
    await nats?.stop();
    await Promise.all([inventoryDb?.drop(), transferDb?.drop()]);
  });

  it('finds the reservation a dropped transfer.cancelled left behind, repairs it once, and a second repair does nothing', async () => {
    await call(inventory.url, 'POST', '/api/inventory/adjust', {
      productId: 'rc-1',
      warehouseId: 'wh-src',
      quantity: 10,
      movementType: 'in',
    });
    const created = await call(transfer.url, 'POST', '/api/transfers', {
      sourceWarehouseId: 'wh-src',
      destinationWarehouseId: 'wh-dst',
      lines: [{ productId: 'rc-1', quantity: 10 }],
    });
    const id = created.transferId;
    await call(transfer.url, 'POST', `/api/transfers/${id}/approve`, {});
    await eventually(
      async () => (await call(transfer.url, 'GET', `/api/transfers/${id}`)).reservationStatus === 'reserved',
      {
        message: 'reservation answered',
      },
    );
    expect(await stock('rc-1')).toEqual({ available: 0, reserved: 10 });
    expect((await reconcile()).code).toBe(0);

    // The cancellation is dropped: inventory is down, and its consumer's message is acknowledged unapplied
    // (what the old inbox consumer did after 20 failed deliveries).
    await inventory.stop();
    await call(transfer.url, 'POST', `/api/transfers/${id}/cancel`, { reason: 'no longer needed' });
    const saga = await jetstream(nc).consumers.get(EVENTS_STREAM, SAGA);
    const dropped = await eventually(
      async () => {
        const msg = await saga.next({ expires: 1_000 });
        if (msg && !msg.subject.endsWith('.cancelled')) msg.ack();
        return msg?.subject.endsWith('.cancelled') ? msg : null;
      },
      { message: 'the cancellation in the saga consumer' },
    );
    await dropped.ackAck();
    await startInventory();
    const jsm = await jetstreamManager(nc);
    await eventually(async () => (await jsm.consumers.info(EVENTS_STREAM, SAGA)).num_ack_pending === 0);
    expect(await stock('rc-1')).toEqual({ available: 0, reserved: 10 });

    const found = await reconcile();
    expect(found.code).toBe(1);
    const differences = jsonLines(found.stdout);
    expect(differences).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          transferId: id,
          status: 'cancelled',
          sagaState: 'reserved',
          repair: 'would queue transfer.cancelled',
        }),
        expect.objectContaining({
          transferId: id,
          problem: expect.stringContaining('holds 10 reserved unit(s)'),
        }),
      ]),
    );

    const repaired = jsonLines((await reconcile('--repair')).stdout);
    expect(repaired[0]).toMatchObject({ transferId: id, repair: 'queued transfer.cancelled' });
    const again = jsonLines((await reconcile('--repair')).stdout);
    // Still reported until inventory applies it, but nothing new is queued.
    expect(again.every((d) => d.repair !== 'queued transfer.cancelled')).toBe(true);

    await eventually(async () => (await stock('rc-1'))?.reserved === 0, { message: 'reservation released' });
    expect(await stock('rc-1')).toEqual({ available: 10, reserved: 0 });
    const clean = await reconcile('--repair');
    expect(clean.code).toBe(0);
    expect(clean.stdout).toBe('');
    const [releases] = await inventory.orm.em
      .fork()
      .execute<{ n: number }[]>(
        "select count(*)::int as n from inventory_movement where transfer_id = ? and movement_type = 'release'",
        [id],
      );
    expect(releases?.n).toBe(1);
    const [queued] = await transfer.orm.em
      .fork()
      .execute<{ n: number }[]>(
        "select count(*)::int as n from outbox where payload->'data'->>'actor' = 'invctl-reconcile'",
      );
    expect(queued?.n).toBe(1);
  });
});
