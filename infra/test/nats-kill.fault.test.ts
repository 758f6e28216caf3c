import { readStoredEvents, type Stack, startStack, TestWsClient } from '@inv/testkit';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adjustStorm, checkStockEvents, faultDuring, outboxDrained, ready, sql } from './support.js';

const WRITERS = 20;
const ADJUSTS = 5_000;
const RECORDS = 10;

describe('kill -9 of the NATS server during a storm of adjusts', () => {
  let stack: Stack;
  let nc: NatsConnection;
  beforeAll(async () => {
    stack = await startStack();
    nc = await connect({ servers: stack.nats.url, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
  });
  afterAll(async () => {
    await stack?.nats.server?.launch();
    await nc?.close();
    await stack?.stop();
  });

  it('stores every event exactly once in per-record order, and every service recovers without a restart', async () => {
    const server = stack.nats.server!;
    const watcher = await TestWsClient.connect(stack.gatewayUrl(), { token: await stack.token() });
    watcher.send({ type: 'subscribe', channel: 'warehouse:wh-1' });
    await watcher.nextFrame('subscribed', { timeoutMs: 20_000 });

    // Down for the middle of the storm: from the 1,500th answer until 1,500 more have been given.
    const fault = faultDuring(
      { start: 1_500, length: 1_500 },
      { down: () => server.kill('SIGKILL'), up: () => server.launch() },
    );
    const storm = await adjustStorm({
      inventoryUrl: stack.inventory.url,
      token: await stack.token(),
      writers: WRITERS,
      perWriter: ADJUSTS / WRITERS,
      records: RECORDS,
      prefix: 'nk',
      onReply: fault.onReply,
    });
    await fault.settled();
    expect(storm.unclean).toEqual([]);
    // Two writers share each record: a write that stays stale through the contract's retries gets a clean 409.
    expect([...storm.statuses.keys()].filter((status) => status !== 200 && status !== 409)).toEqual([]);
    expect(storm.applied).toBeGreaterThan(ADJUSTS * 0.9);
    const [ledger] = await sql<{ n: number }>(
      stack.databases.inventory.url,
      'select count(*)::int as n from inventory_movement',
    );
    expect(ledger?.n).toBe(storm.applied);

    await outboxDrained(stack.databases.inventory.url);
    const stored = await readStoredEvents(nc, 'inventory.>');
    const checked = checkStockEvents(stored, storm.appliedPer);
    expect(checked).toBe(storm.applied);
    for (const s of stored) expect(s.msgId).toBe(s.event.id);

    // The same processes answer again: none was restarted.
    for (const service of [stack.inventory, stack.transfer, ...stack.gateways]) {
      expect(service.running).toBe(true);
      await ready(service.url);
    }
    // The gateway's client saw each stock event of its warehouse once, in stream order, with no gap across the outage.
    const stockIds = stored.filter((s) => s.subject.startsWith('inventory.product.'));
    const frames = await watcher.waitForEvents('warehouse:wh-1', stockIds.length, { timeoutMs: 60_000 });
    const frameIds = frames.map((frame) => frame.id);
    expect(frameIds).toEqual(stockIds.map((s) => s.event.id));
    await watcher.close();
    console.log(
      `reliability: nats-kill ${ADJUSTS} adjusts from ${WRITERS} writers (${storm.applied} applied, ${storm.statuses.get(409) ?? 0} clean 409), 1 kill -9, ${checked} events checked in the stream, ${frameIds.length} at the gateway, 0 duplicates, 0 gaps`,
    );
  });
});
