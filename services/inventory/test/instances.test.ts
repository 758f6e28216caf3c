import type { DomainEvent } from '@inv/contracts';
import { readStoredEvents, testLogger } from '@inv/testkit';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deltas } from '../src/domain/stock.js';
import {
  type InventoryService,
  type MovementLine,
  startInventoryService,
  tryApplyMovements,
} from '../src/index.js';
import { type InventoryFixture, inventoryFixture, uniqueKey } from './support.js';

// biome-ignore lint/suspicious/noExplicitAny: tests inspect JSON bodies loosely
type Json = any;

/** One booked movement as its caller saw it. */
interface Applied {
  productId: string;
  quantityChange: number;
  reservedChange: number;
  version: number;
}

type Op =
  | { kind: 'in' | 'out' | 'count' | 'pinned'; record: number; quantity: number; via: number }
  | { kind: 'reserve'; records: number[]; quantity: number; via: number }
  | { kind: 'release'; record: number; quantity: number; via: number };

const RECORDS = 3;
const via = fc.integer({ min: 0, max: 1 });
const record = fc.integer({ min: 0, max: RECORDS - 1 });
const quantity = fc.integer({ min: 1, max: 12 });
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constantFrom('in' as const, 'out' as const, 'count' as const, 'pinned' as const),
    record,
    quantity,
    via,
  }),
  fc.record({
    kind: fc.constant('reserve' as const),
    records: fc.uniqueArray(record, { minLength: 1, maxLength: RECORDS }),
    quantity,
    via,
  }),
  fc.record({ kind: fc.constant('release' as const), record, quantity, via }),
);

