import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { setup } from './setup.js';

/**
 * `npm start`: prepares NATS and PostgreSQL (starting a local nats-server when none answers and the binary is
 * installed), then runs every service and the dashboard, and stops them all on Ctrl-C.
 */
const ROOT = resolve(import.meta.dirname, '../..');
const DATA = join(ROOT, '.data');

const PORTS = {
  gateway: Number(process.env.GATEWAY_PORT ?? 3000),
  inventory: Number(process.env.INVENTORY_PORT ?? 3001),
  transfer: Number(process.env.TRANSFER_PORT ?? 3002),
  dashboard: Number(process.env.DASHBOARD_PORT ?? 8080),
  webhooks: Number(process.env.WEBHOOKS_PORT ?? 3003),
};
const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
const INVENTORY_DATABASE_URL =
  process.env.INVENTORY_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/inventory';
const TRANSFER_DATABASE_URL =
  process.env.TRANSFER_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/transfer';

const children: ChildProcess[] = [];
let stopping = false;

function reachable(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url.split(',')[0]!.replace(/^nats:/, 'http:'));
  return new Promise((done) => {
    const socket = createConnection({ host: hostname, port: Number(port || 4222) });
    socket.setTimeout(1_000, () => finish(false));
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
    function finish(ok: boolean) {
      socket.destroy();
      done(ok);
    }
  });
}

function run(name: string, command: string, args: string[], env: Record<string, string>): ChildProcess {
  const child = spawn(command, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream! }).on('line', (line) => process.stdout.write(`[${name}] ${line}\n`));
  }
  child.once('exit', (code, signal) => {
    if (stopping) return;
    console.error(`[${name}] exited (${signal ?? code}); stopping everything`);
    void stopAll(1);
  });
  children.push(child);
  return child;
}

async function ensureNats(): Promise<void> {
  if (await reachable(NATS_URL)) return;
  const binary = ['/usr/sbin/nats-server', '/usr/local/bin/nats-server', '/usr/bin/nats-server'].find(
    existsSync,
  );
  if (!binary) return; // setup() reports the outage with instructions
  mkdirSync(join(DATA, 'nats'), { recursive: true });
  const port = new URL(NATS_URL.replace(/^nats:/, 'http:')).port || '4222';
  console.log(`starting a local nats-server on port ${port} (store in .data/nats)`);
  run('nats', binary, ['-a', '127.0.0.1', '-p', port, '-js', '-sd', join(DATA, 'nats')], {});
  for (let i = 0; i < 50 && !(await reachable(NATS_URL)); i++) await new Promise((r) => setTimeout(r, 100));
}

function devSecret(): string {
  if (process.env.JWT_SECRET) return process.env.JWT_SECRET;
  const file = join(DATA, 'dev-jwt-secret');
  mkdirSync(DATA, { recursive: true });
  if (!existsSync(file)) writeFileSync(file, randomBytes(32).toString('hex'), { mode: 0o600 });
  return readFileSync(file, 'utf8').trim();
}

async function stopAll(code: number): Promise<never> {
  stopping = true;
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((done) => {
          if (child.exitCode !== null || child.signalCode !== null) return done();
          child.once('exit', () => done());
          child.kill('SIGTERM');
          setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
        }),
    ),
  );
  process.exit(code);
}

