import type { Transfer } from '@inv/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newTransferBody, type TransferFixture, transferFixture, uniqueId } from './support.js';

describe('transfer REST API', () => {
  let f: TransferFixture;
  beforeAll(async () => {
    f = await transferFixture();
  });
  afterAll(async () => f?.close());

  const create = async (warehouses?: Parameters<typeof newTransferBody>[1]) => {
    const reply = await f.api.create(
      newTransferBody([{ productId: uniqueId('p'), quantity: 5 }], warehouses),
    );
    expect(reply.status).toBe(201);
    return reply.body;
  };

  it('creates a requested transfer with numbered lines, a history entry, an ETag and its Location', async () => {
    const body = {
      sourceWarehouseId: 'wh-a',
      destinationWarehouseId: 'wh-b',
      lines: [
        { productId: 'p-1', quantity: 3 },
        { productId: 'p-2', variantId: 'red', uomId: 'box', quantity: 7 },
      ],
      note: 'restock the shop',
    };
    const reply = await f.api.create(body, { claims: { sub: 'clerk-7', roles: ['clerk'] } });
    expect(reply.status).toBe(201);
    const transfer = reply.body;
    expect(transfer).toMatchObject({
      sourceWarehouseId: 'wh-a',
      destinationWarehouseId: 'wh-b',
      status: 'requested',
      reservationStatus: 'none',
      version: 1,
      note: 'restock the shop',
      rejectionReason: null,
      hasDiscrepancy: false,
      createdBy: 'clerk-7',
    });
    expect(transfer.lines).toEqual([
      {
        lineId: 'line-1',
        productId: 'p-1',
        variantId: null,
        uomId: null,
        quantity: 3,
        shippedQuantity: null,
        receivedQuantity: null,
        discrepancy: null,
      },
      {
        lineId: 'line-2',
        productId: 'p-2',
        variantId: 'red',
        uomId: 'box',
        quantity: 7,
        shippedQuantity: null,
        receivedQuantity: null,
        discrepancy: null,
      },
    ]);
    expect(transfer.history).toEqual([
      { from: null, to: 'requested', actor: 'clerk-7', reason: null, at: transfer.createdAt },
    ]);
    expect(reply.headers.get('etag')).toBe('"1"');
    expect(reply.headers.get('location')).toBe(`/api/transfers/${transfer.transferId}`);

    const read = await f.api.get(transfer.transferId);
    expect(read.status).toBe(200);
    expect(read.body).toEqual(transfer);
    expect(read.headers.get('etag')).toBe('"1"');
  });

  const invalid: [string, unknown, string][] = [
    [
      'the same warehouse at both ends',
      newTransferBody([{ productId: 'p', quantity: 1 }], { destinationWarehouseId: 'wh-src' }),
      'destinationWarehouseId',
    ],
    ['no lines', { ...newTransferBody([]) }, 'lines'],
    [
      '101 lines',
      newTransferBody(Array.from({ length: 101 }, (_, i) => ({ productId: `p${i}`, quantity: 1 }))),
      'lines',
    ],
    ['a zero quantity', newTransferBody([{ productId: 'p', quantity: 0 }]), 'lines.0.quantity'],
    [
      'an id that cannot go into a subject',
      newTransferBody([{ productId: 'p.x', quantity: 1 }]),
      'lines.0.productId',
    ],
    [
      'an unknown field',
      { ...newTransferBody([{ productId: 'p', quantity: 1 }]), priority: 'high' },
      'priority',
    ],
  ];
  for (const [what, body, field] of invalid) {
    it(`refuses ${what} with 400 naming ${field}`, async () => {
      const reply = await f.api.call('POST', '/api/transfers', { body });
      expect(reply.status).toBe(400);
      expect(reply.body).toMatchObject({ code: 'VALIDATION_FAILED', field });
    });
  }

  it('answers 404 for an unknown transfer and 400 for an id that is no id', async () => {
    expect((await f.api.get('nope-123')).body).toMatchObject({ code: 'NOT_FOUND' });
    expect((await f.api.get('nope-123')).status).toBe(404);
    const bad = await f.api.get('a.b');
    expect(bad.status).toBe(400);
    expect(bad.body.field).toBe('transferId');
  });

  describe('auth and claims', () => {
    it('needs a token', async () => {
      const reply = await f.api.call('GET', '/api/transfers', { token: null });
      expect(reply.status).toBe(401);
      expect(reply.body.code).toBe('UNAUTHORIZED');
    });

    it('lets a viewer read but not request, and a clerk handle but not decide', async () => {
      const transfer = await create();
      const viewer = { claims: { roles: ['viewer' as const] } };
      expect((await f.api.get(transfer.transferId, viewer)).status).toBe(200);
      const refused = await f.api.create(newTransferBody([{ productId: 'p', quantity: 1 }]), viewer);
      expect(refused.status).toBe(403);
      expect(refused.body.details).toEqual({ permission: 'transfer:request' });
      const clerk = { claims: { roles: ['clerk' as const] } };
      const approve = await f.api.act(transfer.transferId, 'approve', {}, clerk);
      expect(approve.status).toBe(403);
      expect(approve.body.details).toEqual({ permission: 'transfer:decide' });
      const cancel = await f.api.act(transfer.transferId, 'cancel', { reason: 'not needed' }, clerk);
      expect(cancel.status).toBe(200);
    });

    it('lets a caller of either warehouse see and handle a transfer, and no one else', async () => {
      const transfer = await create({ sourceWarehouseId: 'wh-x1', destinationWarehouseId: 'wh-x2' });
      for (const warehouse of ['wh-x1', 'wh-x2']) {
        expect((await f.api.get(transfer.transferId, { claims: { warehouses: [warehouse] } })).status).toBe(
          200,
        );
      }
      const outsider = { claims: { warehouses: ['wh-other'] } };
      const read = await f.api.get(transfer.transferId, outsider);
      expect(read.status).toBe(403);
      expect(read.body.code).toBe('FORBIDDEN');
      expect((await f.api.act(transfer.transferId, 'approve', {}, outsider)).status).toBe(403);
      const created = await f.api.create(
        newTransferBody([{ productId: 'p', quantity: 1 }], {
          sourceWarehouseId: 'wh-x1',
          destinationWarehouseId: 'wh-x2',
        }),
        outsider,
      );
      expect(created.status).toBe(403);
      expect((await f.api.get(transfer.transferId)).body.status).toBe('requested');
    });
  });

  describe('listing', () => {
    it('pages newest first, filtered by warehouse (either end), status and the claims', async () => {
      const a = uniqueId('wa');
      const b = uniqueId('wb');
      const c = uniqueId('wc');
      const ab1 = await create({ sourceWarehouseId: a, destinationWarehouseId: b });
      const ba = await create({ sourceWarehouseId: b, destinationWarehouseId: a });
      const ab2 = await create({ sourceWarehouseId: a, destinationWarehouseId: b });
      const bc = await create({ sourceWarehouseId: b, destinationWarehouseId: c });
      await f.api.must(ba.transferId, 'approve');

      const ids = (page: { items: Transfer[] }) => page.items.map((t) => t.transferId);
      const first = await f.api.call('GET', `/api/transfers?warehouseId=${a}&limit=2`);
      expect(first.status).toBe(200);
      expect(ids(first.body)).toEqual([ab2.transferId, ba.transferId]);
      expect(first.body.page.nextCursor).toEqual(expect.any(String));
      const second = await f.api.call(
        'GET',
        `/api/transfers?warehouseId=${a}&limit=2&after=${first.body.page.nextCursor}`,
      );
      expect(ids(second.body)).toEqual([ab1.transferId]);
      expect(second.body.page.nextCursor).toBeNull();

      const approved = await f.api.call('GET', `/api/transfers?warehouseId=${b}&status=approved`);
      expect(ids(approved.body)).toEqual([ba.transferId]);

      const onlyC = await f.api.call('GET', '/api/transfers?limit=200', { claims: { warehouses: [c] } });
      expect(ids(onlyC.body)).toEqual([bc.transferId]);
      const forbidden = await f.api.call('GET', `/api/transfers?warehouseId=${a}`, {
        claims: { warehouses: [c] },
      });
      expect(forbidden.status).toBe(403);
    });

    it('refuses a bad cursor, status or limit naming the parameter', async () => {
      for (const [query, field] of [
        ['after=not-a-cursor', 'after'],
        ['status=lost', 'status'],
        ['limit=0', 'limit'],
      ]) {
        const reply = await f.api.call('GET', `/api/transfers?${query}`);
        expect(reply.status).toBe(400);
        expect(reply.body.field).toBe(field);
      }
    });
  });

  describe('idempotency and optimistic locking', () => {
    it('replays the first response for a repeated Idempotency-Key and refuses the key for another body', async () => {
      const key = { headers: { 'idempotency-key': uniqueId('key') } };
      const body = newTransferBody([{ productId: uniqueId('p'), quantity: 2 }]);
      const first = await f.api.create(body, key);
      const again = await f.api.create(body, key);
      expect(first.status).toBe(201);
      expect(again.status).toBe(201);
      expect(again.headers.get('idempotent-replayed')).toBe('true');
      expect(again.body).toEqual(first.body);
      const [{ n }] = await f.sql('select count(*)::int as n from transfer where transfer_id = ?', [
        first.body.transferId,
      ]);
      expect(n).toBe(1);
      const other = await f.api.create({ ...body, note: 'different' }, key);
      expect(other.status).toBe(422);
      expect(other.body.code).toBe('IDEMPOTENCY_KEY_REUSED');
    });

    it('applies a transition once for a repeated Idempotency-Key', async () => {
      const transfer = await create();
      const key = { headers: { 'idempotency-key': uniqueId('key') } };
      const first = await f.api.act(transfer.transferId, 'cancel', { reason: 'dup' }, key);
      const again = await f.api.act(transfer.transferId, 'cancel', { reason: 'dup' }, key);
      expect([first.status, again.status]).toEqual([200, 200]);
      expect(again.headers.get('idempotent-replayed')).toBe('true');
      expect(again.body.version).toBe(2);
      expect((await f.api.get(transfer.transferId)).body.history).toHaveLength(2);
    });

    it('refuses a stale If-Match or expectedVersion with 409 STALE_VERSION and the current transfer', async () => {
      const transfer = await create();
      const approved = await f.api.act(
        transfer.transferId,
        'approve',
        {},
        { headers: { 'if-match': '"1"' } },
      );
      expect(approved.status).toBe(200);
      expect(approved.headers.get('etag')).toBe('"2"');
      const stale = await f.api.act(
        transfer.transferId,
        'cancel',
        { reason: 'late' },
        { headers: { 'if-match': '"1"' } },
      );
      expect(stale.status).toBe(409);
      expect(stale.body).toMatchObject({
        code: 'OPTIMISTIC_LOCK_FAILURE',
        details: {
          reason: 'STALE_VERSION',
          expectedVersion: 1,
          currentVersion: 2,
          current: { status: 'approved' },
        },
      });
      const staleBody = await f.api.act(transfer.transferId, 'cancel', {
        reason: 'late',
        expectedVersion: 1,
      });
      expect(staleBody.status).toBe(409);
      const fresh = await f.api.act(transfer.transferId, 'cancel', { reason: 'on time', expectedVersion: 2 });
      expect(fresh.status).toBe(200);
      const bad = await f.api.act(
        transfer.transferId,
        'cancel',
        { reason: 'x' },
        { headers: { 'if-match': 'soon' } },
      );
      expect(bad.status).toBe(400);
      expect(bad.body.field).toBe('If-Match');
    });

    it('lets exactly one of two concurrent approvals through; the other sees the new state', async () => {
      const transfer = await create();
      const replies = await Promise.all([
        f.api.act(transfer.transferId, 'approve'),
        f.api.act(transfer.transferId, 'approve'),
      ]);
      expect(replies.map((r) => r.status).sort()).toEqual([200, 409]);
      const refused = replies.find((r) => r.status === 409)!;
      expect(refused.body).toMatchObject({
        code: 'INVALID_TRANSITION',
        details: { currentStatus: 'approved' },
      });
      const read = (await f.api.get(transfer.transferId)).body;
      expect(read.version).toBe(2);
      expect(read.history.map((h) => h.to)).toEqual(['requested', 'approved']);
    });
  });

  describe('operations', () => {
    it('serves /healthz, /readyz, /metrics and the OpenAPI document without a token', async () => {
      expect((await f.api.call('GET', '/healthz', { token: null })).status).toBe(200);
      const ready = await f.api.call('GET', '/readyz', { token: null });
      expect(ready.body).toMatchObject({
        status: 'ok',
        checks: { database: { ok: true }, nats: { ok: true } },
      });
      const metrics = await f.api.call('GET', '/metrics', { token: null });
      expect(metrics.body).toContain('outbox_pending_events');
      expect(metrics.body).toContain('http_request_duration_seconds');
      const docs = await f.api.call('GET', '/docs/json', { token: null });
      expect(docs.status).toBe(200);
      expect(Object.keys(docs.body.paths)).toEqual(
        expect.arrayContaining([
          '/api/transfers',
          '/api/transfers/{transferId}',
          '/api/transfers/{transferId}/approve',
          '/api/transfers/{transferId}/receive',
          '/api/transfers/{transferId}/cancel',
        ]),
      );
    });
  });
});
