import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import httpProxy from '@fastify/http-proxy';
import fastifyStatic from '@fastify/static';
import { errorBody } from '@inv/contracts';
import { requestLogPlugin } from '@inv/platform';
import Fastify, { type FastifyBaseLogger, LogController } from 'fastify';
import { SignJWT } from 'jose';
import type { Logger } from 'pino';
import type { DashboardConfig } from './config.js';
import { type DemoSummary, loadDemo } from './demo.js';

export const DEMO_USER = { sub: 'demo-manager', roles: ['manager'], warehouses: ['*'] } as const;

/** Built browser assets: `dist/public` next to the built server, or an explicit directory. */
function publicDir(config: DashboardConfig): string {
  return config.DASHBOARD_PUBLIC_DIR ?? resolve(import.meta.dirname, '../public');
}

/**
 * The dashboard's small server: static assets, `/config.json` (where the gateway is), the REST APIs of the
 * inventory and transfer services under one origin, and (opt-in) a demo login.
 */
export async function buildDashboardServer(config: DashboardConfig, logger: Logger) {
  // Fastify's own request lines log the raw URL at `info`; ours redact `?token=` and stay at `debug`.
  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
  });
  await app.register(requestLogPlugin, { slowRequestMs: config.SLOW_REQUEST_MS });
  const root = publicDir(config);
  if (!existsSync(resolve(root, 'index.html'))) {
    throw new Error(`dashboard assets not built in ${root}: run \`npm run build -w @inv/dashboard\``);
  }
  await app.register(fastifyStatic, { root, prefix: '/' });
  await app.register(httpProxy, {
    upstream: config.INVENTORY_URL,
    prefix: '/api/inventory',
    rewritePrefix: '/api/inventory',
  });
  for (const prefix of ['/api/warehouses', '/api/products']) {
    await app.register(httpProxy, { upstream: config.INVENTORY_URL, prefix, rewritePrefix: prefix });
  }
  await app.register(httpProxy, {
    upstream: config.TRANSFER_URL,
    prefix: '/api/transfers',
    rewritePrefix: '/api/transfers',
  });
  app.get('/config.json', async () => ({
    gatewayUrl: `${config.GATEWAY_URL.replace(/\/$/, '')}/ws`,
    demoLogin: config.DASHBOARD_DEMO_LOGIN,
  }));
  app.post('/session', async (_request, reply) => {
    if (!config.DASHBOARD_DEMO_LOGIN || !config.JWT_SECRET) {
      return reply.code(404).send(errorBody('NOT_FOUND', 'demo login is disabled'));
    }
    return { token: await demoToken(config), user: DEMO_USER };
  });
  // The sample loads through the public REST APIs with the demo manager's token: only where demo login is on.
  // One load at a time: a second click waits for the first instead of racing its check-then-create.
  let loading: Promise<DemoSummary> | null = null;
  app.post('/demo', async (_request, reply) => {
    if (!config.DASHBOARD_DEMO_LOGIN || !config.JWT_SECRET) {
      return reply.code(404).send(errorBody('NOT_FOUND', 'demo data is only offered with the demo login'));
    }
    loading ??= demoToken(config)
      .then((token) => loadDemo(restClient(config, token)))
      .finally(() => {
        loading = null;
      });
    return loading;
  });
  // Browsers ask for /favicon.ico whatever the page links; send them to the SVG icon instead of a 404.
  app.get('/favicon.ico', async (_request, reply) => reply.redirect('/favicon.svg', 301));
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async () => ({ status: 'ok' }));
  return app;
}

async function demoToken(config: DashboardConfig): Promise<string> {
  // The services require exp (at most 24 h after iat by default) and, when configured, iss and aud.
  const jwt = new SignJWT({ warehouses: [...DEMO_USER.warehouses], roles: [...DEMO_USER.roles] })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(DEMO_USER.sub)
    .setIssuedAt()
    .setExpirationTime('12h');
  if (config.JWT_ISSUER) jwt.setIssuer(config.JWT_ISSUER);
  if (config.JWT_AUDIENCE) jwt.setAudience(config.JWT_AUDIENCE);
  return jwt.sign(new TextEncoder().encode(config.JWT_SECRET ?? ''));
}

/** REST calls to the inventory and transfer services, as an outside client makes them. */
function restClient(config: DashboardConfig, token: string) {
  return {
    async call<T>(method: string, path: string, body?: unknown, idempotencyKey?: string): Promise<T> {
      const base = path.startsWith('/api/transfers') ? config.TRANSFER_URL : config.INVENTORY_URL;
      const headers: Record<string, string> = { authorization: `Bearer ${token}` };
      if (body !== undefined) headers['content-type'] = 'application/json';
      if (idempotencyKey) headers['idempotency-key'] = idempotencyKey;
      const response = await fetch(`${base}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const json = (await response.json()) as T;
      if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(json)}`);
      return json;
    },
  };
}
