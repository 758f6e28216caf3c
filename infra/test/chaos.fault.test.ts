import {
  channelMatchesSubject,
  DEAD_LETTERS_STREAM,
  DURABLE_CONSUMERS,
  EVENTS_STREAM,
  parseChannel,
  type Transfer,
} from '@inv/contracts';
import {
  eventually,
  fetchJson,
  mintToken,
  NatsCluster,
  PostgresServer,
  type SeededRandom,
  type ServiceProcess,
  type Stack,
  seededRandom,
  startStack,
} from '@inv/testkit';
import { type JetStreamManager, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AdjustTally,
  adjustWriter,
  driveTransfer,
  ResumingClient,
  type TransferTally,
} from './chaos-load.js';
import { outboxDrained, ready, sql, storedEventsOnceAnswered } from './support.js';

/** 60 s in `npm test`; `npm run test:chaos` runs 600 s. `CHAOS_SEED` replays a run's random choices. */
const SECONDS = Number(process.env.CHAOS_SECONDS ?? 60);
const SEED = Number(process.env.CHAOS_SEED ?? Math.floor(Math.random() * 2 ** 31));
const CLIENTS = 200;
const PRODUCTS = Array.from({ length: 6 }, (_, i) => `ch-${i}`);
const WAREHOUSES = ['cw-0', 'cw-1', 'cw-2'];
const INITIAL = 500;
const ADJUST_WRITERS = 3;
const TRANSFER_DRIVERS = 4;
/** PostgreSQL pauses last up to 30 s, but at most a quarter of a short run (`CHAOS_PG_PAUSE_SECONDS` overrides). */
const MAX_PG_PAUSE_MS = Number(process.env.CHAOS_PG_PAUSE_SECONDS ?? Math.min(30, SECONDS / 4)) * 1000;

