import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { TransferEventData } from '@inv/contracts';
import { eventually } from '@inv/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HAPPY_PATH_EVENTS } from './expected-workflow.js';
import {
  newTransferBody,
  publishAnswer,
  reservedAnswer,
  type TransferFixture,
  transferFixture,
  uniqueId,
} from './support.js';

describe('transfer service across NATS faults', () => {
  let f: TransferFixture;
  beforeAll(async () => {
    f = await transferFixture();
  });
  afterAll(async () => f?.close());

  it('keeps accepting transitions and publishes every event once, in order, when NATS is back', async () => {
    const api = f.api;
    const created = await api.create(newTransferBody([{ productId: uniqueId('p'), quantity: 6 }]));
    const id = created.body.transferId;
    const approved = await api.must(id, 'approve');
    await publishAnswer(f.nc, reservedAnswer(approved));
    await api.until(id, (t) => t.reservationStatus === 'reserved');
    await f.outboxDrained();

    await f.nats.server!.kill('SIGKILL');
    for (const action of ['start-picking', 'pack', 'ship'] as const) {
      const reply = await api.act(id, action);
      expect(reply.status, `${action} while NATS is down`).toBe(200);
    }
    const received = await api.receiveAll((await api.get(id)).body);
    expect(received.status).toBe('received');
    expect((await api.act(id, 'complete')).status).toBe(200);
    const ready = await api.call('GET', '/readyz', { token: null });
    expect(ready.status).toBe(503);
    expect(ready.body.checks.nats.ok).toBe(false);
    const [{ n }] = await f.sql('select count(*)::int as n from outbox where published_at is null');
    expect(n).toBe(5);

    await f.nats.server!.launch();
    const stored = await f.eventsOf(id);
    expect(stored.map((s) => s.event.type)).toEqual(HAPPY_PATH_EVENTS);
    expect(stored.map((s) => (s.event.data as TransferEventData).version)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(new Set(stored.map((s) => s.event.id)).size).toBe(stored.length);
    await eventually(async () => (await api.call('GET', '/readyz', { token: null })).status === 200, {
      message: 'ready again',
    });

    // The saga consumer is back too: a new answer is applied.
    const next = await api.create(newTransferBody([{ productId: uniqueId('p'), quantity: 1 }]));
    await publishAnswer(f.nc, reservedAnswer(await api.must(next.body.transferId, 'approve')));
    await api.until(next.body.transferId, (t) => t.reservationStatus === 'reserved', 'answer after outage');
  });

  /**
   * A server that comes back without its JetStream storage (a single node's disk lost or wiped): its streams and
   * consumers are gone, and the service makes them again without a restart.
   */
  it('publishes what the outbox held into a new EVENTS stream and applies answers again, without a restart', async () => {
    const api = f.api;
    const server = f.nats.server!;
    const created = await api.create(newTransferBody([{ productId: uniqueId('p'), quantity: 2 }]));
    const id = created.body.transferId;
    await f.outboxDrained();

    await server.kill('SIGKILL');
    rmSync(join(server.storeDir, 'js'), { recursive: true, force: true });
    const approved = await api.must(id, 'approve');
    await server.launch();

    // Only `approved` was in the outbox when the storage went: the new stream starts with it.
    const stored = await f.eventsOf(id);
    expect(stored.map((s) => s.event.type)).toEqual(['transfer.approved']);
    expect(stored.map((s) => (s.event.data as TransferEventData).version)).toEqual([2]);
    await f.outboxDrained();

    await publishAnswer(f.nc, reservedAnswer(approved));
    await api.until(id, (t) => t.reservationStatus === 'reserved', 'answer after the storage loss');
    await eventually(async () => (await api.call('GET', '/readyz', { token: null })).status === 200, {
      message: 'ready again',
    });
  });
});
