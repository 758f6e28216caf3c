import { request } from 'node:http';
import { resolve } from 'node:path';
import {
  createTestDatabase,
  eventually,
  freePort,
  mintToken,
  type Spawned,
  spawnServer,
  startTestNats,
  TEST_JWT_SECRET,
  type TestDatabase,
  type TestNats,
} from '@inv/testkit';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadInventoryConfig } from '../src/config.js';

const MAIN = resolve(import.meta.dirname, '../dist/main.js');

/** One request on a connection of its own, so the primary hands it to the next worker in turn. */
function send(port: number, method: string, path: string, token: string, body?: unknown) {
  return new Promise<{ status: number; body: string }>((done, fail) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        agent: false,
        headers: {
          authorization: `Bearer ${token}`,
          ...(payload ? { 'content-type': 'application/json' } : {}),
        },
      },
      (res) => {
        let text = '';
        res.on('data', (chunk) => {
          text += chunk;
        });
        res.on('end', () => done({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', fail);
    req.end(payload);
  });
}

/** The JSON log lines of the service's output. */
function logLines(output: string): Record<string, unknown>[] {
  return output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line));
}

describe('INVENTORY_WORKERS', () => {
  it('is validated at start-up', () => {
    expect(loadInventoryConfig({ AUTH_DISABLED: 'true' }).INVENTORY_WORKERS).toBe(1);
    expect(loadInventoryConfig({ AUTH_DISABLED: 'true', INVENTORY_WORKERS: '2' }).INVENTORY_WORKERS).toBe(2);
    for (const bad of ['0', 'two', '1.5'])
      expect(() => loadInventoryConfig({ AUTH_DISABLED: 'true', INVENTORY_WORKERS: bad })).toThrow(
        /INVENTORY_WORKERS/,
      );
  });
});

describe('inventory as two worker processes', () => {
  let nats: TestNats;
  let db: TestDatabase;
  let service: Spawned;
  let port: number;
  let token: string;

  beforeAll(async () => {
    [nats, db, port, token] = await Promise.all([
      startTestNats(),
      createTestDatabase('workers'),
      freePort(),
      mintToken({ roles: ['manager'] }),
    ]);
    service = spawnServer(process.execPath, [MAIN], {
      env: {
        ...process.env,
        INVENTORY_WORKERS: '2',
        PORT: String(port),
        HOST: '127.0.0.1',
        DATABASE_URL: db.url,
        NATS_URL: nats.url,
        JWT_SECRET: TEST_JWT_SECRET,
        LOG_LEVEL: 'debug',
      },
    });
    await eventually(
      () => logLines(service.output()).filter((l) => l.msg === 'worker listening').length === 2,
      { timeoutMs: 60_000, message: `two workers listening: ${service.output().slice(-2000)}` },
    );
  });
  afterAll(async () => {
    if (service?.child.exitCode === null) service.child.kill('SIGKILL');
    await db?.drop();
    await nats?.stop();
  });

  it('serves requests from both processes, one relay publishing, replaces a crashed worker and stops cleanly on SIGTERM', async () => {
    const record = { productId: 'workers-p', warehouseId: 'w-1', movementType: 'in', quantity: 1 };
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++)
      statuses.push((await send(port, 'POST', '/api/inventory/adjust', token, record)).status);
    expect(statuses.every((s) => s === 200)).toBe(true);

    const served = logLines(service.output()).filter((l) => l.msg === 'request' && l.route);
    const pids = new Set(served.map((l) => l.pid));
    expect(pids.size).toBe(2);
    expect(pids.has(service.child.pid)).toBe(false);

    const sql = new pg.Client({ connectionString: db.url });
    await sql.connect();
    try {
      const stock = await sql.query('select quantity_available, version from inventory_record');
      expect(stock.rows).toEqual([{ quantity_available: '20', version: 20 }]);
      await eventually(
        async () =>
          (await sql.query('select count(*)::int as n from outbox where published_at is null')).rows[0].n ===
          0,
        { message: 'every event published' },
      );
    } finally {
      await sql.end();
    }
    const leaders = logLines(service.output()).filter((l) => l.msg === 'outbox relay is the leader');
    expect(leaders).toHaveLength(1);

    // A worker that crashes is replaced, and the service keeps answering meanwhile.
    process.kill(Number([...pids][0]), 'SIGKILL');
    await eventually(
      () => logLines(service.output()).filter((l) => l.msg === 'worker listening').length === 3,
      { timeoutMs: 60_000, message: 'a replacement worker' },
    );
    expect((await send(port, 'POST', '/api/inventory/adjust', token, record)).status).toBe(200);

    const exited = new Promise<number | null>((done) => service.child.once('exit', (code) => done(code)));
    service.child.kill('SIGTERM');
    expect(await exited).toBe(0);
    const lines = logLines(service.output());
    expect(lines.filter((l) => l.msg === 'stopped' && l.worker !== undefined)).toHaveLength(2);
    expect(lines.some((l) => l.msg === 'all workers stopped')).toBe(true);
  });
});
