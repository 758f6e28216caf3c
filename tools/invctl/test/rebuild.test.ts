import {
  type InventoryService,
  loadInventoryConfig,
  migrateInventoryDatabase,
  startInventoryService,
} from '@inv/inventory';
import {
  createTestDatabase,
  eventually,
  startTestNats,
  type TestDatabase,
  type TestNats,
  testLogger,
} from '@inv/testkit';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCatalogue } from '../../../bench/src/scale/loader.js';
import { cliFor } from './support.js';

describe('invctl rebuild inventory', () => {
  let nats: TestNats;
  let db: TestDatabase;
  let service: InventoryService;
  let sql: pg.Client;
  let cli: ReturnType<typeof cliFor>;
  const ids: string[] = [];

  const adjust = async (body: Record<string, unknown>) => {
    const response = await fetch(`${service.url}/api/inventory/adjust`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(response.status).toBe(200);
    return (await response.json()) as { inventory: { inventoryId: string } };
  };
  const rebuild = (...args: string[]) => cli(['rebuild', 'inventory', '--database', db.url, ...args]);

  beforeAll(async () => {
    [nats, db] = await Promise.all([startTestNats(), createTestDatabase('invctl_rebuild')]);
    const config = loadInventoryConfig({
      NATS_URL: nats.url,
      DATABASE_URL: db.url,
      AUTH_DISABLED: 'true',
      PORT: '0',
      BATCH_SCAN_INTERVAL_MS: '0',
    });
    service = await startInventoryService(config, { logger: testLogger('inventory') });
    sql = new pg.Client({ connectionString: db.url });
    await sql.connect();
    cli = cliFor(nats.url);
    for (const productId of ['p1', 'p2', 'p3']) {
      const created = await adjust({
        warehouseId: 'w1',
        productId,
        quantity: 50,
        movementType: 'in',
        minimumStock: 5,
      });
      ids.push(created.inventory.inventoryId);
      await adjust({ warehouseId: 'w1', productId, quantity: 8, movementType: 'out' });
      await adjust({ warehouseId: 'w1', productId, quantity: 30, movementType: 'adjustment' });
    }
    await eventually(
      async () =>
        (await sql.query('select count(*)::int as n from outbox where published_at is null')).rows[0].n === 0,
      { message: 'outbox to drain' },
    );
  });
  afterAll(async () => {
    await sql?.end();
    await service?.stop();
    await Promise.all([nats?.stop(), db?.drop()]);
  });

  it.each(['ledger', 'events'])('finds no difference from the %s while nobody tampered', async (source) => {
    const result = await rebuild('--from', source, '--json');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({
      source,
      liveRecords: 3,
      rebuiltRecords: 3,
      differences: [],
    });
  });

  describe('after rows were altered behind the service', () => {
    beforeAll(async () => {
      await sql.query(
        'update inventory_record set quantity_available = quantity_available + 7 where inventory_id = $1',
        [ids[1]],
      );
      await sql.query(
        'update inventory_record set quantity_reserved = 4, minimum_stock = 9 where inventory_id = $1',
        [ids[2]],
      );
    });

    it.each(['ledger', 'events'])(
      'names every altered field from the %s and exits with 1',
      async (source) => {
        const result = await rebuild('--from', source, '--json');
        expect(result.code).toBe(1);
        const differences = [
          { inventoryId: ids[1], field: 'quantityAvailable', live: 37, rebuilt: 30 },
          { inventoryId: ids[2], field: 'minimumStock', live: 9, rebuilt: 5 },
          { inventoryId: ids[2], field: 'quantityReserved', live: 4, rebuilt: 0 },
        ].sort((a, b) => a.inventoryId!.localeCompare(b.inventoryId!) || a.field.localeCompare(b.field));
        expect(JSON.parse(result.stdout).differences).toEqual(differences);
      },
    );

    it('finds the same differences one record per batch, and lists at most --max-differences of them', async () => {
      const whole = JSON.parse((await rebuild('--json')).stdout);
      const batched = await rebuild('--json', '--batch-size', '1');
      expect(batched.code).toBe(1);
      expect(JSON.parse(batched.stdout)).toMatchObject({
        liveRecords: 3,
        rebuiltRecords: 3,
        differences: whole.differences,
        differenceCount: 3,
      });
      const capped = await rebuild('--json', '--max-differences', '1');
      expect(capped.code).toBe(1);
      const report = JSON.parse(capped.stdout);
      expect(report.differences).toEqual([whole.differences[0]]);
      expect(report.differenceCount).toBe(3);
      expect(report.notes).toContain('3 difference(s): the first 1 are listed (--max-differences)');
    });

    it('prints the differences as a table', async () => {
      const result = await rebuild();
      expect(result.code).toBe(1);
      expect(result.stdout).toMatch(new RegExp(`${ids[1]}\\s+quantityAvailable\\s+37\\s+30`));
      expect(result.stderr).toContain('3 live record(s), 3 rebuilt from the ledger: 3 difference(s)');
    });
  });

  describe('after a movement was slipped into the ledger', () => {
    beforeAll(async () => {
      await sql.query(
        `insert into inventory_movement (inventory_id, record_version, product_id, warehouse_id, movement_type,
           quantity_change, reserved_change, available_before, available_after, reserved_before, reserved_after,
           minimum_stock, actor, event_id)
         select inventory_id, version + 1, product_id, warehouse_id, 'in', 1, 0, 99, 100, 0, 0, 5, 'intruder',
                gen_random_uuid()
           from inventory_record where inventory_id = $1`,
        [ids[0]],
      );
    });

    it('reports the record out of step with its ledger and the broken chain', async () => {
      const result = await rebuild('--json');
      expect(result.code).toBe(1);
      const ofFirst = JSON.parse(result.stdout).differences.filter(
        (d: { inventoryId: string }) => d.inventoryId === ids[0],
      );
      expect(ofFirst).toEqual([
        { inventoryId: ids[0], field: 'quantityAvailable', live: 30, rebuilt: 31 },
        { inventoryId: ids[0], field: 'version', live: 3, rebuilt: 4 },
        {
          inventoryId: ids[0],
          field: 'ledger',
          live: 'v4: before available 99, reserved 0',
          rebuilt: 'v4: after available 30, reserved 0',
          note: 'movement does not continue the previous one',
        },
      ]);
    });
  });

  it('agrees with a loaded catalogue batch after batch, showing progress', async () => {
    const other = await createTestDatabase('invctl_catalogue');
    try {
      await migrateInventoryDatabase(loadInventoryConfig({ DATABASE_URL: other.url, AUTH_DISABLED: 'true' }));
      const loader = new pg.Client({ connectionString: other.url });
      await loader.connect();
      try {
        await loadCatalogue(loader, { skus: 700, warehouses: 3, movements: 4 });
      } finally {
        await loader.end();
      }
      const result = await cli(['rebuild', 'inventory', '--database', other.url, '--batch-size', '300']);
      expect(result.stderr).toContain('2100 live record(s), 2100 rebuilt from the ledger: 0 difference(s)');
      // Not a terminal: a progress line every thousand records.
      expect(result.stderr).toMatch(/rebuild inventory: 1200\/2100/);
      expect(result.code).toBe(0);
    } finally {
      await other.drop();
    }
  });

  describe('order reservations', () => {
    let reservationId: string;
    let inventoryId: string;
    const post = async (path: string, body: unknown) => {
      const response = await fetch(`${service.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(response.status).toBeLessThan(300);
      return (await response.json()) as { reservationId: string; lines: { inventoryId: string }[] };
    };
    const ofReservation = async () => {
      const result = await rebuild('--json');
      return JSON.parse(result.stdout).differences.filter(
        (d: { inventoryId: string }) => d.inventoryId === inventoryId,
      );
    };

    beforeAll(async () => {
      inventoryId = (
        await adjust({ warehouseId: 'w1', productId: 'p-res', quantity: 10, movementType: 'in' })
      ).inventory.inventoryId;
      const line = { warehouseId: 'w1', productId: 'p-res', quantity: 2 };
      const committed = await post('/api/reservations', { reference: 'o-1', lines: [line] });
      await post(`/api/reservations/${committed.reservationId}/commit`, {
        lines: [{ lineId: 'l1', quantity: 1 }],
      });
      const released = await post('/api/reservations', { reference: 'o-2', lines: [line] });
      await post(`/api/reservations/${released.reservationId}/release`, {});
      reservationId = (await post('/api/reservations', { reference: 'o-3', lines: [line, line] }))
        .reservationId;
    });

    it('replays reservation movements to what each reservation holds', async () => {
      expect(await ofReservation()).toEqual([]);
      const [record] = (
        await sql.query('select quantity_reserved::int as r from inventory_record where inventory_id = $1', [
          inventoryId,
        ])
      ).rows;
      expect(record.r).toBe(4);
    });

    it('names a reservation whose state was changed behind the service', async () => {
      await sql.query(`update order_reservation set state = 'released' where reservation_id = $1`, [
        reservationId,
      ]);
      expect(await ofReservation()).toEqual([
        expect.objectContaining({ field: `reservation ${reservationId}`, live: 0, rebuilt: 4 }),
      ]);
    });
  });

  it('says so when the database has no inventory tables', async () => {
    const other = await createTestDatabase('invctl_empty');
    try {
      const result = await cli(['rebuild', 'inventory', '--database', other.url]);
      expect(result.code).toBe(3);
      expect(result.stderr).toContain('no inventory tables');
    } finally {
      await other.drop();
    }
  });
});