async function main(): Promise<void> {
  await ensureNats();
  await setup({ ...process.env, NATS_URL, INVENTORY_DATABASE_URL, TRANSFER_DATABASE_URL });
  const common = { NATS_URL, JWT_SECRET: devSecret(), LOG_LEVEL: process.env.LOG_LEVEL ?? 'info' };
  const node = process.execPath;
  run('inventory', node, ['services/inventory/dist/main.js'], {
    ...common,
    PORT: String(PORTS.inventory),
    DATABASE_URL: INVENTORY_DATABASE_URL,
  });
  run('transfer', node, ['services/transfer/dist/main.js'], {
    ...common,
    PORT: String(PORTS.transfer),
    DATABASE_URL: TRANSFER_DATABASE_URL,
  });
  run('gateway', node, ['services/gateway/dist/main.js'], { ...common, PORT: String(PORTS.gateway) });
  // The webhook bridge migrates its own database on start.
  run('webhooks', node, ['services/webhooks/dist/main.js'], {
    ...common,
    PORT: String(PORTS.webhooks),
    DATABASE_URL: process.env.WEBHOOKS_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/webhooks',
  });
  // `npm start -- --with-examples` (or START_EXAMPLES=true): the example consumers under examples/ too.
  if (process.argv.includes('--with-examples') || process.env.START_EXAMPLES === 'true') {
    run('example-reorder', node, ['examples/reorder/dist/main.js'], {
      ...common,
      DATABASE_URL: process.env.REORDER_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/reorder',
      INVENTORY_URL: `http://127.0.0.1:${PORTS.inventory}`,
      TRANSFER_URL: `http://127.0.0.1:${PORTS.transfer}`,
    });
  }
  run('dashboard', node, ['services/dashboard/dist/server/main.js'], {
    ...common,
    PORT: String(PORTS.dashboard),
    DASHBOARD_DEMO_LOGIN: 'true',
    // `npm start -- --activity`: the demo activity simulator runs from the start (the page can switch it).
    DASHBOARD_DEMO_ACTIVITY: process.argv.includes('--activity')
      ? 'true'
      : (process.env.DASHBOARD_DEMO_ACTIVITY ?? 'false'),
    INVENTORY_URL: `http://127.0.0.1:${PORTS.inventory}`,
    TRANSFER_URL: `http://127.0.0.1:${PORTS.transfer}`,
    GATEWAY_URL: `ws://127.0.0.1:${PORTS.gateway}`,
  });
  console.log(
    [
      '',
      `  Dashboard  http://127.0.0.1:${PORTS.dashboard}`,
      `  Gateway    ws://127.0.0.1:${PORTS.gateway}/ws  (and /ws/warehouses)`,
      `  Inventory  http://127.0.0.1:${PORTS.inventory}/docs`,
      `  Transfer   http://127.0.0.1:${PORTS.transfer}/docs`,
      `  Webhooks   http://127.0.0.1:${PORTS.webhooks}/docs  (events: /asyncapi)`,
      '  Ctrl-C stops everything.',
      '',
    ].join('\n'),
  );
  process.once('SIGINT', () => void stopAll(0));
  process.once('SIGTERM', () => void stopAll(0));
  if (process.argv.includes('--demo')) await loadSample();
}

/**
 * `npm start -- --demo`: the dashboard loads its sample through the REST APIs (a second run adds nothing). A
 * slow first start (a loaded machine) gets two minutes; a sample that cannot load is reported, and the
 * services keep running.
 */
async function loadSample(): Promise<void> {
  const url = `http://127.0.0.1:${PORTS.dashboard}`;
  // The sample goes through the inventory and transfer services: all three must answer, not the dashboard only.
  const ready = async () => {
    const answers = await Promise.all(
      [PORTS.dashboard, PORTS.inventory, PORTS.transfer].map((port) =>
        fetch(`http://127.0.0.1:${port}/readyz`).then(
          (r) => r.ok,
          () => false,
        ),
      ),
    );
    return answers.every(Boolean);
  };
  for (let i = 0; i < 600 && !(await ready()); i++) await new Promise((r) => setTimeout(r, 200));
  try {
    const response = await fetch(`${url}/demo`, { method: 'POST' });
    console.log(`  sample data: ${response.status} ${await response.text()}`);
  } catch (error) {
    console.error(
      `  sample data not loaded (${(error as Error).message}); the dashboard's button offers it too`,
    );
  }
}

main().catch((error: unknown) => {
  console.error(`start failed: ${(error as Error).message ?? error}`);
  void stopAll(1);
});