describe('two inventory instances on one database', () => {
  let f: InventoryFixture;
  let second: InventoryService;
  let token: string;
  let services: InventoryService[];
  beforeAll(async () => {
    f = await inventoryFixture();
    second = await startInventoryService(f.config, { logger: testLogger('inventory-2') });
    services = [f.service, second];
    token = await f.token();
  });
  afterAll(async () => {
    await second?.stop();
    await f?.close();
  });

  const call = async (instance: number, method: string, path: string, body?: unknown, headers = {}) => {
    const response = await fetch(`${services[instance]!.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Json };
  };

  it('answers no 409 to concurrent unpinned deltas on the same records through both instances', async () => {
    const keys = [uniqueKey('two'), uniqueKey('two')];
    for (const key of keys)
      expect(
        (await call(0, 'POST', '/api/inventory/adjust', { ...key, quantity: 500, movementType: 'in' }))
          .status,
      ).toBe(200);
    const replies = await Promise.all(
      Array.from({ length: 160 }, (_, i) =>
        call(i % 2, 'POST', '/api/inventory/adjust', {
          ...keys[Math.floor(i / 2) % 2]!,
          quantity: 1 + (i % 3),
          movementType: i % 4 < 2 ? 'in' : 'out',
        }),
      ),
    );
    expect(replies.filter((r) => r.status !== 200).map((r) => r.body)).toEqual([]);
    for (const key of keys) {
      const mine = replies.filter((r) => r.body.inventory.productId === key.productId);
      const versions = mine.map((r) => r.body.inventory.version).sort((a, b) => a - b);
      expect(versions).toEqual(mine.map((_, i) => i + 2));
      const sum = mine.reduce((total, r) => total + r.body.movement.quantityChange, 500);
      const [row] = await f.sql(
        'select quantity_available::int as a, version from inventory_record where product_id = ?',
        [key.productId],
      );
      expect(row).toEqual({ a: sum, version: mine.length + 1 });
    }
  });

  it('creates a record once when both instances get its first adjusts at the same moment', async () => {
    const key = uniqueKey('first');
    const replies = await Promise.all(
      Array.from({ length: 24 }, (_, i) =>
        call(i % 2, 'POST', '/api/inventory/adjust', { ...key, quantity: 1, movementType: 'in' }),
      ),
    );
    expect(replies.filter((r) => r.status !== 200).map((r) => r.body)).toEqual([]);
    expect(new Set(replies.map((r) => r.body.inventory.inventoryId)).size).toBe(1);
    expect(replies.map((r) => r.body.inventory.version).sort((a, b) => a - b)).toEqual(
      replies.map((_, i) => i + 1),
    );
    const [row] = await f.sql(
      'select quantity_available::int as a, version from inventory_record where product_id = ?',
      [key.productId],
    );
    expect(row).toEqual({ a: 24, version: 24 });
  });

  /** Runs one operation; returns what it booked, and checks that a refusal is one it may get. */
  const run = async (op: Op, keys: ReturnType<typeof uniqueKey>[]): Promise<Applied[]> => {
    if (op.kind === 'reserve' || op.kind === 'release') {
      const records = op.kind === 'reserve' ? op.records : [op.record];
      const lines: MovementLine[] = records.map((i) => ({
        target: { key: { ...keys[i]!, variantId: null, uomId: null }, create: false },
        changes: [
          {
            change: op.kind === 'reserve' ? deltas.reserve(op.quantity) : deltas.release(op.quantity),
            context: { actor: 'saga', source: 'transfer' },
          },
        ],
      }));
      const outcome = await tryApplyMovements(services[op.via]!.db, lines);
      if (!outcome.ok) {
        expect(['INSUFFICIENT_STOCK', 'NOT_FOUND']).toContain(outcome.error.code);
        return [];
      }
      return outcome.booked.flatMap((b) =>
        b.movements.map((m) => ({
          productId: b.record.productId,
          quantityChange: m.quantityChange,
          reservedChange: m.reservedChange,
          version: m.recordVersion,
        })),
      );
    }
    const key = keys[op.record]!;
    let headers = {};
    if (op.kind === 'pinned') {
      const found = await f.sql('select version from inventory_record where product_id = ?', [key.productId]);
      headers = { 'if-match': `"${found[0]?.version ?? 0}"` };
    }
    const movementType = op.kind === 'count' ? 'adjustment' : op.kind === 'out' ? 'out' : 'in';
    const reply = await call(
      op.via,
      'POST',
      '/api/inventory/adjust',
      { ...key, quantity: op.quantity, movementType },
      headers,
    );
    if (reply.status !== 200) {
      expect(reply.status).toBe(409);
      const allowed = op.kind === 'pinned' ? 'OPTIMISTIC_LOCK_FAILURE' : 'INSUFFICIENT_STOCK';
      expect(reply.body.code).toBe(op.kind === 'out' || op.kind === 'pinned' ? allowed : 'none');
      return [];
    }
    return [
      {
        productId: key.productId,
        quantityChange: reply.body.movement.quantityChange,
        reservedChange: reply.body.movement.reservedChange,
        version: reply.body.inventory.version,
      },
    ];
  };

  it('keeps every record equal to its applied deltas, its ledger and its stream under random concurrent mixes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 4, maxLength: 24 }), async (ops) => {
        const keys = Array.from({ length: RECORDS }, () => uniqueKey('prop'));
        const applied = (await Promise.all(ops.map((o) => run(o, keys)))).flat();
        await f.outboxDrained();
        for (const key of keys) {
          const mine = applied.filter((a) => a.productId === key.productId);
          const versions = mine.map((a) => a.version).sort((a, b) => a - b);
          expect(versions).toEqual(mine.map((_, i) => i + 1));
          const [row] = await f.sql(
            `select r.quantity_available::int as available, r.quantity_reserved::int as reserved, r.version,
                    sum(m.quantity_change)::int as ledger_available, sum(m.reserved_change)::int as ledger_reserved,
                    count(distinct m.record_version)::int as ledger_versions, max(m.record_version) as ledger_max,
                    min(least(m.available_after, m.reserved_after))::int as lowest
               from inventory_record r join inventory_movement m using (inventory_id)
              where r.product_id = ? group by r.inventory_id`,
            [key.productId],
          );
          if (mine.length === 0) {
            expect(row).toBeUndefined();
            continue;
          }
          const sum = (pick: (a: Applied) => number) => mine.reduce((total, a) => total + pick(a), 0);
          expect(row).toEqual({
            available: sum((a) => a.quantityChange),
            reserved: sum((a) => a.reservedChange),
            version: mine.length,
            ledger_available: sum((a) => a.quantityChange),
            ledger_reserved: sum((a) => a.reservedChange),
            ledger_versions: mine.length,
            ledger_max: mine.length,
            lowest: expect.any(Number),
          });
          expect(row.lowest).toBeGreaterThanOrEqual(0);
          const updated = (await readStoredEvents(f.nc, `inventory.product.${key.productId}.>`))
            .map((s) => s.event)
            .filter(
              (e): e is Extract<DomainEvent, { type: 'inventory.updated' }> => e.type === 'inventory.updated',
            );
          expect(updated.map((e) => e.data.version)).toEqual(versions);
        }
      }),
      { numRuns: 15, seed: 1_717 },
    );
  }, 180_000);
});