type Target = 'nats' | 'gateway' | 'inventory' | 'transfer' | 'postgres';
const TARGETS: Target[] = ['nats', 'gateway', 'inventory', 'transfer', 'postgres'];
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe(`chaos: ${SECONDS} s of load while processes are killed and PostgreSQL freezes`, () => {
  let cluster: NatsCluster;
  let postgres: PostgresServer;
  let stack: Stack;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  beforeAll(async () => {
    console.log(`chaos: seed ${SEED} (replay with CHAOS_SEED=${SEED})`);
    [cluster, postgres] = await Promise.all([NatsCluster.start(3, 'chaos'), PostgresServer.start()]);
    stack = await startStack({
      natsUrl: cluster.servers.join(','),
      databaseServerUrl: postgres.url,
      gateways: 2,
      env: { STREAM_REPLICAS: '3', BATCH_SCAN_INTERVAL_MS: '0' },
    });
    nc = await connect({ servers: cluster.servers, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
    jsm = await jetstreamManager(nc);
  });
  afterAll(async () => {
    postgres?.resume();
    await Promise.all(cluster?.nodes.map((node) => node.launch()) ?? []);
    await nc?.close();
    await stack?.stop().catch(() => undefined);
    await cluster?.stop();
    await postgres?.stop();
  });

  it(
    'keeps every record equal to its ledger, conserves stock, strands no reservation, delivers every event once in order and dead-letters nothing',
    async () => {
      const random = seededRandom(SEED);
      const admin = await stack.token({ roles: ['admin'] });
      const requester = await mintToken({ sub: 'chaos-requester', roles: ['admin'], warehouses: ['*'] });
      const approver = await mintToken({ sub: 'chaos-approver', roles: ['admin'], warehouses: ['*'] });

      // Initial stock, before any fault: every product in every warehouse.
      for (const productId of PRODUCTS) {
        for (const warehouseId of WAREHOUSES) {
          const reply = await fetchJson(`${stack.inventory.url}/api/inventory/adjust`, {
            method: 'POST',
            token: admin,
            body: { productId, warehouseId, quantity: INITIAL, movementType: 'in' },
          });
          expect(reply.status).toBe(200);
        }
      }

      // 200 clients over both gateways, on product and warehouse channels.
      const channels = [...PRODUCTS.map((p) => `product:${p}`), ...WAREHOUSES.map((w) => `warehouse:${w}`)];
      const gatewayUrls = () => stack.gateways.map((_, i) => stack.gatewayUrl(i));
      const clients = Array.from(
        { length: CLIENTS },
        (_, i) => new ResumingClient(channels[i % channels.length]!, gatewayUrls, admin, i),
      );
      for (let i = 0; i < CLIENTS; i += 50) await Promise.all(clients.slice(i, i + 50).map((c) => c.start()));

      const started = Date.now();
      const deadline = started + SECONDS * 1000;
      const until = () => Date.now() >= deadline;
      const adjusts: AdjustTally = { applied: 0, refused: 0, unavailable: 0, unclean: [] };
      const transfers: TransferTally = { created: [], unclean: [] };
      const writers = Array.from({ length: ADJUST_WRITERS }, () =>
        adjustWriter({
          inventoryUrl: stack.inventory.url,
          token: admin,
          products: PRODUCTS,
          warehouses: WAREHOUSES,
          random: random.fork(),
          tally: adjusts,
          until,
        }),
      );
      const drivers = Array.from({ length: TRANSFER_DRIVERS }, async () => {
        const own = random.fork();
        while (!until()) {
          await driveTransfer({
            transferUrl: stack.transfer.url,
            requester,
            approver,
            products: PRODUCTS,
            warehouses: WAREHOUSES,
            random: own,
            tally: transfers,
            until,
          });
        }
      });
      const faults = await chaosMonkey(random.fork(), until);
      await Promise.all([...writers, ...drivers]);

      // Quiet period: everything up, then the outboxes and consumers drain.
      for (const service of [stack.inventory, stack.transfer, ...stack.gateways]) await ready(service.url);
      await outboxDrained(stack.databases.inventory.url);
      await outboxDrained(stack.databases.transfer.url);
      await consumersDrained();
      await outboxDrained(stack.databases.inventory.url);
      await outboxDrained(stack.databases.transfer.url);

      // On a 500 the service's own log says what it threw.
      for (const service of [stack.inventory, stack.transfer]) {
        const unexpected = service
          .output()
          .split('\n')
          .filter((line) => line.includes('unexpected error'));
        if (unexpected.length)
          console.log(`chaos: ${service.url} logged\n${unexpected.slice(0, 3).join('\n')}`);
      }
      expect(adjusts.unclean).toEqual([]);
      expect(transfers.unclean).toEqual([]);

      // Every record equals its ledger.
      const records = await sql<{
        inventory_id: string;
        product_id: string;
        available: number;
        reserved: number;
        version: number;
        ledger_available: number;
        ledger_reserved: number;
        rows: number;
      }>(
        stack.databases.inventory.url,
        `select r.inventory_id, r.product_id, r.quantity_available::int as available,
                r.quantity_reserved::int as reserved, r.version,
                coalesce(sum(m.quantity_change), 0)::int as ledger_available,
                coalesce(sum(m.reserved_change), 0)::int as ledger_reserved, count(m.*)::int as rows
           from inventory_record r left join inventory_movement m on m.inventory_id = r.inventory_id
          group by r.inventory_id`,
      );
      const ledgerMismatches = records.filter(
        (r) => r.available !== r.ledger_available || r.reserved !== r.ledger_reserved || r.version !== r.rows,
      );
      expect(ledgerMismatches).toEqual([]);

      // Reservations: a record's reserved quantity is what its open reservations hold.
      const reservations = await sql<{
        transfer_id: string;
        inventory_id: string;
        product_id: string;
        quantity: number;
        status: string;
        shipped: number | null;
        received: number | null;
      }>(
        stack.databases.inventory.url,
        `select t.transfer_id, t.inventory_id, r.product_id, t.quantity::int as quantity, t.status,
                t.shipped_quantity::int as shipped, t.received_quantity::int as received
           from transfer_reservation t join inventory_record r using (inventory_id)`,
      );
      const held = new Map<string, number>();
      for (const r of reservations.filter((r) => r.status === 'reserved')) {
        held.set(r.inventory_id, (held.get(r.inventory_id) ?? 0) + r.quantity);
      }
      expect(records.filter((r) => r.reserved !== (held.get(r.inventory_id) ?? 0))).toEqual([]);

      // No final-state transfer holds a reservation; shipped = received + discrepancy per line.
      const finals = new Map<string, number>();
      const stuck: string[] = [];
      const unbalanced: string[] = [];
      let shortReceipts = 0;
      for (const id of transfers.created) {
        const t = (await fetchJson<Transfer>(`${stack.transfer.url}/api/transfers/${id}`, { token: admin }))
          .body;
        finals.set(t.status, (finals.get(t.status) ?? 0) + 1);
        const own = reservations.filter((r) => r.transfer_id === id);
        if (['completed', 'cancelled', 'rejected'].includes(t.status)) {
          if (own.some((r) => r.status === 'reserved') || t.reservationStatus === 'reserved') {
            stuck.push(`${id} ${t.status}/${t.reservationStatus}: ${own.map((r) => r.status).join(',')}`);
          }
        }
        if (t.lines.some((line) => (line.discrepancy ?? 0) > 0)) shortReceipts++;
        for (const line of t.lines) {
          if (line.receivedQuantity === null) continue;
          const row = own.find((r) => r.product_id === line.productId);
          if (
            line.shippedQuantity !== line.receivedQuantity + (line.discrepancy ?? 0) ||
            row?.shipped !== line.shippedQuantity ||
            row?.received !== line.receivedQuantity
          ) {
            unbalanced.push(`${id} ${JSON.stringify(line)} inventory ${JSON.stringify(row)}`);
          }
        }
      }
      expect(stuck).toEqual([]);
      expect(unbalanced).toEqual([]);

      // Stock conserved per product: stock + in transit = initial + external in/out - lost on receipt.
      const external = await sql<{ product_id: string; change: number }>(
        stack.databases.inventory.url,
        `select product_id, sum(quantity_change)::int as change from inventory_movement
          where movement_type in ('in', 'out', 'adjustment') group by product_id`,
      );
      const broken: string[] = [];
      for (const productId of PRODUCTS) {
        const stock = records
          .filter((r) => r.product_id === productId)
          .reduce((n, r) => n + r.available + r.reserved, 0);
        const mine = reservations.filter((r) => r.product_id === productId);
        const inTransit = mine
          .filter((r) => r.status === 'shipped')
          .reduce((n, r) => n + (r.shipped ?? 0), 0);
        const lost = mine
          .filter((r) => r.status === 'received')
          .reduce((n, r) => n + (r.shipped ?? 0) - (r.received ?? 0), 0);
        const external_ = external.find((e) => e.product_id === productId)?.change ?? 0;
        if (stock + inTransit !== external_ - lost) {
          broken.push(
            `${productId}: stock ${stock} + in transit ${inTransit} ≠ external ${external_} - lost ${lost}`,
          );
        }
      }
      expect(broken).toEqual([]);
      // The ledger's external movements are the adjusts that were answered 200, plus at most those left unanswered.
      const externalRows = await sql<{ n: number }>(
        stack.databases.inventory.url,
        `select count(*)::int as n from inventory_movement where movement_type in ('in', 'out')`,
      );
      const seeded = PRODUCTS.length * WAREHOUSES.length;
      expect(externalRows[0]!.n - seeded).toBeGreaterThanOrEqual(adjusts.applied);
      expect(externalRows[0]!.n - seeded).toBeLessThanOrEqual(adjusts.applied + adjusts.unavailable);

      // Every client got every event of its channel after it subscribed, once, in stream order.
      const stored = await storedEventsOnceAnswered(nc, '>');
      const expectedOf = new Map(
        channels.map((name) => {
          const parsed = parseChannel(name);
          if (!parsed.ok) throw new Error(parsed.message);
          return [name, stored.filter((s) => channelMatchesSubject(parsed.channel, s.subject))];
        }),
      );
      const expectedFor = (client: ResumingClient) =>
        expectedOf
          .get(client.channel)!
          .filter((s) => s.seq > client.startSeq)
          .map((s) => s.event.id);
      await eventually(() => clients.every((c) => c.ids.length >= expectedFor(c).length), {
        timeoutMs: 90_000,
        intervalMs: 500,
        message: 'every client to receive the events of its channel',
      }).catch(() => undefined); // the comparison below names what is missing
      let delivered = 0;
      let gaps = 0;
      let duplicates = 0;
      let disordered = 0;
      const failures: string[] = [];
      for (const client of clients) {
        const expected = expectedFor(client);
        const got = new Set(client.ids);
        const missing = expected.filter((id) => !got.has(id));
        const extra = client.ids.length - got.size;
        delivered += client.ids.length;
        gaps += missing.length;
        duplicates += extra;
        if (missing.length === 0 && extra === 0 && client.ids.join() !== expected.join()) disordered++;
        if (missing.length || extra) {
          failures.push(
            `${client.channel}: ${missing.length} missing (${missing.slice(0, 3).join(',')}), ${extra} twice`,
          );
        }
      }
      if (failures.length)
        console.log(`chaos: clients with gaps or duplicates:\n${failures.slice(0, 20).join('\n')}`);
      const resets = clients.reduce((n, c) => n + c.resets, 0);
      const reconnects = clients.reduce((n, c) => n + c.reconnects, 0);
      await Promise.all(clients.map((c) => c.stop()));

      const deadLetters = (await jsm.streams.info(DEAD_LETTERS_STREAM)).state.messages;
      const states = [...finals].map(([state, n]) => `${state} ${n}`).join(', ');
      console.log(
        `chaos: seed ${SEED}, ${SECONDS}s, ${adjusts.applied} adjusts applied (${adjusts.refused} refused, ${adjusts.unavailable} unanswered), ` +
          `${transfers.created.length} transfers (${states}; ${shortReceipts} received short), kills: ${TARGETS.filter(
            (t) => t !== 'postgres',
          )
            .map((t) => `${t} ${faults.get(t) ?? 0}`)
            .join(', ')}, PG pauses ${faults.get('postgres') ?? 0}, ` +
          `${CLIENTS} clients, ${reconnects} reconnects, ${delivered} events delivered, ${gaps} gaps, ${duplicates} duplicates, ` +
          `${disordered} out of order, ${resets} resets, ${deadLetters} dead letters`,
      );
      expect({ gaps, duplicates, disordered, resets, deadLetters }).toEqual({
        gaps: 0,
        duplicates: 0,
        disordered: 0,
        resets: 0,
        deadLetters: 0,
      });
      expect(adjusts.applied).toBeGreaterThan(0);
      expect(transfers.created.length).toBeGreaterThan(0);
    },
    (SECONDS + 300) * 1000,
  );

  /**
   * One fault at a time until `until()`: a target is killed with -9 (PostgreSQL: frozen with SIGSTOP), left
   * down a random while, then brought back and awaited. Targets come in rounds, each a random order of all
   * five, so even a short run hits each. Returns the number of faults per target.
   */
  async function chaosMonkey(random: SeededRandom, until: () => boolean): Promise<Map<Target, number>> {
    const counts = new Map<Target, number>();
    const gap = Math.max(1_000, (SECONDS * 1000) / 30);
    let round: Target[] = [];
    while (!until()) {
      await pause(random.int(gap / 2, gap));
      if (until()) break;
      if (round.length === 0) round = [...TARGETS].sort(() => random.next() - 0.5);
      const target = round.pop()!;
      counts.set(target, (counts.get(target) ?? 0) + 1);
      if (target === 'postgres') {
        postgres.pause();
        await pause(random.int(2_000, MAX_PG_PAUSE_MS));
        postgres.resume();
        continue;
      }
      if (target === 'nats') {
        const node = random.pick(cluster.nodes);
        await node.kill('SIGKILL');
        await pause(random.int(500, 5_000));
        await node.launch();
        await cluster.waitForJetStream();
        continue;
      }
      const service: ServiceProcess =
        target === 'gateway'
          ? random.pick(stack.gateways)
          : target === 'inventory'
            ? stack.inventory
            : stack.transfer;
      await service.kill('SIGKILL');
      await pause(random.int(500, 3_000));
      await service.launch();
    }
    return counts;
  }

  async function consumersDrained(): Promise<void> {
    await eventually(
      async () => {
        for (const consumer of Object.values(DURABLE_CONSUMERS)) {
          const info = await jsm.consumers.info(EVENTS_STREAM, consumer.name);
          if (info.num_pending !== 0 || info.num_ack_pending !== 0) return false;
        }
        return true;
      },
      { timeoutMs: 120_000, intervalMs: 250, message: 'the durable consumers to drain' },
    );
  }
});
