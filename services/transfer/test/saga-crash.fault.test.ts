import { DURABLE_CONSUMERS, EVENTS_STREAM } from '@inv/contracts';
import { eventually } from '@inv/testkit';
import { jetstreamManager } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type JointFixture, jointFixture } from './joint.js';
import { newTransferBody, uniqueId } from './support.js';

/**
 * A message in flight to a crashed consumer comes back only after the consumer's ack wait (10 s), and with
 * `max_ack_pending: 1` nothing else is delivered meanwhile: the saga pauses, then catches up.
 */
const AFTER_CRASH_MS = 60_000;

/**
 * Inventory runs as its own process from its build and is killed with SIGKILL (no shutdown, no acks, no
 * drain) in the middle of a transfer, several times; the transfer still completes with the right stock and
 * no step applied twice.
 */
describe('transfer saga when the inventory service crashes', () => {
  let f: JointFixture;
  beforeAll(async () => {
    f = await jointFixture({ inventoryProcess: true });
  });
  afterAll(async () => f?.close());

  const crash = async () => {
    await f.inventoryProcess!.kill('SIGKILL');
    expect(f.inventoryProcess!.running).toBe(false);
  };
  const relaunch = () => f.inventoryProcess!.launch();
  /** Waits until inventory's consumer has acknowledged every transfer event, redeliveries included. */
  const inventoryCaughtUp = async () => {
    const jsm = await jetstreamManager(f.transfer.nc);
    await eventually(
      async () => {
        const info = await jsm.consumers.info(EVENTS_STREAM, DURABLE_CONSUMERS.inventoryTransfers.name);
        return info.num_pending === 0 && info.num_ack_pending === 0;
      },
      { timeoutMs: AFTER_CRASH_MS, message: 'inventory to acknowledge every transfer event' },
    );
  };
  const movements = async (transferId: string, type: string) =>
    (await f.inventory.ledger(transferId)).filter((m) => m.movement_type === type);
  const bookedOnce = (transferId: string, type: string) =>
    eventually(async () => (await movements(transferId, type)).length >= 1, {
      timeoutMs: AFTER_CRASH_MS,
      message: `${type} movement`,
    });

  it('completes with correct stock and exactly one reservation', async () => {
    const api = f.transfer.api;
    const [source, destination, product] = [uniqueId('src'), uniqueId('dst'), uniqueId('p')];
    await f.inventory.seed(product, source, 50);
    await f.inventory.seed(product, destination, 5);
    const created = await api.create(
      newTransferBody([{ productId: product, quantity: 20 }], {
        sourceWarehouseId: source,
        destinationWarehouseId: destination,
      }),
    );
    const id = created.body.transferId;

    // Crash while the approval is on its way to (or being applied by) inventory.
    await api.must(id, 'approve');
    await crash();
    await relaunch();
    await api.until(
      id,
      (t) => t.reservationStatus === 'reserved',
      'reservation after the crash',
      AFTER_CRASH_MS,
    );
    expect(await f.stockOf(created.body)).toEqual({
      source: [{ available: 30, reserved: 20 }],
      destination: [{ available: 5, reserved: 0 }],
    });

    await api.must(id, 'start-picking');
    await api.must(id, 'pack');
    // Inventory is down while the goods leave and arrive: it catches up after the restart.
    await crash();
    const shipped = await api.must(id, 'ship');
    await api.receiveAll(shipped);
    await relaunch();
    await bookedOnce(id, 'transfer_in');
    await api.must(id, 'complete');
    // A last crash and restart must not re-apply anything (redelivery after restart).
    await crash();
    await relaunch();
    await inventoryCaughtUp();

    expect(await f.stockOf(created.body)).toEqual({
      source: [{ available: 30, reserved: 0 }],
      destination: [{ available: 25, reserved: 0 }],
    });
    expect(await movements(id, 'reservation')).toHaveLength(1);
    expect(await movements(id, 'transfer_out')).toHaveLength(1);
    expect(await movements(id, 'transfer_in')).toHaveLength(1);
    expect(await movements(id, 'release')).toHaveLength(0);
    const final = (await api.get(id)).body;
    expect(final).toMatchObject({
      status: 'completed',
      reservationStatus: 'consumed',
      hasDiscrepancy: false,
    });
    const types = (await f.transfer.eventsOf(id)).map((s) => s.event.type);
    expect(types.filter((t) => t === 'transfer.stock_reserved')).toHaveLength(1);
  });
});
