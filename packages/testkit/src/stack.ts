import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import type { AccessClaims } from '@inv/contracts';
import { createTestDatabase, type TestDatabase } from './postgres.js';
import { ServiceProcess } from './service-process.js';
import { startTestNats, type TestNats } from './test-nats.js';
import { mintToken, TEST_JWT_SECRET } from './tokens.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const run = promisify(execFile);

export interface StackOptions {
  /** Gateway instances to run (clients can resume on any). */
  gateways?: number;
  dashboard?: boolean;
  /** Extra environment for every service. */
  env?: Record<string, string>;
  /**
   * NATS to use instead of a fresh server of the stack's own, e.g. a `NatsCluster`'s servers joined by commas;
   * the test owns it (the stack does not stop it).
   */
  natsUrl?: string;
  /** PostgreSQL server the stack creates its databases on, e.g. a `PostgresServer` the test restarts. */
  databaseServerUrl?: string;
}

export interface Stack {
  nats: TestNats;
  databases: { inventory: TestDatabase; transfer: TestDatabase };
  inventory: ServiceProcess;
  transfer: ServiceProcess;
  gateways: ServiceProcess[];
  dashboard: ServiceProcess | null;
  /** A token for the stack's services (all warehouses, manager unless claims say otherwise). */
  token(claims?: Partial<AccessClaims>): Promise<string>;
  gatewayUrl(index?: number, path?: string): string;
  stop(): Promise<void>;
}

/**
 * Load tests and soaks connect thousands of clients with one token from one address: the per-user and
 * per-address connection limits (meant for attackers, not for these) are lifted unless a test sets them.
 */
const LOAD_TEST_LIMITS = { WS_MAX_CONNECTIONS_PER_USER: '1000000', WS_MAX_CONNECTIONS_PER_IP: '1000000' };

/**
 * The whole system from its build, each service its own process: a test nats-server, two fresh databases, the
 * infra setup (stream, consumers, migrations), inventory, transfer, gateway(s) and optionally the dashboard.
 */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const nats: TestNats = options.natsUrl
    ? { url: options.natsUrl, server: null, stop: async () => undefined }
    : await startTestNats();
  const [inventoryDb, transferDb] = await Promise.all([
    createTestDatabase('inventory', options.databaseServerUrl),
    createTestDatabase('transfer', options.databaseServerUrl),
  ]);
  const common = { NATS_URL: nats.url, JWT_SECRET: TEST_JWT_SECRET, ...options.env };
  await run(process.execPath, [resolve(ROOT, 'infra/dist/setup.js')], {
    env: {
      ...process.env,
      ...common,
      INVENTORY_DATABASE_URL: inventoryDb.url,
      TRANSFER_DATABASE_URL: transferDb.url,
      LOG_LEVEL: 'warn',
    },
  });
  const [inventory, transfer] = await Promise.all([
    ServiceProcess.start({
      entry: 'services/inventory/dist/main.js',
      env: { ...common, DATABASE_URL: inventoryDb.url },
    }),
    ServiceProcess.start({
      entry: 'services/transfer/dist/main.js',
      env: { ...common, DATABASE_URL: transferDb.url },
    }),
  ]);
  const gateways = await Promise.all(
    Array.from({ length: options.gateways ?? 1 }, () =>
      ServiceProcess.start({
        entry: 'services/gateway/dist/main.js',
        env: { ...LOAD_TEST_LIMITS, ...common },
      }),
    ),
  );
  const dashboard = options.dashboard
    ? await ServiceProcess.start({
        entry: 'services/dashboard/dist/server/main.js',
        env: {
          ...common,
          INVENTORY_URL: inventory.url,
          TRANSFER_URL: transfer.url,
          GATEWAY_URL: `ws://127.0.0.1:${gateways[0]!.port}`,
          DASHBOARD_DEMO_LOGIN: 'true',
        },
      })
    : null;
  return {
    nats,
    databases: { inventory: inventoryDb, transfer: transferDb },
    inventory,
    transfer,
    gateways,
    dashboard,
    token: (claims = {}) => mintToken({ roles: ['manager'], warehouses: ['*'], ...claims }),
    gatewayUrl: (index = 0, path = '/ws') => `ws://127.0.0.1:${gateways[index]!.port}${path}`,
    async stop() {
      await Promise.all([
        dashboard?.stop(),
        ...gateways.map((g) => g.stop()),
        inventory.stop(),
        transfer.stop(),
      ]);
      await Promise.all([nats.stop(), inventoryDb.drop(), transferDb.drop()]);
    },
  };
}
