import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import httpProxy from '@fastify/http-proxy';
import fastifyStatic from '@fastify/static';
import { errorBody } from '@inv/contracts';
import { requestLogPlugin } from '@inv/platform';
import Fastify, { type FastifyBaseLogger, LogController } from 'fastify';
import { SignJWT } from 'jose';
import type { Logger } from 'pino';
import { z } from 'zod';
import { ActivitySimulator } from './activity.js';
import type { DashboardConfig } from './config.js';
import { type DemoSummary, loadDemo } from './demo.js';
import { RELEASE_ROLES, refuseReleaseByNonManager } from './release-gate.js';
import { RestError, restClient } from './rest-client.js';

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
    upstream: config.INVENTORY_URL,
    prefix: '/api/reservations',
    rewritePrefix: '/api/reservations',
    preHandler: (request, reply, done) => {
      const refusal = refuseReleaseByNonManager(request.method, request.url, request.headers.authorization);
      if (refusal) return void reply.code(403).send(refusal);
      done();
    },
  });
  await app.register(httpProxy, {
    upstream: config.TRANSFER_URL,
    prefix: '/api/transfers',
    rewritePrefix: '/api/transfers',
  });
  app.get('/config.json', async () => ({
    gatewayUrl: `${config.GATEWAY_URL.replace(/\/$/, '')}/ws`,
    demoLogin: config.DASHBOARD_DEMO_LOGIN,
    releaseRoles: RELEASE_ROLES,
  }));
  app.post('/session', async (_request, reply) => {
    if (!config.DASHBOARD_DEMO_LOGIN || !config.JWT_SECRET) {
      return reply.code(404).send(errorBody('NOT_FOUND', 'demo login is disabled'));
    }
    return { token: await demoToken(config), user: DEMO_USER };
  });
  // The sample loads through the public REST APIs with the demo manager's token: only where demo login is on.
  // One load at a time: a second click waits for the first instead of racing its check-then-create.
  const demoOn = Boolean(config.DASHBOARD_DEMO_LOGIN && config.JWT_SECRET);
  const rest = restClient(config, cachedDemoToken(config));
  let loading: Promise<DemoSummary> | null = null;
  app.post('/demo', async (request, reply) => {
    if (!demoOn) {
      return reply.code(404).send(errorBody('NOT_FOUND', 'demo data is only offered with the demo login'));
    }
    loading ??= loadDemo(rest).finally(() => {
      loading = null;
    });
    try {
      return await loading;
    } catch (error) {
      // A service that is down or refuses the sample: say so with a code (loading again resumes where it stopped).
      const refused = error instanceof RestError;
      request.log.warn({ err: error }, 'demo sample not loaded');
      return reply
        .code(refused ? 502 : 503)
        .send(
          errorBody(
            refused ? 'UPSTREAM_REFUSED' : 'SERVICE_UNAVAILABLE',
            refused ? error.message : 'the inventory or transfer service is not reachable; try again shortly',
          ),
        );
    }
  });
  const activity = new ActivitySimulator(rest, config.DASHBOARD_ACTIVITY_INTERVAL_MS, logger);
  app.addHook('onClose', () => activity.stop());
  if (demoOn && config.DASHBOARD_DEMO_ACTIVITY) activity.start();
  const activityState = () => ({
    running: activity.running,
    intervalMs: activity.intervalMs,
    steps: activity.steps,
  });
  app.get('/demo/activity', async (_request, reply) =>
    demoOn ? activityState() : reply.code(404).send(errorBody('NOT_FOUND', 'no demo activity here')),
  );
  app.post('/demo/activity', async (request, reply) => {
    if (!demoOn) return reply.code(404).send(errorBody('NOT_FOUND', 'no demo activity here'));
    const body = ActivitySwitch.safeParse(request.body);
    if (!body.success) {
      return reply
        .code(400)
        .send(errorBody('VALIDATION_FAILED', 'running must be true or false', { field: 'running' }));
    }
    if (body.data.running) activity.start();
    else await activity.stop();
    return activityState();
  });
  // Browsers ask for /favicon.ico whatever the page links; send them to the SVG icon instead of a 404.
  app.get('/favicon.ico', async (_request, reply) => reply.redirect('/favicon.svg', 301));
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async () => ({ status: 'ok' }));
  return app;
}

const ActivitySwitch = z.strictObject({ running: z.boolean() });

/** The demo manager's token for the server's own REST calls, signed again well before it expires. */
function cachedDemoToken(config: DashboardConfig): () => Promise<string> {
  let token: { value: Promise<string>; at: number } | null = null;
  return () => {
    if (!token || Date.now() - token.at > 3_600_000) token = { value: demoToken(config), at: Date.now() };
    return token.value;
  };
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
