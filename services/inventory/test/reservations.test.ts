import { Reservation } from '@inv/contracts';
import { readStoredEvents } from '@inv/testkit';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type InventoryFixture, inventoryFixture, ledgerBalances, uniqueKey } from './support.js';

describe('order reservations', () => {
  let f: InventoryFixture;
  beforeAll(async () => {
    f = await inventoryFixture({ RESERVATION_SWEEP_INTERVAL_MS: '200' });
  });
  afterAll(async () => f?.close());

  const stock = async (key: { productId: string; warehouseId: string }, quantity: number) => {
    const res = await f.adjust({ ...key, quantity, movementType: 'in' });
    expect(res.status).toBe(200);
    return res.body.inventory.inventoryId as string;
  };
  const record = async (inventoryId: string) => (await f.api('GET', `/api/inventory/${inventoryId}`)).body;
  const reserve = (body: unknown, headers?: Record<string, string>) =>
    f.api('POST', '/api/reservations', { body, headers });

  it('holds stock of every line, answers 201 with a Location, and moves available to reserved', async () => {
    const a = uniqueKey();
    const b = { ...uniqueKey(), warehouseId: 'wh-2' };
    const idA = await stock(a, 10);
    const idB = await stock(b, 5);
    const res = await reserve({
      reference: 'order-1',
      lines: [
        { ...a, quantity: 3 },
        { ...b, quantity: 5 },
      ],
    });
    expect(res.status).toBe(201);
    expect(Reservation.safeParse(res.body).success).toBe(true);
    expect(res.body).toMatchObject({ reference: 'order-1', status: 'active' });
    expect(res.headers.get('location')).toBe(`/api/reservations/${res.body.reservationId}`);
    const expiresIn = Date.parse(res.body.expiresAt) - Date.now();
    expect(expiresIn).toBeGreaterThan(890_000);
    expect(expiresIn).toBeLessThanOrEqual(900_000);
    expect(await record(idA)).toMatchObject({ quantityAvailable: 7, quantityReserved: 3, version: 2 });
    expect(await record(idB)).toMatchObject({ quantityAvailable: 0, quantityReserved: 5, version: 2 });
    const [movement] = await f.sql(
      'select movement_type, reservation_id from inventory_movement where inventory_id = ? and record_version = 2',
      [idA],
    );
    expect(movement).toEqual({ movement_type: 'reservation', reservation_id: res.body.reservationId });
  });

  it('reserves nothing when one line is short and tells per short line what was asked and what is available', async () => {
    const a = uniqueKey();
    const b = uniqueKey();
    const idA = await stock(a, 10);
    await stock(b, 1);
    const res = await reserve({
      reference: 'order-2',
      lines: [
        { ...a, quantity: 2 },
        { ...b, quantity: 2 },
      ],
    });
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({
      code: 'INSUFFICIENT_STOCK',
      details: { shortages: [{ ...b, variantId: null, uomId: null, requested: 2, available: 1 }] },
    });
    expect(await record(idA)).toMatchObject({ quantityAvailable: 10, quantityReserved: 0, version: 1 });
  });

  it('refuses a request already short without waiting for the record lock; one that fits waits for it', async () => {
    const key = uniqueKey();
    const id = await stock(key, 3);
    const holder = new pg.Client({ connectionString: f.db.url });
    await holder.connect();
    try {
      await holder.query('begin');
      await holder.query('select 1 from inventory_record where inventory_id = $1 for update', [id]);
      const short = await reserve({ reference: 'order-short', lines: [{ ...key, quantity: 4 }] });
      expect(short.status).toBe(409);
      expect(short.body.details.shortages).toEqual([
        { ...key, variantId: null, uomId: null, requested: 4, available: 3 },
      ]);
      let settled = false;
      const fitting = reserve({ reference: 'order-fits', lines: [{ ...key, quantity: 3 }] }).finally(() => {
        settled = true;
      });
      // The fitting one's statement blocks on the row lock: a session of this database waiting on a lock.
      for (;;) {
        const { rows } = await holder.query(
          "select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'",
        );
        if (rows[0].n > 0) break;
      }
      expect(settled).toBe(false);
      await holder.query('commit');
      expect((await fitting).status).toBe(201);
    } finally {
      await holder.end();
    }
    expect(await record(id)).toMatchObject({ quantityAvailable: 0, quantityReserved: 3, version: 2 });
  });

  it('sums lines naming the same record before checking (two lines of one order, one unit left)', async () => {
    const key = uniqueKey();
    const id = await stock(key, 1);
    const res = await reserve({
      reference: 'order-3',
      lines: [
        { ...key, quantity: 1 },
        { ...key, variantId: null, quantity: 1 },
      ],
    });
    expect(res.status).toBe(409);
    expect(res.body.details.shortages).toEqual([
      { ...key, variantId: null, uomId: null, requested: 2, available: 1 },
    ]);
    expect(await record(id)).toMatchObject({ quantityAvailable: 1, quantityReserved: 0 });
  });

  it('refuses with 403 a caller without a claim on one of the warehouses, before telling what it holds', async () => {
    const a = uniqueKey();
    const b = { ...uniqueKey(), warehouseId: 'wh-secret' };
    const idA = await stock(a, 5);
    await stock(b, 2);
    const res = await f.api('POST', '/api/reservations', {
      claims: { warehouses: [a.warehouseId] },
      body: {
        reference: 'order-4',
        lines: [
          { ...a, quantity: 1 },
          { ...b, quantity: 1 },
        ],
      },
    });
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ code: 'FORBIDDEN', details: { warehouseId: 'wh-secret' } });
    expect(JSON.stringify(res.body)).not.toContain('available');
    expect(await record(idA)).toMatchObject({ quantityAvailable: 5, quantityReserved: 0 });
  });

  it('refuses a viewer (no inventory:adjust) with 403', async () => {
    const key = uniqueKey();
    await stock(key, 5);
    const res = await f.api('POST', '/api/reservations', {
      claims: { roles: ['viewer'] },
      body: { reference: 'order-v', lines: [{ ...key, quantity: 1 }] },
    });
    expect(res.status).toBe(403);
  });

  it.each([
    [{ expiresInSeconds: 0 }, 'expiresInSeconds'],
    [{ expiresInSeconds: 30 * 24 * 3600 + 1 }, 'expiresInSeconds'],
    [{ lines: [] }, 'lines'],
    [{ reference: '' }, 'reference'],
  ])('refuses %j with 400 naming %s', async (patch, field) => {
    const key = uniqueKey();
    const res = await reserve({ reference: 'order-x', lines: [{ ...key, quantity: 1 }], ...patch });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('VALIDATION_FAILED');
    expect(res.body.field).toBe(field);
  });

  it('answers a retried request with the same Idempotency-Key with the first reservation, holding stock once', async () => {
    const key = uniqueKey();
    const id = await stock(key, 5);
    const body = { reference: 'order-5', lines: [{ ...key, quantity: 2 }] };
    const [first, second] = await Promise.all([
      reserve(body, { 'idempotency-key': `k-${key.productId}` }),
      reserve(body, { 'idempotency-key': `k-${key.productId}` }),
    ]);
    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    expect(second.body.reservationId).toBe(first.body.reservationId);
    expect(second.headers.get('location')).toBe(first.headers.get('location'));
    expect(await record(id)).toMatchObject({ quantityAvailable: 3, quantityReserved: 2 });
  });

  it('commits: reserved stock leaves; a second commit answers the current state; release after it is 409', async () => {
    const key = uniqueKey();
    const id = await stock(key, 5);
    const created = (await reserve({ reference: 'order-6', lines: [{ ...key, quantity: 2 }] })).body;
    const path = `/api/reservations/${created.reservationId}`;
    const commit = await f.api('POST', `${path}/commit`, { body: {} });
    expect(commit.status).toBe(200);
    expect(commit.body).toMatchObject({
      status: 'committed',
      lines: [{ quantity: 2, committedQuantity: 2 }],
    });
    expect(await record(id)).toMatchObject({ quantityAvailable: 3, quantityReserved: 0, version: 3 });
    const again = await f.api('POST', `${path}/commit`, { body: {} });
    expect(again.status).toBe(200);
    expect(again.body.status).toBe('committed');
    expect(await record(id)).toMatchObject({ version: 3 });
    const release = await f.api('POST', `${path}/release`, { body: { reason: 'changed mind' } });
    expect(release.status).toBe(409);
    expect(release.body).toMatchObject({ code: 'INVALID_TRANSITION', details: { state: 'committed' } });
    const [movement] = await f.sql(
      'select movement_type, quantity_change::int, reserved_change::int from inventory_movement where inventory_id = ? and record_version = 3',
      [id],
    );
    expect(movement).toEqual({
      movement_type: 'reservation_commit',
      quantity_change: 0,
      reserved_change: -2,
    });
  });

  it('commits part of a line and releases the rest of every line', async () => {
    const a = uniqueKey();
    const b = uniqueKey();
    const idA = await stock(a, 10);
    const idB = await stock(b, 10);
    const created = (
      await reserve({
        reference: 'order-7',
        lines: [
          { ...a, quantity: 4 },
          { ...b, quantity: 3 },
        ],
      })
    ).body;
    const commit = await f.api('POST', `/api/reservations/${created.reservationId}/commit`, {
      body: { lines: [{ lineId: created.lines[0].lineId, quantity: 1 }] },
    });
    expect(commit.status).toBe(200);
    expect(commit.body.lines.map((l: { committedQuantity: number }) => l.committedQuantity)).toEqual([1, 0]);
    expect(await record(idA)).toMatchObject({ quantityAvailable: 9, quantityReserved: 0 });
    expect(await record(idB)).toMatchObject({ quantityAvailable: 10, quantityReserved: 0 });
    const repeated = await f.api('POST', `/api/reservations/${created.reservationId}/commit`, {
      body: { lines: [{ lineId: 'l1', quantity: 1 }] },
    });
    expect(repeated.body.lines[1].committedQuantity).toBe(0);
    await f.outboxDrained();
    const events = (await readStoredEvents(f.nc, `inventory.product.${a.productId}.>`)).map((s) => s.event);
    expect(events.map((e) => e.type)).toEqual([
      'inventory.updated',
      'inventory.updated',
      'inventory.reservation_created',
      'inventory.updated',
      'inventory.updated',
      'inventory.reservation_committed',
      'inventory.reservation_released',
    ]);
    expect(events.at(-1)?.data).toMatchObject({ reason: 'partial_commit', releasedQuantity: 3 });
  });

  it.each([
    ['on the pool', {}],
    ['with an Idempotency-Key', { 'idempotency-key': `ids-${Date.now()}` }],
  ])(
    'announces each line with its record id and the version its movement gave the record (%s)',
    async (_, headers) => {
      const a = uniqueKey();
      const b = uniqueKey();
      const idA = await stock(a, 5);
      const idB = await stock(b, 5);
      const lines = [
        { ...a, quantity: 1 },
        { ...b, quantity: 2 },
        { ...a, quantity: 1 },
      ];
      const created = await reserve({ reference: 'order-ids', lines }, headers);
      expect(created.status).toBe(201);
      expect(created.body.lines.map((l: { inventoryId: string }) => l.inventoryId)).toEqual([idA, idB, idA]);
      const [stored] = await f.sql<{ ids: string[] }>(
        'select array_agg(inventory_id order by position) as ids from order_reservation_line where reservation_id = ?',
        [created.body.reservationId],
      );
      expect(stored!.ids).toEqual([idA, idB, idA]);
      const commit = await f.api('POST', `/api/reservations/${created.body.reservationId}/commit`, {
        body: {},
      });
      expect(commit.status).toBe(200);
      await f.outboxDrained();
      for (const [key, id] of [
        [a, idA],
        [b, idB],
      ] as const) {
        const events = (await readStoredEvents(f.nc, `inventory.product.${key.productId}.>`)).map(
          (s) => s.event,
        );
        const lineEvents = events.filter((e) => e.type.startsWith('inventory.reservation_'));
        expect(lineEvents.length).toBeGreaterThan(0);
        for (const event of lineEvents) {
          // Right after the inventory.updated of the version it names, on the same record.
          const updated = events.findLast(
            (e, i) => e.type === 'inventory.updated' && i < events.indexOf(event),
          );
          expect(event.aggregate).toEqual({ type: 'inventory', id, version: updated!.aggregate.version });
          expect(event.data).toMatchObject({ inventoryId: id, reservationId: created.body.reservationId });
        }
        expect(lineEvents.map((e) => e.aggregate.version)).toEqual(
          lineEvents.map((e) => (e.type === 'inventory.reservation_created' ? 2 : 3)),
        );
      }
    },
  );

  it('refuses a partial commit naming an unknown line with 400', async () => {
    const key = uniqueKey();
    await stock(key, 2);
    const created = (await reserve({ reference: 'order-8', lines: [{ ...key, quantity: 1 }] })).body;
    const res = await f.api('POST', `/api/reservations/${created.reservationId}/commit`, {
      body: { lines: [{ lineId: 'l9', quantity: 1 }] },
    });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 'VALIDATION_FAILED', field: 'lines.0.lineId' });
  });

  it('releases with a reason, then refuses a commit with 409 and a second release answers released', async () => {
    const key = uniqueKey();
    const id = await stock(key, 3);
    const created = (await reserve({ reference: 'order-9', lines: [{ ...key, quantity: 3 }] })).body;
    const path = `/api/reservations/${created.reservationId}`;
    const release = await f.api('POST', `${path}/release`, { body: { reason: 'cart abandoned' } });
    expect(release.body).toMatchObject({
      status: 'released',
      releaseReason: 'released',
      releaseNote: 'cart abandoned',
    });
    expect(await record(id)).toMatchObject({ quantityAvailable: 3, quantityReserved: 0, version: 3 });
    expect((await f.api('POST', `${path}/commit`, { body: {} })).body.code).toBe('INVALID_TRANSITION');
    // No body at all: the reason is optional.
    const again = await f.api('POST', `${path}/release`);
    expect(again.status).toBe(200);
    expect(again.body.status).toBe('released');
    expect(await record(id)).toMatchObject({ version: 3 });
  });

  /** 2 units of `key` held by a shop integration's token (a caller other than the test's default). */
  const heldByShop = async (key: ReturnType<typeof uniqueKey>, reference: string) =>
    (
      await f.api('POST', '/api/reservations', {
        claims: { sub: 'shop-integration' },
        body: { reference, lines: [{ ...key, quantity: 2 }] },
      })
    ).body as { reservationId: string; lines: { lineId: string }[] };

  it("refuses a clerk releasing another caller's reservation (403, nothing moves); its creator or a manager may", async () => {
    const key = uniqueKey();
    const id = await stock(key, 5);
    const held = async (reference: string) => (await heldByShop(key, reference)).reservationId;
    const byShop = await held('order-r1');
    const release = (reservationId: string, claims: { sub: string; roles: ('clerk' | 'manager')[] }) =>
      f.api('POST', `/api/reservations/${reservationId}/release`, { claims, body: { reason: 'why' } });

    const refused = await release(byShop, { sub: 'clerk-2', roles: ['clerk'] });
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({
      code: 'FORBIDDEN',
      details: { reservationId: byShop, role: 'manager', reason: 'NOT_THE_CREATOR' },
    });
    expect((await f.api('GET', `/api/reservations/${byShop}`)).body.status).toBe('active');
    expect(await record(id)).toMatchObject({ quantityAvailable: 3, quantityReserved: 2, version: 2 });

    expect((await release(byShop, { sub: 'shop-integration', roles: ['clerk'] })).body.status).toBe(
      'released',
    );
    const another = await held('order-r2');
    expect((await release(another, { sub: 'manager-1', roles: ['manager'] })).body.status).toBe('released');
    expect(await record(id)).toMatchObject({ quantityAvailable: 5, quantityReserved: 0 });
  });

  it("refuses a clerk's partial commit of another caller's reservation that would release stock (403, nothing moves); a full commit is theirs to make", async () => {
    const key = uniqueKey();
    const id = await stock(key, 5);
    const clerk = { sub: 'clerk-2', roles: ['clerk' as const] };
    const hold = await heldByShop(key, 'order-c1');
    const commit = (reservationId: string, body: unknown) =>
      f.api('POST', `/api/reservations/${reservationId}/commit`, { claims: clerk, body });

    // A commit of nothing releases the whole line: a release by another door.
    for (const quantity of [0, 1]) {
      const refused = await commit(hold.reservationId, {
        lines: [{ lineId: hold.lines[0]!.lineId, quantity }],
      });
      expect(refused.status, `commit ${quantity} of 2`).toBe(403);
      expect(refused.body).toMatchObject({ code: 'FORBIDDEN', details: { reason: 'NOT_THE_CREATOR' } });
    }
    expect((await f.api('GET', `/api/reservations/${hold.reservationId}`)).body.status).toBe('active');
    expect(await record(id)).toMatchObject({ quantityAvailable: 3, quantityReserved: 2, version: 2 });

    const whole = await commit(hold.reservationId, {
      lines: [{ lineId: hold.lines[0]!.lineId, quantity: 2 }],
    });
    expect(whole.status).toBe(200);
    expect(whole.body.status).toBe('committed');
    expect(await record(id)).toMatchObject({ quantityAvailable: 3, quantityReserved: 0 });
  });

  it('extends an active reservation and announces it with the version its record holds', async () => {
    const key = uniqueKey();
    const id = await stock(key, 3);
    const created = (
      await reserve({ reference: 'order-10', lines: [{ ...key, quantity: 1 }], expiresInSeconds: 60 })
    ).body;
    const res = await f.api('POST', `/api/reservations/${created.reservationId}/extend`, {
      body: { expiresInSeconds: 3600 },
    });
    expect(res.status).toBe(200);
    expect(Date.parse(res.body.expiresAt)).toBeGreaterThan(Date.now() + 3_500_000);
    await f.outboxDrained();
    const events = (await readStoredEvents(f.nc, `inventory.product.${key.productId}.>`)).map((s) => s.event);
    expect(events.at(-1)).toMatchObject({
      type: 'inventory.reservation_extended',
      aggregate: { type: 'inventory', id, version: 2 },
      data: { inventoryId: id, reservationId: created.reservationId, previousExpiresAt: created.expiresAt },
    });
    // No stock moved: the record keeps its version.
    expect(await record(id)).toMatchObject({ quantityReserved: 1, version: 2 });
    const [stored] = await f.sql<{ expires_at: string }>(
      'select expires_at from order_reservation where reservation_id = ?',
      [created.reservationId],
    );
    expect(new Date(stored!.expires_at).toISOString()).toBe(res.body.expiresAt);
  });

  it('refuses to extend a reservation that is no longer active, and changes nothing', async () => {
    const key = uniqueKey();
    await stock(key, 3);
    const created = (await reserve({ reference: 'order-10b', lines: [{ ...key, quantity: 1 }] })).body;
    const path = `/api/reservations/${created.reservationId}`;
    expect((await f.api('POST', `${path}/release`)).status).toBe(200);
    const res = await f.api('POST', `${path}/extend`, { body: { expiresInSeconds: 3600 } });
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('INVALID_TRANSITION');
    expect((await f.api('GET', path)).body).toMatchObject({
      status: 'released',
      expiresAt: created.expiresAt,
    });
  });

  it('releases an expired reservation by itself, once, and then refuses to commit it', async () => {
    const key = uniqueKey();
    const id = await stock(key, 4);
    const created = (
      await reserve({ reference: 'order-11', lines: [{ ...key, quantity: 4 }], expiresInSeconds: 1 })
    ).body;
    const path = `/api/reservations/${created.reservationId}`;
    let current = created;
    while (current.status === 'active') current = (await f.api('GET', path)).body;
    expect(current).toMatchObject({ status: 'expired', releaseReason: 'expired' });
    expect(Date.now() - Date.parse(created.expiresAt)).toBeLessThan(5_000);
    expect(await record(id)).toMatchObject({ quantityAvailable: 4, quantityReserved: 0, version: 3 });
    const commit = await f.api('POST', `${path}/commit`, { body: {} });
    expect(commit.status).toBe(409);
    expect(commit.body.code).toBe('INVALID_TRANSITION');
    await f.outboxDrained();
    const released = (await readStoredEvents(f.nc, `inventory.product.${key.productId}.>`))
      .map((s) => s.event)
      .filter((e) => e.type === 'inventory.reservation_released');
    expect(released.map((e) => e.data)).toEqual([
      expect.objectContaining({ inventoryId: id, reason: 'expired', releasedQuantity: 4 }),
    ]);
    expect(released[0]!.aggregate).toEqual({ type: 'inventory', id, version: 3 });
  });

  it('lists by reference, status and warehouse, paged, and hides reservations in warehouses the caller cannot see', async () => {
    const key = { ...uniqueKey(), warehouseId: 'wh-list' };
    const hidden = { ...uniqueKey(), warehouseId: 'wh-hidden' };
    await stock(key, 10);
    await stock(hidden, 10);
    const reference = `list-${key.productId}`;
    for (let i = 0; i < 3; i++) await reserve({ reference, lines: [{ ...key, quantity: 1 }] });
    await reserve({
      reference,
      lines: [
        { ...key, quantity: 1 },
        { ...hidden, quantity: 1 },
      ],
    });
    const all = await f.api('GET', `/api/reservations?reference=${reference}&status=active&limit=3`);
    expect(all.status).toBe(200);
    expect(all.body.items).toHaveLength(3);
    const next = await f.api(
      'GET',
      `/api/reservations?reference=${reference}&status=active&limit=3&after=${all.body.page.nextCursor}`,
    );
    expect(next.body.items).toHaveLength(1);
    expect(next.body.page.nextCursor).toBeNull();
    const confined = await f.api('GET', `/api/reservations?reference=${reference}`, {
      claims: { warehouses: ['wh-list'], roles: ['viewer'] },
    });
    expect(confined.body.items).toHaveLength(3);
    const other = await f.api('GET', `/api/reservations/${next.body.items[0].reservationId}`, {
      claims: { warehouses: ['wh-list'], roles: ['viewer'] },
    });
    expect(other.status).toBe(403);
    const byWarehouse = await f.api('GET', '/api/reservations?warehouseId=wh-hidden', {
      claims: { warehouses: ['wh-list'], roles: ['viewer'] },
    });
    expect(byWarehouse.status).toBe(403);
    const released = await f.api('GET', `/api/reservations?reference=${reference}&status=released`);
    expect(released.body.items).toEqual([]);
  });

  it('documents the reservation routes in the OpenAPI document, with their request and response schemas', async () => {
    const docs = await f.api('GET', '/docs/json', { token: null });
    expect(docs.status).toBe(200);
    const paths = docs.body.paths;
    for (const action of ['commit', 'release', 'extend']) {
      expect(paths[`/api/reservations/{reservationId}/${action}`].post.responses['200']).toBeDefined();
    }
    expect(
      paths['/api/reservations'].post.requestBody.content['application/json'].schema.properties,
    ).toHaveProperty('expiresInSeconds');
    expect(paths['/api/reservations'].post.responses['201']).toBeDefined();
    expect(paths['/api/reservations'].get.parameters.map((p: { name: string }) => p.name)).toEqual(
      expect.arrayContaining(['reference', 'status', 'warehouseId', 'limit', 'after']),
    );
    expect(paths['/api/reservations/{reservationId}'].get).toBeDefined();
  });

  it('answers 404 for an unknown reservation', async () => {
    const res = await f.api('GET', '/api/reservations/nope-1');
    expect(res.status).toBe(404);
    expect(res.body.code).toBe('NOT_FOUND');
  });

  it('keeps every record equal to its ledger', async () => {
    for (const row of await ledgerBalances(f)) {
      expect(row.quantity_available).toBe(row.ledger_available);
      expect(row.quantity_reserved).toBe(row.ledger_reserved);
      expect(row.version).toBe(row.ledger_rows);
    }
  });
});
