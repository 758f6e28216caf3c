import {
  type AccessClaims,
  type CreateTransferRequest,
  createEvent,
  type DomainEvent,
  subjectOf,
  type Transfer,
  type TransferAction,
} from '@inv/contracts';
import {
  createTestDatabase,
  eventually,
  fetchJson,
  type JsonReply,
  mintToken,
  readStoredEvents,
  type StoredEvent,
  startTestNats,
  TEST_JWT_SECRET,
  type TestDatabase,
  type TestNats,
  testLogger,
} from '@inv/testkit';
import { jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import {
  loadTransferConfig,
  type StartOptions,
  startTransferService,
  type TransferConfig,
  type TransferService,
} from '../src/index.js';

// biome-ignore lint/suspicious/noExplicitAny: tests inspect JSON bodies loosely
type Json = any;

/** A transfer, or the error body when the request was refused. */
export type TransferReply = Transfer & { code?: string; message?: string; field?: string; details?: Json };

export type Reply<T = Json> = JsonReply<T>;

export interface CallOptions {
  body?: unknown;
  headers?: Record<string, string>;
  /** Claims of the token to send; the client's default claims otherwise. */
  claims?: Partial<AccessClaims>;
  /** An explicit token, or null for none. */
  token?: string | null;
}

/** JSON over HTTP to a service, with a token minted from claims (all warehouses, manager by default). */
export class RestClient {
  constructor(
    private readonly baseUrl: () => string,
    private readonly defaultClaims: Partial<AccessClaims> = { roles: ['manager'], warehouses: ['*'] },
  ) {}

  async call<T = Json>(method: string, path: string, options: CallOptions = {}): Promise<Reply<T>> {
    const token =
      options.token !== undefined
        ? options.token
        : await mintToken({ ...this.defaultClaims, ...options.claims });
    return fetchJson<T>(`${this.baseUrl()}${path}`, { ...options, method, token });
  }
}

/** The transfer endpoints, for tests. */
export class TransferApi extends RestClient {
  create(body: Partial<CreateTransferRequest>, options: CallOptions = {}): Promise<Reply<TransferReply>> {
    return this.call('POST', '/api/transfers', { ...options, body });
  }

  get(transferId: string, options: CallOptions = {}): Promise<Reply<TransferReply>> {
    return this.call('GET', `/api/transfers/${transferId}`, options);
  }

  act(transferId: string, action: TransferAction, body: unknown = {}, options: CallOptions = {}) {
    return this.call<TransferReply>('POST', `/api/transfers/${transferId}/${action}`, { ...options, body });
  }

  /** Performs an action and insists it succeeds. */
  async must(transferId: string, action: TransferAction, body: unknown = {}): Promise<Transfer> {
    const reply = await this.act(transferId, action, body);
    if (reply.status !== 200) {
      throw new Error(`${action} answered ${reply.status}: ${JSON.stringify(reply.body)}`);
    }
    return reply.body;
  }

  /** Receives every line in full. */
  receiveAll(transfer: Transfer): Promise<Transfer> {
    return this.must(transfer.transferId, 'receive', {
      lines: transfer.lines.map((l) => ({ lineId: l.lineId, receivedQuantity: l.quantity })),
    });
  }

  /** Waits until the transfer satisfies `check` (for changes the saga makes on its own). */
  async until(
    transferId: string,
    check: (t: Transfer) => boolean,
    message = 'transfer state',
    timeoutMs = 20_000,
  ) {
    return eventually(
      async () => {
        const reply = await this.get(transferId);
        return reply.status === 200 && check(reply.body) ? reply.body : null;
      },
      { timeoutMs, message },
    );
  }
}

let counter = 0;
/** Ids no other test of the file uses. */
export function uniqueId(prefix: string): string {
  counter++;
  return `${prefix}-${Date.now().toString(36)}-${counter}`;
}

export function newTransferBody(
  lines: { productId: string; quantity: number; variantId?: string; uomId?: string }[],
  warehouses: { sourceWarehouseId?: string; destinationWarehouseId?: string } = {},
): CreateTransferRequest {
  return {
    sourceWarehouseId: warehouses.sourceWarehouseId ?? 'wh-src',
    destinationWarehouseId: warehouses.destinationWarehouseId ?? 'wh-dst',
    lines,
  };
}

export interface TransferFixture {
  nats: TestNats;
  db: TestDatabase;
  config: TransferConfig;
  service: TransferService;
  api: TransferApi;
  /** The test's own connection, to publish and read events as other services would. */
  nc: NatsConnection;
  /** Stops the service and starts a new one on the same database and NATS (a process restart). */
  restart(): Promise<void>;
  sql<T = Json>(query: string, params?: unknown[]): Promise<T[]>;
  /** Waits until the relay has published every event in the outbox. */
  outboxDrained(): Promise<void>;
  /** The transfer's events in the stream, in stream order, once the outbox is drained. */
  eventsOf(transferId: string): Promise<StoredEvent[]>;
  close(): Promise<void>;
}

/** Real NATS (the file's own server unless given), a fresh database and the service on a free port. */
export async function transferFixture(
  options: { nats?: TestNats; env?: Record<string, string>; start?: StartOptions } = {},
): Promise<TransferFixture> {
  const ownsNats = options.nats === undefined;
  const [nats, db] = await Promise.all([options.nats ?? startTestNats(), createTestDatabase('transfer')]);
  const config = loadTransferConfig({
    NATS_URL: nats.url,
    DATABASE_URL: db.url,
    JWT_SECRET: TEST_JWT_SECRET,
    PORT: '0',
    ...options.env,
  });
  const start = () => startTransferService(config, { logger: testLogger('transfer'), ...options.start });
  const nc = await connect({ servers: nats.url, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
  const fixture: TransferFixture = {
    nats,
    db,
    config,
    service: await start(),
    api: new TransferApi(() => fixture.service.url),
    nc,
    async restart() {
      await fixture.service.stop();
      fixture.service = await start();
    },
    sql: (query, params = []) => fixture.service.orm.em.fork().execute(query, params),
    async outboxDrained() {
      await eventually(
        async () => {
          const [row] = await fixture.sql('select count(*)::int as n from outbox where published_at is null');
          return row.n === 0;
        },
        { timeoutMs: 30_000, message: 'outbox to drain' },
      );
    },
    async eventsOf(transferId) {
      await fixture.outboxDrained();
      return readStoredEvents(nc, `transfer.${transferId}.>`);
    },
    async close() {
      await fixture.service.stop();
      await nc.close();
      await Promise.all([ownsNats ? nats.stop() : undefined, db.drop()]);
    },
  };
  return fixture;
}

/** Inventory's answer to an approval, as its relay would publish it; `copy` publishes a redelivered duplicate. */
export async function publishAnswer(nc: NatsConnection, event: DomainEvent, copy?: number): Promise<void> {
  await jetstream(nc).publish(subjectOf(event), JSON.stringify(event), {
    msgID: copy === undefined ? event.id : `${event.id}-copy-${copy}`,
  });
}

export function reservedAnswer(transfer: Transfer) {
  return createEvent(
    'inventory.reserved',
    {
      transferId: transfer.transferId,
      warehouseId: transfer.sourceWarehouseId,
      lines: transfer.lines.map((l) => ({
        lineId: l.lineId,
        inventoryId: `inv-${l.productId}`,
        productId: l.productId,
        variantId: l.variantId,
        uomId: l.uomId,
        quantity: l.quantity,
      })),
      timestamp: new Date().toISOString(),
    },
    { aggregate: { type: 'transfer', id: transfer.transferId, version: transfer.version } },
  );
}

export function failedAnswer(transfer: Transfer, available: number) {
  return createEvent(
    'inventory.reservation_failed',
    {
      transferId: transfer.transferId,
      warehouseId: transfer.sourceWarehouseId,
      reason: 'INSUFFICIENT_STOCK',
      shortages: transfer.lines.map((l) => ({
        lineId: l.lineId,
        productId: l.productId,
        variantId: l.variantId,
        uomId: l.uomId,
        requested: l.quantity,
        available,
      })),
      timestamp: new Date().toISOString(),
    },
    { aggregate: { type: 'transfer', id: transfer.transferId, version: transfer.version } },
  );
}
