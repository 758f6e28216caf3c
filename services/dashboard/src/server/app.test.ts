import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
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

describe('dashboard server: reservation release and demo controls, with the services unreachable', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dashboard-public-'));
  let app: Awaited<ReturnType<typeof buildDashboardServer>>;
  const secret = 'a-test-secret-of-at-least-32-characters';
  const tokenWith = (roles: string[]) =>
    new SignJWT({ roles, warehouses: ['*'] })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('someone')
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(secret));
  const release = async (roles: string[] | null, action: 'release' | 'commit' = 'release') =>
    app.inject({
      method: 'POST',
      url: `/api/reservations/res-1/${action}`,
      headers: roles ? { authorization: `Bearer ${await tokenWith(roles)}` } : {},
      payload: { reason: 'test' },
    });

  beforeAll(async () => {
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>t</title>');
    // Nothing listens on the services' URLs: a request the gate lets through fails upstream, not with a 403.
    const config = DashboardConfig.parse({
      DASHBOARD_PUBLIC_DIR: dir,
      INVENTORY_URL: 'http://127.0.0.1:9',
      TRANSFER_URL: 'http://127.0.0.1:9',
      JWT_SECRET: secret,
      DASHBOARD_DEMO_LOGIN: 'true',
    });
    app = await buildDashboardServer(config, pino({ level: 'silent' }));
    await app.ready();
  });
  afterAll(async () => {
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a release by a clerk or a viewer itself, with the roles that may', async () => {
    for (const roles of [['clerk'], ['viewer'], []]) {
      const res = await release(roles);
      expect(res.statusCode, roles.join()).toBe(403);
      expect(res.json()).toMatchObject({
        code: 'FORBIDDEN',
        details: { requiredRoles: ['manager', 'admin'] },
      });
    }
  });

  it("refuses a clerk's release or commit however the path is spelt: the service's router decodes it", async () => {
    const clerk = { authorization: `Bearer ${await tokenWith(['clerk'])}` };
    for (const url of [
      '/api/reservations/res-1/%72elease',
      '/api/reservations/res-1/%63ommit',
      '/api/reservations/res-1/release/',
      '/api/reservations/res%2D1/release?x=1',
    ]) {
      const res = await app.inject({ method: 'POST', url, headers: clerk, payload: {} });
      expect([url, res.statusCode]).toEqual([url, 403]);
    }
    // A path that does not decode never reaches the services either.
    const undecodable = '/api/reservations/res-1/%E0%A4%A';
    const res = await app.inject({ method: 'POST', url: undecodable, headers: clerk, payload: {} });
    expect(res.statusCode).toBe(400);
  });

  it('refuses a commit by a clerk too: a partial commit gives back to sale what it does not name', async () => {
    const res = await release(['clerk'], 'commit');
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({ code: 'FORBIDDEN', details: { requiredRoles: ['manager', 'admin'] } });
  });

  it("passes a manager's release, and one without a token, on to the inventory service", async () => {
    // Nothing listens upstream: the request reaching it fails to connect (or answers 5xx), never 403.
    const reachesUpstream = (roles: string[] | null) =>
      release(roles).then(
        (res) => res.statusCode >= 500,
        (error: NodeJS.ErrnoException) => error.code === 'ECONNREFUSED',
      );
    expect(await reachesUpstream(['manager'])).toBe(true);
    expect(await reachesUpstream(['clerk', 'admin'])).toBe(true);
    expect(await reachesUpstream(null)).toBe(true);
  });

  it('lets a clerk read reservations through the proxy: only release and commit are gated', async () => {
    const res = await app.inject({
      url: '/api/reservations/res-1',
      headers: { authorization: `Bearer ${await tokenWith(['clerk'])}` },
    });
    expect(res.statusCode).toBeGreaterThanOrEqual(500);
  });

  it('starts with the activity simulator off and refuses a switch that is not true or false', async () => {
    expect((await app.inject({ url: '/demo/activity' })).json()).toMatchObject({ running: false, steps: 0 });
    const bad = await app.inject({ method: 'POST', url: '/demo/activity', payload: { running: 'yes' } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ code: 'VALIDATION_FAILED', field: 'running' });
  });

  it('answers 503 SERVICE_UNAVAILABLE, not 500, when the inventory service cannot be reached', async () => {
    const res = await app.inject({ method: 'POST', url: '/demo' });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
  });
});
