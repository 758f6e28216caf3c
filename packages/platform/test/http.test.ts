import { DomainError, errorBody } from '@inv/contracts';
import { mintToken, TEST_JWT_SECRET, testLogger } from '@inv/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  type AppServer,
  createHttpServer,
  createMetricsRegistry,
  createTokenVerifier,
} from '../src/index.js';

describe('HTTP server', () => {
  let app: AppServer;
  let ready = true;

  beforeAll(async () => {
    app = await createHttpServer({
      logger: testLogger(),
      registry: createMetricsRegistry('test'),
      verifyToken: createTokenVerifier({ disabled: false, secret: TEST_JWT_SECRET }),
      readiness: {
        db: async () => {
          if (!ready) throw new Error('database down');
        },
      },
      docs: { title: 'test', description: 'test' },
    });
    app.post(
      '/things',
      {
        config: { permission: 'inventory:adjust' },
        schema: {
          body: z.strictObject({
            quantity: z.int().min(1),
            lines: z.array(z.object({ id: z.string() })).optional(),
          }),
        },
      },
      async (request) => ({ got: request.body.quantity }),
    );
    app.get('/refuse', { config: { permission: 'inventory:read' } }, async () => {
      throw new DomainError('INSUFFICIENT_STOCK', 'only 2 left', { available: 2 }, 'quantity');
    });
    app.get('/db-down', { config: { public: true } }, async () => {
      throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    });
    app.get('/db-restarted', { config: { public: true } }, async () => {
      // What MikroORM throws for a query on a pooled connection that PostgreSQL closed by restarting.
      const cause = new Error('Client has encountered a connection error and is not queryable');
      throw Object.assign(new Error(`select 1 - ${cause.message}`), { name: 'DriverException', cause });
    });
    app.get('/db-restarted-mid-transaction', { config: { public: true } }, async () => {
      // What MikroORM throws for the next query of a transaction whose connection PostgreSQL closed.
      throw Object.assign(
        new Error('Transaction query already complete, run with DEBUG=knex:tx for more info'),
        { name: 'DriverException' },
      );
    });
    app.get('/db-frozen', { config: { public: true } }, async () => {
      // A statement running while PostgreSQL was frozen longer than statement_timeout is cancelled on resume.
      throw Object.assign(new Error('canceling statement due to statement timeout'), {
        name: 'DriverException',
        code: '57014',
      });
    });
    app.get('/db-connect-timeout', { config: { public: true } }, async () => {
      // What MikroORM throws when `pg` cannot open a connection in time (the server accepts no connection).
      throw Object.assign(new Error('timeout expired'), { name: 'DriverException' });
    });
    app.get('/bug', { config: { public: true } }, async () => {
      throw new TypeError('undefined is not a function');
    });
    await app.ready();
  });
  afterAll(async () => app?.close());

  const auth = async (roles: ('viewer' | 'clerk')[] = ['clerk']) => ({
    authorization: `Bearer ${await mintToken({ roles })}`,
  });

  it('accepts a valid request with a token that has the permission', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/things',
      headers: await auth(),
      payload: { quantity: 3 },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ got: 3 });
  });

  it('answers 400 VALIDATION_FAILED naming the field', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/things',
      headers: await auth(),
      payload: { quantity: -1 },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'VALIDATION_FAILED', field: 'quantity' });
  });

  it('names nested fields and unknown keys', async () => {
    const nested = await app.inject({
      method: 'POST',
      url: '/things',
      headers: await auth(),
      payload: { quantity: 1, lines: [{ id: 5 }] },
    });
    expect(nested.json()).toMatchObject({ code: 'VALIDATION_FAILED', field: 'lines.0.id' });
    const unknown = await app.inject({
      method: 'POST',
      url: '/things',
      headers: await auth(),
      payload: { quantity: 1, quantiy: 2 },
    });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().field).toBe('quantiy');
  });

  it('answers 400 INVALID_JSON for a body that is not JSON', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/things',
      headers: { ...(await auth()), 'content-type': 'application/json' },
      payload: '{"quantity": ',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('INVALID_JSON');
  });

  it('answers 413 and 415 for oversized and non-JSON bodies', async () => {
    const big = await app.inject({
      method: 'POST',
      url: '/things',
      headers: { ...(await auth()), 'content-type': 'application/json' },
      payload: JSON.stringify({ quantity: 1, pad: 'x'.repeat(70_000) }),
    });
    expect(big.statusCode).toBe(413);
    expect(big.json().code).toBe('PAYLOAD_TOO_LARGE');
    const xml = await app.inject({
      method: 'POST',
      url: '/things',
      headers: { ...(await auth()), 'content-type': 'application/xml' },
      payload: '<q>1</q>',
    });
    expect(xml.statusCode).toBe(415);
    expect(xml.json().code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  it('answers 401 without a token, with an expired one and with a wrongly signed one', async () => {
    const none = await app.inject({ method: 'POST', url: '/things', payload: { quantity: 1 } });
    expect(none.statusCode).toBe(401);
    expect(none.json()).toMatchObject({ code: 'UNAUTHORIZED', details: { reason: 'missing' } });
    const expired = await mintToken({}, { expiresIn: Math.floor(Date.now() / 1000) - 60 });
    const late = await app.inject({
      method: 'POST',
      url: '/things',
      headers: { authorization: `Bearer ${expired}` },
      payload: { quantity: 1 },
    });
    expect(late.json()).toMatchObject({ code: 'UNAUTHORIZED', details: { reason: 'expired' } });
    const forged = await mintToken({}, { secret: 'another-secret-that-is-long-enough-0123456789' });
    const bad = await app.inject({
      method: 'POST',
      url: '/things',
      headers: { authorization: `Bearer ${forged}` },
      payload: { quantity: 1 },
    });
    expect(bad.json()).toMatchObject({ code: 'UNAUTHORIZED', details: { reason: 'invalid' } });
  });

  it('answers 401 to a token without exp, saying that tokens must expire', async () => {
    const forever = await mintToken({}, { expiresIn: null });
    const res = await app.inject({
      method: 'POST',
      url: '/things',
      headers: { authorization: `Bearer ${forever}` },
      payload: { quantity: 1 },
    });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({
      code: 'UNAUTHORIZED',
      message: expect.stringMatching(/no expiry/),
      details: { reason: 'missing_expiry' },
    });
  });

  it('answers 403 FORBIDDEN when the role lacks the permission', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/things',
      headers: await auth(['viewer']),
      payload: { quantity: 1 },
    });
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({ code: 'FORBIDDEN', details: { permission: 'inventory:adjust' } });
  });

  it('maps a domain error by its code, keeping field and details', async () => {
    const res = await app.inject({ method: 'GET', url: '/refuse', headers: await auth(['viewer']) });
    expect(res.statusCode).toBe(409);
    expect(res.json()).toEqual(
      errorBody('INSUFFICIENT_STOCK', 'only 2 left', { field: 'quantity', details: { available: 2 } }),
    );
  });

  it('answers 503 with a code when the database is unreachable, and 500 only for bugs', async () => {
    const down = await app.inject({ method: 'GET', url: '/db-down' });
    expect(down.statusCode).toBe(503);
    expect(down.json().code).toBe('SERVICE_UNAVAILABLE');
    const restarted = await app.inject({ method: 'GET', url: '/db-restarted' });
    expect(restarted.statusCode).toBe(503);
    expect(restarted.json().code).toBe('SERVICE_UNAVAILABLE');
    const midTransaction = await app.inject({ method: 'GET', url: '/db-restarted-mid-transaction' });
    expect(midTransaction.statusCode).toBe(503);
    const frozen = await app.inject({ method: 'GET', url: '/db-frozen' });
    expect(frozen.statusCode).toBe(503);
    const connectTimeout = await app.inject({ method: 'GET', url: '/db-connect-timeout' });
    expect(connectTimeout.statusCode).toBe(503);
    const bug = await app.inject({ method: 'GET', url: '/bug' });
    expect(bug.statusCode).toBe(500);
    expect(bug.json()).toEqual(errorBody('INTERNAL_ERROR', 'Internal error'));
  });

  it('answers unknown routes with 404 NOT_FOUND', async () => {
    const res = await app.inject({ method: 'GET', url: '/nowhere' });
    expect(res.statusCode).toBe(404);
    expect(res.json().code).toBe('NOT_FOUND');
  });

  it('reports readiness from its checks and serves metrics and docs without a token', async () => {
    expect((await app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
    ready = false;
    const notReady = await app.inject({ method: 'GET', url: '/readyz' });
    expect(notReady.statusCode).toBe(503);
    expect(notReady.json()).toMatchObject({ status: 'unavailable', checks: { db: { ok: false } } });
    ready = true;
    const metrics = await app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toContain('http_request_duration_seconds');
    const docs = await app.inject({ method: 'GET', url: '/docs/json' });
    expect(docs.json().paths['/things']).toBeDefined();
  });
});
