import {
  type AccessClaims,
  createEvent,
  type DomainEvent,
  decodeCursor,
  type EventData,
  type EventOf,
  GATEWAY_SESSIONS_BUCKET,
  subjectOf,
  type TransferEventType,
} from '@inv/contracts';
import {
  fetchJson,
  mintToken,
  startTestNats,
  TEST_JWT_SECRET,
  type TestNats,
  TestWsClient,
  type TestWsClientOptions,
  testLogger,
  VALID_DATA,
} from '@inv/testkit';
import { type JetStreamClient, type JetStreamManager, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { channelOfSessionKey } from '../src/domain/session-keys.js';
import { type Gateway, loadGatewayConfig, startGateway } from '../src/index.js';

export type StockType =
  | 'inventory.updated'
  | 'inventory.low_stock'
  | 'inventory.out_of_stock'
  | 'batch.expiring_soon';
export interface StockKey {
  productId: string;
  warehouseId: string;
  variantId?: string | null;
  uomId?: string | null;
}

/** A stock event of the original contract for one inventory record. */
export function stockEvent<T extends StockType>(
  type: T,
  key: StockKey,
  extra: Partial<EventData<T>> = {},
): EventOf<T> {
  const data = {
    ...VALID_DATA[type],
    inventoryId: `inv-${key.productId}-${key.warehouseId}`,
    productId: key.productId,
    warehouseId: key.warehouseId,
    variantId: key.variantId ?? null,
    uomId: key.uomId ?? null,
    ...extra,
  } as EventData<T>;
  return createEvent(type, data, {
    aggregate: { type: 'inventory', id: data.inventoryId as string, version: 1 },
  });
}

export function transferEvent<T extends TransferEventType>(
  type: T,
  transfer: { transferId: string; from: string; to: string },
): EventOf<T> {
  const data = {
    ...VALID_DATA[type],
    transferId: transfer.transferId,
    sourceWarehouseId: transfer.from,
    destinationWarehouseId: transfer.to,
  } as EventData<T>;
  return createEvent(type, data, { aggregate: { type: 'transfer', id: transfer.transferId, version: 1 } });
}

export function reservationEvent(transferId: string, warehouseId: string): EventOf<'inventory.reserved'> {
  return createEvent(
    'inventory.reserved',
    { ...VALID_DATA['inventory.reserved'], transferId, warehouseId },
    { aggregate: { type: 'transfer', id: transferId, version: 1 } },
  );
}

/** Publishes in order with a bounded window of publishes in flight; returns the stream sequences. */
export async function publishAll(js: JetStreamClient, events: DomainEvent[], window = 64): Promise<number[]> {
  const seqs: number[] = [];
  for (let i = 0; i < events.length; i += window) {
    const acks = await Promise.all(
      events
        .slice(i, i + window)
        .map((event) => js.publish(subjectOf(event), JSON.stringify(event), { msgID: event.id })),
    );
    seqs.push(...acks.map((ack) => ack.seq));
  }
  return seqs;
}

export interface GatewayFixture {
  nats: TestNats;
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  gateways: Gateway[];
  wsUrl(instance?: number, path?: string): string;
  httpUrl(instance?: number): string;
  token(claims?: Partial<AccessClaims>): Promise<string>;
  /** A client with an all-warehouse token unless `claims` (or `options.token`) say otherwise. */
  client(
    options?: TestWsClientOptions & { instance?: number; path?: string; claims?: Partial<AccessClaims> },
  ): Promise<TestWsClient>;
  publish(...events: DomainEvent[]): Promise<number[]>;
  startGateway(env?: Record<string, string>): Promise<Gateway>;
  close(): Promise<void>;
}

/** A test nats-server, `instances` gateways on it (in this process) and a publishing connection. */
export async function gatewayFixture(
  options: { instances?: number; env?: Record<string, string> } = {},
): Promise<GatewayFixture> {
  const nats = await startTestNats();
  const gateways: Gateway[] = [];
  const clients: TestWsClient[] = [];
  const start = async (env: Record<string, string> = {}) => {
    const config = loadGatewayConfig({
      NATS_URL: nats.url,
      JWT_SECRET: TEST_JWT_SECRET,
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'silent',
      ...options.env,
      ...env,
    });
    const gateway = await startGateway(config, { logger: testLogger('gateway') });
    gateways.push(gateway);
    return gateway;
  };
  for (let i = 0; i < (options.instances ?? 1); i++) await start();
  const nc = await connect({ servers: nats.url });
  const js = jetstream(nc);
  const token = (claims: Partial<AccessClaims> = {}) =>
    mintToken({ warehouses: ['*'], roles: ['viewer'], ...claims });
  const wsUrl = (instance = 0, path = '/ws') => `ws://127.0.0.1:${gateways[instance]!.port}${path}`;
  return {
    nats,
    nc,
    js,
    jsm: await jetstreamManager(nc),
    gateways,
    wsUrl,
    httpUrl: (instance = 0) => gateways[instance]!.url,
    token,
    async client({ instance, path, claims, ...rest } = {}) {
      const client = await TestWsClient.connect(wsUrl(instance, path), {
        token: rest.token === undefined ? await token(claims) : rest.token,
        ...rest,
      });
      clients.push(client);
      return client;
    },
    publish: (...events) => publishAll(js, events),
    startGateway: start,
    async close() {
      await Promise.all(clients.map((client) => client.terminate()));
      await Promise.all(gateways.map((gateway) => gateway.stop()));
      await nc.close();
      await nats.stop();
    },
  };
}

/** Subscribes and waits for the confirmation; returns it (its cursor is where the subscription starts). */
export async function subscribe(client: TestWsClient, channel: string, cursor?: string) {
  client.send(cursor ? { type: 'subscribe', channel, cursor } : { type: 'subscribe', channel });
  return client.waitFor(
    (frame) =>
      (frame.type === 'subscribed' || frame.type === 'reset' || frame.type === 'error') &&
      frame.channel === channel,
    { description: `subscription to ${channel}` },
  );
}

/** Unsubscribes and waits for this channel's confirmation (the default `global` may be leaving meanwhile). */
export async function unsubscribe(client: TestWsClient, channel: string) {
  client.send({ type: 'unsubscribe', channel });
  return client.waitFor((frame) => frame.type === 'unsubscribed' && frame.channel === channel, {
    description: `unsubscription from ${channel}`,
  });
}

/** A counter of a gateway instance's metrics, read from its `/metrics`. */
export async function gatewayMetric(f: GatewayFixture, instance: number, name: string): Promise<number> {
  const text = (await fetchJson<string>(`${f.httpUrl(instance)}/metrics`)).body;
  return Number(new RegExp(`^${name}\\{service="gateway"\\} (\\d+)`, 'm').exec(text)?.[1] ?? Number.NaN);
}

/** `n` stock events of product `p` in warehouses w1 and w2, alternating, versions from `from`. */
/** `n` updates of one product in warehouse w1. */
export const productEvents = (productId: string, n: number): DomainEvent[] =>
  Array.from({ length: n }, () => stockEvent('inventory.updated', { productId, warehouseId: 'w1' }));

export const productTraffic = (p: string, n: number, from = 0): DomainEvent[] =>
  Array.from({ length: n }, (_, i) =>
    stockEvent(
      'inventory.updated',
      { productId: p, warehouseId: i % 2 === 0 ? 'w1' : 'w2' },
      { version: from + i },
    ),
  );

export const inW1 = (events: DomainEvent[]) =>
  events.filter((event) => (event.data as { warehouseId: string }).warehouseId === 'w1');

export const ids = (frames: Array<{ id?: string }>) => frames.map((frame) => frame.id);

/**
 * The stream positions a durable session holds in the gateway's bucket, by channel. Read with stream requests
 * (the subjects in the bucket's stream, then the last message of each), not with `kv.keys()`: its ordered
 * consumer, asked for a filter nothing matches yet, could wait ~30 s for an end it never saw, so a check polled
 * before the gateway's first write hung the test instead of being tried again.
 */
export async function sessionPositions(nc: NatsConnection, sessionId: string): Promise<Map<string, number>> {
  const jsm = await jetstreamManager(nc);
  const stream = `KV_${GATEWAY_SESSIONS_BUCKET}`;
  const prefix = `$KV.${GATEWAY_SESSIONS_BUCKET}.`;
  const info = await jsm.streams.info(stream, { subjects_filter: `${prefix}*.${sessionId}.>` });
  const positions = new Map<string, number>();
  for (const subject of Object.keys(info.state.subjects ?? {})) {
    const key = subject.slice(prefix.length);
    // Keys are `{user}.{session}.{channel}`; the session's owner key names no channel.
    const channel = channelOfSessionKey(key.split('.').slice(0, 2).join('.'), key);
    if (!channel) continue;
    const message = await jsm.streams.getMessage(stream, { last_by_subj: subject });
    const operation = message?.header?.get('KV-Operation');
    if (message && (operation === '' || operation === undefined || operation === 'PUT'))
      positions.set(channel, decodeCursor(message.string())!.seq);
  }
  return positions;
}
