import { DURABLE_CONSUMERS, EVENTS_STREAM } from '@inv/contracts';
import { eventually } from '@inv/testkit';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type InventoryFixture, inventoryFixture } from './support.js';
import { newTransfer, publishEvent, SOURCE } from './transfer-events.js';

const CONSUMER = DURABLE_CONSUMERS.inventoryTransfers.name;

describe('transfer saga under a long database fault', () => {
  // biome-ignore lint/suspicious/noExplicitAny: log lines are loose JSON
  const logLines: any[] = [];
  let f: InventoryFixture;
  beforeAll(async () => {
    // Tiny pauses so that "more than 20 deliveries" takes about a second instead of minutes.
    f = await inventoryFixture(
      { INBOX_RETRY_BASE_MS: '5', INBOX_RETRY_MAX_MS: '40' },
      { logger: pino({ level: 'warn' }, { write: (line: string) => void logLines.push(JSON.parse(line)) }) },
    );
  });
  afterAll(async () => {
    await f?.sql('alter table if exists inbox_away rename to inbox').catch(() => undefined);
    await f?.close();
  });

  const consumerInfo = async () => (await jetstreamManager(f.nc)).consumers.info(EVENTS_STREAM, CONSUMER);
  const settled = () =>
    eventually(
      async () => {
        const info = await consumerInfo();
        return info.num_pending === 0 && info.num_ack_pending === 0;
      },
      { message: 'saga consumer to catch up' },
    );
  const stock = async (productId: string) => {
    const [row] = await f.sql(
      'select quantity_available::int as available, quantity_reserved::int as reserved from inventory_record where product_id = ? and warehouse_id = ?',
      [productId, SOURCE],
    );
    return row;
  };

  /** Transactions rolled back in the service's database: one per failed attempt at an event. */
  const rollbacks = async () => {
    const [row] = await f.sql(
      'select xact_rollback::int as n from pg_stat_database where datname = current_database()',
    );
    return row.n as number;
  };

  it('releases the reservation of a transfer cancelled while the inbox table was unavailable for 20+ attempts', async () => {
    const res = await f.adjust({ productId: 'dur-a', warehouseId: SOURCE, quantity: 10, movementType: 'in' });
    expect(res.status).toBe(200);
    const t = newTransfer([{ productId: 'dur-a', quantity: 10 }]);
    await publishEvent(f.nc, t.event('transfer.approved', 'approved'));
    await settled();
    expect(await stock('dur-a')).toEqual({ available: 0, reserved: 10 });

    // The database "fails" for the consumer: its inbox table is gone until renamed back.
    await f.sql('alter table inbox rename to inbox_away');
    const rolledBackBefore = await rollbacks();
    await publishEvent(f.nc, t.event('transfer.cancelled', 'cancelled'));
    await eventually(async () => (await rollbacks()) - rolledBackBefore >= 20, {
      message: '20 failed attempts at the cancellation',
      timeoutMs: 20_000,
    });

    // Meanwhile the instance says so: readiness degraded (still 200), a metric with how long, a warn log line.
    const ready = await f.api('GET', '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body.status).toBe('degraded');
    expect(ready.body.checks[`consumer:${CONSUMER}`]).toMatchObject({ ok: false, degraded: true });
    const metrics = String((await f.api('GET', '/metrics')).body);
    expect(Number(/inbox_retrying_seconds\{[^}]*\} ([\d.e-]+)/.exec(metrics)?.[1])).toBeGreaterThan(0);
    expect(Number(/inbox_retries_total\{[^}]*\} (\d+)/.exec(metrics)?.[1])).toBeGreaterThanOrEqual(20);
    const warned = logLines.filter((l) => l.level === 40 && l.consumer === CONSUMER && l.retryingForMs >= 0);
    expect(warned.length).toBeGreaterThan(0);
    expect(warned[0].msg).toContain('retrying');
    expect(metrics).not.toMatch(/inbox_dead_lettered_total\{[^}]*\} [1-9]/);

    await f.sql('alter table inbox_away rename to inbox');
    await settled();
    await eventually(async () => (await stock('dur-a')).reserved === 0, { message: 'reservation released' });
    expect(await stock('dur-a')).toEqual({ available: 10, reserved: 0 });
    expect((await f.api('GET', '/readyz')).body.status).toBe('ok');
    expect(String((await f.api('GET', '/metrics')).body)).toMatch(/inbox_retrying_seconds\{[^}]*\} 0\n/);
  });
});

describe('periodic saga reconciliation', () => {
  let f: InventoryFixture;
  beforeAll(async () => {
    f = await inventoryFixture({ RECONCILE_INTERVAL_SECONDS: '1' });
  });
  afterAll(async () => f?.close());

  const stock = async (productId: string) => {
    const [row] = await f.sql(
      'select quantity_available::int as available, quantity_reserved::int as reserved from inventory_record where product_id = ? and warehouse_id = ?',
      [productId, SOURCE],
    );
    return row;
  };

  it('applies, once, a cancellation the saga consumer acknowledged without applying', async () => {
    await f.adjust({ productId: 'rec-a', warehouseId: SOURCE, quantity: 10, movementType: 'in' });
    const t = newTransfer([{ productId: 'rec-a', quantity: 10 }]);
    await publishEvent(f.nc, t.event('transfer.approved', 'approved'));
    await eventually(async () => (await stock('rec-a'))?.reserved === 10, { message: 'reservation' });

    // Dropped: with the service stopped, the consumer's delivery of the cancellation is acknowledged unapplied.
    await f.service.stop();
    await publishEvent(f.nc, t.event('transfer.cancelled', 'cancelled'));
    const saga = await jetstream(f.nc).consumers.get(EVENTS_STREAM, CONSUMER);
    const msg = await saga.next({ expires: 5_000 });
    expect(msg?.subject).toMatch(/\.cancelled$/);
    await msg!.ackAck();
    await f.restart();
    expect(await stock('rec-a')).toEqual({ available: 0, reserved: 10 });

    await eventually(async () => (await stock('rec-a'))?.reserved === 0, {
      message: 'the reconciler to release the reservation',
    });
    expect(await stock('rec-a')).toEqual({ available: 10, reserved: 0 });
    // Later runs find nothing more to do.
    expect(await f.service.reconciler.runOnce()).toEqual([]);
    const kinds = await f.sql(
      'select movement_type from inventory_movement where transfer_id = ? order by movement_id',
      [t.transferId],
    );
    expect(kinds.map((k) => k.movement_type)).toEqual(['reservation', 'release']);
    const metrics = String((await f.api('GET', '/metrics')).body);
    expect(metrics).toMatch(/saga_reconcile_repairs_total({[^}]*})? 1\n/);
  });
});
