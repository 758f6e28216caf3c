import { setTimeout as delay } from 'node:timers/promises';
import { mintToken, TEST_JWT_SECRET } from '@inv/testkit';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { redactUrl } from '../src/http/plugins/request-log.js';
import {
  type AppServer,
  createHttpServer,
  createMetricsRegistry,
  createTokenVerifier,
} from '../src/index.js';

/** A logger whose lines are kept in memory, at the given level. */
function capturingLogger(level: string) {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level }, { write: (line: string) => lines.push(JSON.parse(line)) });
  return { logger, lines, requestLines: () => lines.filter((l) => 'status' in l) };
}

async function serverLoggingTo(logger: pino.Logger): Promise<AppServer> {
  const app = await createHttpServer({
    logger,
    registry: createMetricsRegistry('test'),
    verifyToken: createTokenVerifier({ disabled: false, secret: TEST_JWT_SECRET }),
    readiness: {},
    docs: { title: 'test', description: 'test' },
    slowRequestMs: 40,
  });
  app.get('/fast', { config: { public: true } }, async () => ({ ok: true }));
  app.get('/slow', { config: { public: true } }, async () => {
    await delay(80); // the slow request under test
    return { ok: true };
  });
  app.get('/bug', { config: { public: true } }, async () => {
    throw new TypeError('undefined is not a function');
  });
  app.get('/private', async () => ({ ok: true }));
  await app.ready();
  return app;
}

describe('request logs', () => {
  let app: AppServer | undefined;
  afterEach(async () => app?.close());

  it('writes nothing for an ordinary request at the default info level', async () => {
    const { logger, requestLines } = capturingLogger('info');
    app = await serverLoggingTo(logger);
    expect((await app.inject({ url: '/fast' })).statusCode).toBe(200);
    expect((await app.inject({ url: '/private' })).statusCode).toBe(401);
    expect(requestLines()).toEqual([]);
  });

  it('logs a slow request and a 5xx at warn', async () => {
    const { logger, requestLines } = capturingLogger('info');
    app = await serverLoggingTo(logger);
    await app.inject({ url: '/slow' });
    await app.inject({ url: '/bug' });
    expect(requestLines()).toMatchObject([
      { level: 40, msg: 'slow request', url: '/slow', status: 200 },
      { level: 40, msg: 'request failed', url: '/bug', status: 500 },
    ]);
    expect(requestLines()[0]!.ms).toBeGreaterThan(40);
  });

  it('logs every request at debug, with credentials in the query redacted', async () => {
    const { logger, lines, requestLines } = capturingLogger('debug');
    app = await serverLoggingTo(logger);
    const token = await mintToken({ roles: ['viewer'] });
    await app.inject({ url: `/fast?token=${token}&cursor=7` });
    expect(requestLines()).toMatchObject([
      { level: 20, msg: 'request', url: '/fast?token=[redacted]&cursor=7', route: '/fast', status: 200 },
    ]);
    expect(JSON.stringify(lines)).not.toContain(token);
  });
});

describe('redactUrl', () => {
  it('redacts credential-like query parameters and keeps the rest', () => {
    expect(redactUrl('/ws?token=abc.def&since=3')).toBe('/ws?token=[redacted]&since=3');
    expect(redactUrl('/x?access_token=a&API_KEY=b&q=token')).toBe(
      '/x?access_token=[redacted]&API_KEY=[redacted]&q=token',
    );
    expect(redactUrl('/x?%74oken=a')).toBe('/x?%74oken=[redacted]');
    expect(redactUrl('/plain')).toBe('/plain');
  });
});
