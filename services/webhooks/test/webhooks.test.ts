import { EVENTS_STREAM } from '@inv/contracts';
import { ensureEventsStream } from '@inv/platform';
import {
  createTestDatabase,
  eventually,
  fetchJson,
  mintToken,
  readStoredEvents,
  startTestNats,
  TEST_JWT_SECRET,
  type TestDatabase,
  type TestNats,
  testLogger,
} from '@inv/testkit';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  loadWebhooksConfig,
  startWebhooksService,
  verifyWebhook,
  type WebhooksService,
} from '../src/index.js';
import { invctl, publishStockEvent, TestReceiver } from './support.js';

const SECRET = 'a-secret-of-at-least-16-chars';

describe('webhook bridge', () => {
  let nats: TestNats;
  let db: TestDatabase;
  let nc: NatsConnection;
  let service: WebhooksService;
  const receivers: TestReceiver[] = [];

  const config = () =>
    loadWebhooksConfig({
      NATS_URL: nats.url,
      DATABASE_URL: db.url,
      PORT: '0',
      JWT_SECRET: TEST_JWT_SECRET,
      WEBHOOK_ALLOW_PRIVATE: 'true',
      WEBHOOK_TIMEOUT_MS: '2000',
      WEBHOOK_RETRY_BASE_MS: '100',
      WEBHOOK_RETRY_MAX_DELAY_MS: '800',
      WEBHOOK_RETRY_FOR_MS: '1500',
      WEBHOOK_PAUSE_AFTER_DEAD_LETTERS: '2',
      WEBHOOK_SYNC_MS: '200',
    });

  async function api(method: string, path: string, body?: unknown, claims = {}) {
    const token = await mintToken({ roles: ['admin'], warehouses: ['*'], ...claims });
    return fetchJson<Record<string, unknown>>(`${service.url}${path}`, { method, body, token });
  }

  async function receiver(): Promise<TestReceiver> {
    const r = await new TestReceiver().start();
    receivers.push(r);
    return r;
  }

  async function register(url: string, eventTypes: string[], warehouses: string[]) {
    const reply = await api('POST', '/api/webhooks', { url, eventTypes, warehouses, secret: SECRET });
    expect(reply.status, JSON.stringify(reply.body)).toBe(201);
    return String(reply.body.endpointId);
  }

  beforeAll(async () => {
    nats = await startTestNats();
    db = await createTestDatabase('webhooks');
    service = await startWebhooksService(config(), { logger: testLogger() });
    nc = await connect({ servers: nats.url });
  });
  afterEach(async () => {
    for (const r of receivers.splice(0)) await r.stop();
  });
  afterAll(async () => {
    await service?.stop();
    await nc?.close();
    await db?.drop();
    await nats?.stop();
  });

  it('refuses to manage webhooks for a role other than admin', async () => {
    const body = { url: 'https://example.com/hook', eventTypes: ['inventory.low_stock'], warehouses: ['*'] };
    const reply = await api('POST', '/api/webhooks', { ...body, secret: SECRET }, { roles: ['manager'] });
    expect(reply.status).toBe(403);
    expect(reply.body.code).toBe('FORBIDDEN');
    expect((await api('GET', '/api/webhooks', undefined, { roles: ['manager'] })).status).toBe(403);
  });

  it('refuses a warehouse the admin cannot see', async () => {
    const reply = await api(
      'POST',
      '/api/webhooks',
      {
        url: 'https://example.com/hook',
        eventTypes: ['inventory.low_stock'],
        warehouses: ['W2'],
        secret: SECRET,
      },
      { warehouses: ['W1'] },
    );
    expect(reply.status).toBe(403);
    expect(reply.body.field).toBe('warehouses');
  });

  it('refuses a malformed registration with the field at fault', async () => {
    const reply = await api('POST', '/api/webhooks', {
      url: 'https://example.com/hook',
      eventTypes: ['no.such_type'],
      warehouses: ['*'],
      secret: SECRET,
    });
    expect(reply.status).toBe(400);
    expect(JSON.stringify(reply.body)).toContain('eventTypes');
  });

  it('delivers only subscribed types of visible warehouses, signed and in stream order, without the secret in listings', async () => {
    const r = await receiver();
    const endpointId = await register(r.url, ['inventory.low_stock'], ['W1']);
    const expected: string[] = [];
    for (let i = 0; i < 6; i++) {
      const mine = await publishStockEvent(nc, 'inventory.low_stock', 'W1');
      expected.push(mine.id);
      await publishStockEvent(nc, 'inventory.low_stock', 'W2');
      await publishStockEvent(nc, 'inventory.out_of_stock', 'W1');
    }
    await eventually(() => r.requests.length >= expected.length, { message: 'all deliveries' });
    expect(r.requests.map((q) => q.eventId)).toEqual(expected);
    expect(r.verified(SECRET)).toBe(true);
    const first = r.requests[0]!;
    expect(JSON.parse(first.body).data.warehouseId).toBe('W1');
    expect(verifyWebhook('another-secret-1234', first, first.body).ok).toBe(false);
    expect(verifyWebhook(SECRET, first, first.body.replace('W1', 'W2')).ok).toBe(false);
    const listed = await api('GET', `/api/webhooks/${endpointId}`);
    expect(listed.body).not.toHaveProperty('secret');
    await api('DELETE', `/api/webhooks/${endpointId}`);
  });

  it('retries with growing delays while the receiver is down, then delivers in order', async () => {
    const r = await receiver();
    const endpointId = await register(r.url, ['inventory.out_of_stock'], ['*']);
    let failing = true;
    r.respond = () => (failing ? 503 : 204);
    const a = await publishStockEvent(nc, 'inventory.out_of_stock', 'W1');
    const b = await publishStockEvent(nc, 'inventory.out_of_stock', 'W1');
    await eventually(() => r.requests.length >= 4, { message: 'four failed attempts' });
    failing = false;
    await eventually(() => r.uniqueIds().length === 2 && r.requests.at(-1)!.eventId === b.id);
    const attemptsOfA = r.requests.filter((q) => q.eventId === a.id);
    expect(attemptsOfA.length).toBeGreaterThanOrEqual(4);
    const gaps = attemptsOfA.slice(1).map((q, i) => q.at - attemptsOfA[i]!.at);
    expect(gaps[2]!).toBeGreaterThan(gaps[0]!);
    // b never overtook a: every attempt of a came before b's first.
    const firstB = r.requests.findIndex((q) => q.eventId === b.id);
    expect(r.requests.slice(firstB).some((q) => q.eventId === a.id)).toBe(false);
    await api('DELETE', `/api/webhooks/${endpointId}`);
  });

  it('sets an event aside after its retries run out, pauses a failing endpoint, and redrives on request', async () => {
    const r = await receiver();
    const endpointId = await register(r.url, ['inventory.low_stock'], ['W3']);
    r.respond = () => 500;
    const a = await publishStockEvent(nc, 'inventory.low_stock', 'W3');
    const b = await publishStockEvent(nc, 'inventory.low_stock', 'W3');
    const listed = await eventually(
      async () => {
        const reply = await api('GET', `/api/webhooks/${endpointId}/dead-letters`);
        const items = reply.body.items as Array<{ eventId: string; deadLetterId: string }>;
        return items.length === 2 ? items : null;
      },
      { timeoutMs: 15_000, message: 'two dead letters' },
    );
    expect(listed.map((d) => d.eventId)).toEqual([a.id, b.id]);
    const endpoint = await eventually(async () => {
      const reply = await api('GET', `/api/webhooks/${endpointId}`);
      return reply.body.state === 'paused' ? reply.body : null;
    });
    expect(endpoint.pausedReason).toContain('consecutive');

    // While paused, a new event waits in the endpoint's consumer.
    const c = await publishStockEvent(nc, 'inventory.low_stock', 'W3');
    r.respond = () => 204;
    const failedRedrive = await api('POST', `/api/webhooks/${endpointId}/dead-letters/999999/redrive`);
    expect(failedRedrive.status).toBe(404);
    for (const letter of listed) {
      const reply = await api(
        'POST',
        `/api/webhooks/${endpointId}/dead-letters/${letter.deadLetterId}/redrive`,
      );
      expect(reply.body).toEqual({ delivered: true });
    }
    expect((await api('GET', `/api/webhooks/${endpointId}/dead-letters`)).body.items).toEqual([]);
    expect((await api('POST', `/api/webhooks/${endpointId}/resume`)).body.state).toBe('active');
    await eventually(() => r.uniqueIds().includes(c.id), { message: 'the event published while paused' });
    expect(r.uniqueIds()).toEqual([a.id, b.id, c.id]);
    expect(r.verified(SECRET)).toBe(true);
    await api('DELETE', `/api/webhooks/${endpointId}`);
  });

  it('publishes webhooks.endpoint_paused once when a failing endpoint is paused and webhooks.endpoint_resumed when resumed', async () => {
    // An operations endpoint on every warehouse that subscribes to the bridge's own events.
    const ops = await receiver();
    const opsId = await register(ops.url, ['webhooks.endpoint_paused', 'webhooks.endpoint_resumed'], ['*']);
    const r = await receiver();
    const endpointId = await register(r.url, ['inventory.low_stock'], ['W6']);
    r.respond = () => 500;
    await publishStockEvent(nc, 'inventory.low_stock', 'W6');
    await publishStockEvent(nc, 'inventory.low_stock', 'W6');
    const paused = await eventually(
      async () => {
        const reply = await api('GET', `/api/webhooks/${endpointId}`);
        return reply.body.state === 'paused' ? reply.body : null;
      },
      { timeoutMs: 15_000, message: 'the endpoint paused' },
    );
    const subject = `webhooks.endpoint.${endpointId}.>`;
    const [pause] = await eventually(async () => {
      const stored = await readStoredEvents(nc, subject);
      return stored.length > 0 ? stored : null;
    });
    expect(pause!.subject).toBe(`webhooks.endpoint.${endpointId}.paused`);
    expect(pause!.msgId).toBe(pause!.event.id);
    expect(pause!.event).toMatchObject({
      type: 'webhooks.endpoint_paused',
      aggregate: { type: 'webhook_endpoint', id: endpointId, version: paused.version },
      data: {
        endpointId,
        reason: paused.pausedReason,
        failures: 2,
        version: paused.version,
        timestamp: paused.pausedAt,
      },
    });

    const resumed = await api('POST', `/api/webhooks/${endpointId}/resume`, undefined, { sub: 'admin-7' });
    expect(resumed.body).toMatchObject({
      state: 'active',
      pausedAt: null,
      version: Number(paused.version) + 1,
    });
    // A second resume is refused and publishes nothing.
    const again = await api('POST', `/api/webhooks/${endpointId}/resume`);
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('INVALID_TRANSITION');
    const stored = await eventually(async () => {
      const events = await readStoredEvents(nc, subject);
      return events.length >= 2 ? events : null;
    });
    // The outbox publishes one endpoint's events in order, so a repeat of the pause would sit before the resume.
    expect(stored.map((e) => e.event.type)).toEqual([
      'webhooks.endpoint_paused',
      'webhooks.endpoint_resumed',
    ]);
    expect(stored[1]!.event).toMatchObject({
      aggregate: { type: 'webhook_endpoint', id: endpointId, version: Number(paused.version) + 1 },
      data: { endpointId, actor: 'admin-7', pausedAt: paused.pausedAt },
    });

    // Both reached the operations endpoint as signed webhooks, once each by id.
    await eventually(() => ops.uniqueIds().length === 2, { message: 'both events at the ops endpoint' });
    expect(ops.uniqueIds()).toEqual(stored.map((e) => e.event.id));
    expect(ops.verified(SECRET)).toBe(true);
    await api('DELETE', `/api/webhooks/${endpointId}`);
    await api('DELETE', `/api/webhooks/${opsId}`);
  });

  it('counts an endpoint’s run of dead letters across a bridge restart, pauses it all the same, and a delivery ends a run', async () => {
    const r = await receiver();
    const endpointId = await register(r.url, ['inventory.low_stock'], ['W7']);
    const endpoint = async () => (await api('GET', `/api/webhooks/${endpointId}`)).body;
    r.respond = () => 500;
    await publishStockEvent(nc, 'inventory.low_stock', 'W7');
    await eventually(async () => (await endpoint()).consecutiveDeadLetters === 1, {
      timeoutMs: 15_000,
      message: 'the first dead letter counted',
    });
    await service.stop();
    service = await startWebhooksService(config(), { logger: testLogger() });
    await publishStockEvent(nc, 'inventory.low_stock', 'W7');
    const paused = await eventually(
      async () => {
        const body = await endpoint();
        return body.state === 'paused' ? body : null;
      },
      { timeoutMs: 15_000, message: 'the pause after the restart' },
    );
    expect(paused.consecutiveDeadLetters).toBe(2);
    const [pause] = await eventually(async () => {
      const stored = await readStoredEvents(nc, `webhooks.endpoint.${endpointId}.>`);
      return stored.length > 0 ? stored : null;
    });
    expect(pause!.event).toMatchObject({ type: 'webhooks.endpoint_paused', data: { failures: 2 } });

    // A resume starts a new run; one more dead letter, then a delivery, ends it.
    expect((await api('POST', `/api/webhooks/${endpointId}/resume`)).body.consecutiveDeadLetters).toBe(0);
    await publishStockEvent(nc, 'inventory.low_stock', 'W7');
    await eventually(async () => (await endpoint()).consecutiveDeadLetters === 1, {
      timeoutMs: 15_000,
      message: 'a dead letter after the resume',
    });
    r.respond = () => 204;
    const delivered = await publishStockEvent(nc, 'inventory.low_stock', 'W7');
    await eventually(() => r.uniqueIds().includes(delivered.id), { message: 'the delivery' });
    await eventually(async () => (await endpoint()).consecutiveDeadLetters === 0, {
      message: 'the run ended',
    });
    await api('DELETE', `/api/webhooks/${endpointId}`);
  });

  it('lets an operator list and redrive dead letters with invctl', async () => {
    const r = await receiver();
    const endpointId = await register(r.url, ['inventory.low_stock'], ['W5']);
    r.respond = () => 500;
    const a = await publishStockEvent(nc, 'inventory.low_stock', 'W5');
    const token = await mintToken({ roles: ['admin'], warehouses: ['*'] });
    const cli = (...argv: string[]) =>
      invctl(['webhooks', ...argv, '--webhooks-url', service.url, '--token', token]);
    const listed = await eventually(
      async () => {
        const result = await cli('dead-letters', endpointId);
        return result.stdout.includes(a.id) ? result : null;
      },
      { timeoutMs: 15_000, message: 'the dead letter in invctl' },
    );
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain('HTTP 500');
    expect((await cli('redrive', endpointId)).code).toBe(3);
    r.respond = () => 204;
    const redriven = await cli('redrive', endpointId);
    expect(redriven.code).toBe(0);
    expect(redriven.stdout).toContain('delivered');
    expect(r.requests.at(-1)!.eventId).toBe(a.id);
    expect((await cli('dead-letters', endpointId)).stdout).not.toContain(a.id);
    const refused = await invctl([
      'webhooks',
      'list',
      '--webhooks-url',
      service.url,
      '--token',
      await mintToken({ roles: ['viewer'] }),
    ]);
    expect(refused.code).toBe(2);
    await api('DELETE', `/api/webhooks/${endpointId}`);
  });

  it('serves an endpoint from every instance as the database says: registered, paused and resumed on one, delivered by the other when the first is gone', async () => {
    const second = await startWebhooksService(config(), { logger: testLogger() });
    try {
      const workersOf = async (instance: WebhooksService) => {
        const metrics = String((await fetchJson<string>(`${instance.url}/metrics`)).body);
        return Number(metrics.match(/^webhook_endpoint_workers(?:\{[^}]*\})? (\d+)$/m)?.[1]);
      };
      const r = await receiver();
      r.respond = () => 500;
      const endpointId = await register(r.url, ['inventory.low_stock'], ['W9']);
      await eventually(async () => (await workersOf(second)) === 1, {
        message: 'the other instance delivers for an endpoint registered on the first',
      });

      // Dead letters pause it, whichever instance hands them out; both stop.
      await publishStockEvent(nc, 'inventory.low_stock', 'W9');
      await publishStockEvent(nc, 'inventory.low_stock', 'W9');
      await eventually(
        async () => (await api('GET', `/api/webhooks/${endpointId}`)).body.state === 'paused',
        { timeoutMs: 15_000, message: 'paused after two dead letters' },
      );
      await eventually(async () => (await workersOf(service)) + (await workersOf(second)) === 0, {
        message: 'no instance delivers for a paused endpoint',
      });

      r.respond = () => 204;
      expect((await api('POST', `/api/webhooks/${endpointId}/resume`)).body.state).toBe('active');
      await eventually(async () => (await workersOf(second)) === 1, {
        message: 'the other instance serves the endpoint resumed on the first',
      });
      await service.stop();
      const afterFirstStopped = await publishStockEvent(nc, 'inventory.low_stock', 'W9');
      await eventually(() => r.uniqueIds().includes(afterFirstStopped.id), {
        message: 'the remaining instance delivers',
      });
    } finally {
      await second.stop();
      service = await startWebhooksService(config(), { logger: testLogger() });
    }
  });

  it('loses nothing across a bridge restart mid-delivery: every event reaches the receiver, by id exactly once', async () => {
    const r = await receiver();
    const endpointId = await register(r.url, ['inventory.low_stock'], ['W4']);
    r.respond = () => new Promise((resolve) => setTimeout(() => resolve(204), 20));
    const published: string[] = [];
    for (let i = 0; i < 40; i++)
      published.push((await publishStockEvent(nc, 'inventory.low_stock', 'W4')).id);
    await eventually(() => r.requests.length >= 10, { message: 'some deliveries before the restart' });
    await service.stop();
    const beforeRestart = r.uniqueIds().length;
    expect(beforeRestart).toBeLessThan(published.length);
    service = await startWebhooksService(config(), { logger: testLogger() });
    await eventually(() => r.uniqueIds().length === published.length, {
      timeoutMs: 30_000,
      message: 'every event after the restart',
    });
    expect(r.uniqueIds()).toEqual(published);
    const lagLine = new RegExp(`webhook_lag_events\\{endpoint="${endpointId}"[^}]*\\} (\\d+)`);
    const lag = await eventually(async () => {
      const metrics = String((await fetchJson<string>(`${service.url}/metrics`)).body);
      return metrics.match(lagLine)?.[1] === '0' ? metrics : null;
    });
    expect(lag).toMatch(new RegExp(`webhook_deliveries_total\\{endpoint="${endpointId}"[^}]*\\} \\d+`));
    await api('DELETE', `/api/webhooks/${endpointId}`);
  });

  it("hides a W2 admin's endpoint from a W1 admin: not listed, and 404 to read, its dead letters, resume, redrive and delete", async () => {
    const w2 = { warehouses: ['W2'], sub: 'admin-w2' };
    const w1 = { warehouses: ['W1'], sub: 'admin-w1' };
    const made = await api(
      'POST',
      '/api/webhooks',
      {
        url: 'https://w2-erp.example.com/hook',
        eventTypes: ['inventory.low_stock'],
        warehouses: ['W2'],
        secret: SECRET,
      },
      w2,
    );
    expect(made.status).toBe(201);
    const id = String(made.body.endpointId);
    const listed = (await api('GET', '/api/webhooks', undefined, w1)).body.items as { endpointId: string }[];
    expect(listed.map((e) => e.endpointId)).not.toContain(id);
    for (const [method, path] of [
      ['GET', `/api/webhooks/${id}`],
      ['GET', `/api/webhooks/${id}/dead-letters`],
      ['POST', `/api/webhooks/${id}/resume`],
      ['POST', `/api/webhooks/${id}/dead-letters/1/redrive`],
      ['DELETE', `/api/webhooks/${id}`],
    ] as const) {
      const refused = await api(method, path, undefined, w1);
      expect([method, path, refused.status, refused.body.code]).toEqual([method, path, 404, 'NOT_FOUND']);
    }
    expect((await api('GET', `/api/webhooks/${id}`, undefined, w2)).status).toBe(200);
    const owners = (await api('GET', '/api/webhooks', undefined, w2)).body.items as { endpointId: string }[];
    expect(owners.map((e) => e.endpointId)).toContain(id);
    expect((await api('DELETE', `/api/webhooks/${id}`, undefined, w2)).status).toBe(204);
  });

  it('refuses a secret or url with a control character with 400 naming the field (it was a 500 that logged the secret)', async () => {
    const body = {
      url: 'https://erp.example.com/hook',
      eventTypes: ['inventory.low_stock'],
      warehouses: ['*'],
    };
    const secret = await api('POST', '/api/webhooks', { ...body, secret: 'a-secret-with-a-nul\u0000-in-it' });
    expect([secret.status, secret.body.field]).toEqual([400, 'secret']);
    const url = await api('POST', '/api/webhooks', {
      ...body,
      url: 'https://erp.example.com/ho\u0000ok',
      secret: SECRET,
    });
    expect([url.status, url.body.field]).toEqual([400, 'url']);
  });

  // Last: the stream it deletes is every other test's too.
  it("delivers again from a stream made anew after the server lost its storage, from that stream's first event", async () => {
    const r = await receiver();
    const endpointId = await register(r.url, ['inventory.low_stock'], ['W7']);
    const first = await publishStockEvent(nc, 'inventory.low_stock', 'W7');
    await eventually(() => r.requests.length >= 1, { message: 'the delivery before the loss' });

    const jsm = await jetstreamManager(nc);
    await jsm.streams.delete(EVENTS_STREAM);
    // As a service's relay or consumer makes it on finding it gone; published at once, before the bridge's next pass.
    await ensureEventsStream(jsm);
    const after = await publishStockEvent(nc, 'inventory.low_stock', 'W7');
    await eventually(() => r.uniqueIds().length >= 2, { message: 'the delivery from the new stream' });
    expect(r.uniqueIds()).toEqual([first.id, after.id]);
    await api('DELETE', `/api/webhooks/${endpointId}`);
  });
});
