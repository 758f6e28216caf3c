import { PostgresServer, readStoredEvents, type Stack, startStack } from '@inv/testkit';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adjustStorm, checkStockEvents, faultDuring, outboxDrained, ready, sql } from './support.js';

const WRITERS = 20;
const ADJUSTS = 2_000;

describe('PostgreSQL restarted under load', () => {
  let postgres: PostgresServer;
  let stack: Stack;
  let nc: NatsConnection;
  beforeAll(async () => {
    postgres = await PostgresServer.start();
    stack = await startStack({ databaseServerUrl: postgres.url });
    nc = await connect({ servers: stack.nats.url });
  });
  afterAll(async () => {
    await nc?.close();
    await stack?.stop().catch(() => undefined);
    await postgres?.stop();
  });

  it('answers 503 with a code while it is down, never a 500 or a hang, then recovers with nothing half-applied', async () => {
    const unavailable: unknown[] = [];
    const fault = faultDuring(
      { start: 400, length: 400 },
      { down: () => postgres.kill('SIGINT'), up: () => postgres.launch() },
    );
    const storm = await adjustStorm({
      inventoryUrl: stack.inventory.url,
      token: await stack.token(),
      writers: WRITERS,
      perWriter: ADJUSTS / WRITERS,
      records: WRITERS,
      prefix: 'pg',
      onReply: (reply, done) => {
        if (reply.status === 503) unavailable.push(reply.body);
        fault.onReply(reply, done);
      },
    });
    await fault.settled();

    // On failure the service's own log says what it threw.
    if (storm.unclean.length) {
      const unexpected = stack.inventory
        .output()
        .split('\n')
        .filter((line) => line.includes('unexpected error'));
      console.log(unexpected.slice(0, 5).join('\n'));
    }
    expect(storm.unclean).toEqual([]);
    expect([...storm.statuses.keys()].filter((status) => status !== 200 && status !== 503)).toEqual([]);
    expect(unavailable.length).toBeGreaterThan(0);
    for (const body of unavailable) expect(body).toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
    await ready(stack.inventory.url);
    expect(stack.inventory.running).toBe(true);
    // Recovered: a write goes through again.
    const after = await adjustStorm({
      inventoryUrl: stack.inventory.url,
      token: await stack.token(),
      writers: 1,
      perWriter: 10,
      records: 1,
      prefix: 'pg-after',
    });
    expect(after.applied).toBe(10);

    // Nothing half-applied: each record's quantity is its ledger's sum, its version its ledger's length, and
    // the stream holds exactly its versions. A change whose answer was lost with the connection may be applied
    // although the client saw 503; it is applied whole.
    const records = await sql<{
      product_id: string;
      version: number;
      qty: number;
      ledger: number;
      rows: number;
    }>(
      stack.databases.inventory.url,
      `select r.product_id, r.version, r.quantity_available::int as qty,
              coalesce(sum(m.quantity_change), 0)::int as ledger, count(m.*)::int as rows
         from inventory_record r left join inventory_movement m on m.inventory_id = r.inventory_id
        group by r.inventory_id`,
    );
    for (const r of records) {
      expect(r.qty).toBe(r.ledger);
      expect(r.version).toBe(r.rows);
    }
    const rows = records.reduce((n, r) => n + r.rows, 0);
    expect(rows).toBeGreaterThanOrEqual(storm.applied + after.applied);
    expect(rows - storm.applied - after.applied).toBeLessThanOrEqual(unavailable.length);
    await outboxDrained(stack.databases.inventory.url);
    const stored = await readStoredEvents(nc, 'inventory.>');
    const checked = checkStockEvents(stored, new Map(records.map((r) => [r.product_id, r.version])));
    expect(checked).toBe(rows);
    console.log(
      `reliability: postgres-restart ${ADJUSTS} adjusts from ${WRITERS} writers, 1 restart, ${unavailable.length} clean 503, 0 500s, 0 hangs, ${checked} events checked`,
    );
  });
});
