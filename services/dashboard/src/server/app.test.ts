import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDashboardServer } from './app.js';
import { DashboardConfig } from './config.js';

describe('dashboard server logs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dashboard-public-'));
  const lines: string[] = [];
  let app: Awaited<ReturnType<typeof buildDashboardServer>>;

  beforeAll(async () => {
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>t</title>');
    const config = DashboardConfig.parse({ DASHBOARD_PUBLIC_DIR: dir });
    app = await buildDashboardServer(
      config,
      pino({ level: 'debug' }, { write: (l: string) => lines.push(l) }),
    );
    await app.ready();
  });
  afterAll(async () => {
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('never writes a ?token= query string into a log line', async () => {
    const secret = 'eyJhbGciOiJIUzI1NiJ9.secret-part.signature';
    const res = await app.inject({ url: `/index.html?token=${secret}` });
    expect(res.statusCode).toBe(200);
    const requestLine = lines.map((l) => JSON.parse(l)).find((l) => l.status === 200);
    expect(requestLine).toMatchObject({ url: '/index.html?token=[redacted]' });
    expect(lines.join('\n')).not.toContain(secret);
  });
});
