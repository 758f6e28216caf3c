import type { AccessClaims, AdjustRequest } from '@inv/contracts';
import {
  createTestDatabase,
  eventually,
  mintToken,
  startTestNats,
  TEST_JWT_SECRET,
  type TestDatabase,
  type TestNats,
  testLogger,
} from '@inv/testkit';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import {
  type InventoryConfig,
  type InventoryService,
  loadInventoryConfig,
  type StartOptions,
  startInventoryService,
} from '../src/index.js';

// biome-ignore lint/suspicious/noExplicitAny: tests inspect JSON bodies loosely
type Json = any;

export interface ApiResponse<T = Json> {
  status: number;
  body: T;
  headers: Headers;
}

export interface InventoryFixture {
  nats: TestNats;
  db: TestDatabase;
  service: InventoryService;
  config: InventoryConfig;
  /** Stops the service and starts a new one on the same database and NATS (a process restart). */
  restart(): Promise<void>;
  /** A connection of the test's own, to publish and read events as other services would. */
  nc: NatsConnection;
  token(claims?: Partial<AccessClaims>): Promise<string>;
  api<T = Json>(
    method: string,
    path: string,
    options?: {
      body?: unknown;
      headers?: Record<string, string>;
      claims?: Partial<AccessClaims>;
      token?: string | null;
    },
  ): Promise<ApiResponse<T>>;
  adjust(body: Partial<AdjustRequest>, headers?: Record<string, string>): Promise<ApiResponse>;
  /** Rows of a query on the service's database. */
  sql<T = Json>(query: string, params?: unknown[]): Promise<T[]>;
  /** Waits until the relay has published every event in the outbox. */
  outboxDrained(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** Real NATS (the file's own server), a fresh database and the service on a free port, with JWT auth. */
export async function inventoryFixture(
  env: Record<string, string> = {},
  options: StartOptions = {},
): Promise<InventoryFixture> {
  const [nats, db] = await Promise.all([startTestNats(), createTestDatabase('inventory')]);
  const config = loadInventoryConfig({
    NATS_URL: nats.url,
    DATABASE_URL: db.url,
    JWT_SECRET: TEST_JWT_SECRET,
    PORT: '0',
    BATCH_SCAN_INTERVAL_MS: '0',
    ...env,
  });
  const start = () => startInventoryService(config, { logger: testLogger('inventory'), ...options });
  const nc = await connect({ servers: nats.url, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
  const token = (claims: Partial<AccessClaims> = {}) =>
    mintToken({ roles: ['clerk'], warehouses: ['*'], ...claims });
  const defaultToken = await token();

  const fixture: InventoryFixture = {
    nats,
    db,
    service: await start(),
    config,
    async restart() {
      await fixture.service.stop();
      fixture.service = await start();
    },
    nc,
    token,
    async api(method, path, options = {}) {
      const bearer =
        options.token === undefined
          ? options.claims
            ? await token(options.claims)
            : defaultToken
          : options.token;
      const headers: Record<string, string> = { ...options.headers };
      if (bearer) headers.authorization = `Bearer ${bearer}`;
      if (options.body !== undefined) headers['content-type'] = 'application/json';
      const response = await fetch(`${fixture.service.url}${path}`, {
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
      });
      const text = await response.text();
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // Prometheus text or HTML: keep the text.
      }
      return { status: response.status, body, headers: response.headers } as ApiResponse;
    },
    adjust: (body, headers) => fixture.api('POST', '/api/inventory/adjust', { body, headers }),
    sql: (query, params = []) => fixture.service.orm.em.fork().execute(query, params),
    async outboxDrained(timeoutMs = 20_000) {
      await eventually(
        async () => {
          const [row] = await fixture.sql('select count(*)::int as n from outbox where published_at is null');
          return row.n === 0;
        },
        { timeoutMs, message: 'outbox to drain' },
      );
    },
    async close() {
      await fixture.service.stop();
      await nc.close();
      await Promise.all([nats.stop(), db.drop()]);
    },
  };
  return fixture;
}

let counter = 0;
/** A fresh stock key per test, so tests in one file never share a record. */
export function uniqueKey(prefix = 'p') {
  counter++;
  return {
    productId: `${prefix}-${Date.now().toString(36)}-${counter}`,
    warehouseId: 'wh-1',
  };
}

/** The ledger's sums per record next to the record's own quantities. */
export async function ledgerBalances(fixture: Pick<InventoryFixture, 'sql'>) {
  return fixture.sql<{
    inventory_id: string;
    quantity_available: number;
    quantity_reserved: number;
    version: number;
    ledger_available: number;
    ledger_reserved: number;
    ledger_rows: number;
    ledger_max_version: number;
  }>(
    `select r.inventory_id, r.quantity_available::int, r.quantity_reserved::int, r.version,
            coalesce(sum(m.quantity_change), 0)::int as ledger_available,
            coalesce(sum(m.reserved_change), 0)::int as ledger_reserved,
            count(m.*)::int as ledger_rows,
            coalesce(max(m.record_version), 0)::int as ledger_max_version
       from inventory_record r left join inventory_movement m on m.inventory_id = r.inventory_id
      group by r.inventory_id order by r.inventory_id`,
  );
}
