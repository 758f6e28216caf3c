import {
  CreateTransferRequest,
  ReasonedTransitionRequest,
  ReceiveTransferRequest,
  TRANSFER_ACTIONS,
  type TransferAction,
  TransitionRequest,
} from '@inv/contracts';
import {
  badTokens,
  HOSTILE_IDS,
  hostileId,
  isClearRefusal,
  mintToken,
  mostlyValid,
  rawJson,
  readStoredEvents,
  withStrayField,
} from '@inv/testkit';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TransferFixture, transferFixture } from './support.js';

const ACTIONS = Object.keys(TRANSFER_ACTIONS) as TransferAction[];

const line = fc.record(
  {
    productId: mostlyValid(fc.constantFrom('fz-p1', 'fz-p2')),
    variantId: mostlyValid(fc.constantFrom(null, 'v1')),
    uomId: mostlyValid(fc.constantFrom(null, 'box')),
    quantity: mostlyValid(fc.integer({ min: 1, max: 20 })),
  },
  { requiredKeys: ['productId', 'quantity'] },
);

const createBody = fc
  .record(
    {
      sourceWarehouseId: mostlyValid(fc.constantFrom('fz-a', 'fz-b')),
      destinationWarehouseId: mostlyValid(fc.constantFrom('fz-b', 'fz-c')),
      lines: mostlyValid(fc.array(line, { minLength: 1, maxLength: 3 })),
      note: mostlyValid(fc.string({ maxLength: 30 })),
    },
    { requiredKeys: ['sourceWarehouseId', 'destinationWarehouseId', 'lines'] },
  )
  .chain(withStrayField);

/** A body for an action: the fields it takes, each usually valid, sometimes hostile, sometimes a stray one. */
function transitionBody(action: TransferAction) {
  const fields: Record<string, fc.Arbitrary<unknown>> = action === 'receive'
    ? {
        lines: mostlyValid(
          fc.array(
            fc.record({
              lineId: fc.constantFrom('1', 'x'),
              receivedQuantity: fc.integer({ min: 0, max: 9 }),
            }),
            { minLength: 1, maxLength: 2 },
          ),
        ),
      }
    : {
        reason: mostlyValid(fc.string({ minLength: 1, maxLength: 30 })),
        expectedVersion: mostlyValid(fc.integer({ min: 1, max: 3 })),
      };
  return fc.record(fields, { requiredKeys: [] }).chain(withStrayField);
}

function schemaOf(action: TransferAction) {
  if (action === 'reject' || action === 'cancel') return ReasonedTransitionRequest;
  if (action === 'receive') return ReceiveTransferRequest;
  return TransitionRequest;
}

describe('transfer REST under hostile input', () => {
  let f: TransferFixture;
  let token: string;
  beforeAll(async () => {
    f = await transferFixture();
    token = await mintToken({ roles: ['manager'], warehouses: ['*'] });
  });
  afterAll(async () => f?.close());

  const send = (method: string, path: string, body?: unknown, bearer: string | null = token) =>
    rawJson(f.service.url, method, path, { body, token: bearer });

  // 1,000 requests in a row: a budget for a loaded machine, not a timing assertion.
  it('answers 1,000 generated create and transition bodies with success or a 4xx naming the problem', {
    timeout: 120_000,
  }, async () => {
    const created: string[] = [];
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(createBody, async (body) => {
        const reply = await send('POST', '/api/transfers', body);
        const valid = CreateTransferRequest.safeParse(JSON.parse(JSON.stringify(body))).success;
        if (valid) {
          expect(reply.status, JSON.stringify(reply.body)).toBe(201);
          created.push((reply.body as { transferId: string }).transferId);
        } else {
          refused++;
          expect(reply.body).toMatchObject({ code: 'VALIDATION_FAILED' });
        }
      }),
      { numRuns: 500, seed: 8_101 },
    );
    expect(created.length).toBeGreaterThan(50);

    const transitions = fc.sample(
      fc
        .tuple(fc.constantFrom(...ACTIONS), fc.nat(created.length - 1))
        .chain(([action, index]) => transitionBody(action).map((body) => [action, index, body] as const)),
      { numRuns: 500, seed: 8_102 },
    );
    for (const [action, index, body] of transitions) {
      const reply = await send('POST', `/api/transfers/${created[index]}/${action}`, body);
      const valid = schemaOf(action).safeParse(JSON.parse(JSON.stringify(body))).success;
      if (reply.status !== 200) {
        refused++;
        expect(
          isClearRefusal(reply),
          `${action} ${JSON.stringify(body)}: ${JSON.stringify(reply.body)}`,
        ).toBe(true);
      }
      if (!valid) expect(reply.status, `${action} ${JSON.stringify(body)}`).toBe(400);
    }

    // Whatever was accepted or refused, each transfer's events are whole: versions 1..n, once each.
    await f.outboxDrained();
    const stored = await readStoredEvents(f.nc, 'transfer.>');
    for (const id of created) {
      const current = (await send('GET', `/api/transfers/${id}`)).body as { version: number };
      const versions = stored
        .filter((s) => s.event.aggregate?.id === id)
        .map((s) => (s.event.data as { version: number }).version);
      expect(versions).toEqual(Array.from({ length: current.version }, (_, i) => i + 1));
    }
    console.log(
      `reliability: transfer fuzz 1000 bodies, ${created.length} transfers, ${refused} refused, ${stored.length} events checked, 0 errors`,
    );
  });

  it('refuses every hostile ID in transfer paths and queries with a 4xx and a code', async () => {
    const cases = fc.sample(hostileId, { numRuns: 60, seed: 8_103 }).concat(HOSTILE_IDS);
    const paths: Array<{ method: string; path: string; body?: unknown }> = [
      ...ACTIONS.map((action) => ({
        method: 'POST',
        path: `/api/transfers/{id}/${action}`,
        body: { reason: 'r' },
      })),
      { method: 'GET', path: '/api/transfers/{id}' },
      { method: 'GET', path: '/api/transfers?warehouseId={id}' },
    ];
    let tried = 0;
    for (const route of paths) {
      for (const id of cases) {
        const reply = await send(
          route.method,
          route.path.replace('{id}', encodeURIComponent(id)),
          route.body,
        );
        tried++;
        expect(isClearRefusal(reply), `${route.path} ${JSON.stringify(id).slice(0, 80)}`).toBe(true);
      }
    }
    const injected = await send('POST', '/api/transfers', {
      sourceWarehouseId: 'a.>',
      destinationWarehouseId: '*',
      lines: [{ productId: 'p 1', quantity: 1 }],
    });
    expect(injected.body).toMatchObject({ code: 'VALIDATION_FAILED' });
    console.log(`reliability: transfer fuzz ${tried} hostile ID requests, 0 accepted, 0 errors`);
  });

  it('refuses missing, expired, wrongly signed and malformed tokens on every route', async () => {
    const routes = [
      { method: 'GET', path: '/api/transfers' },
      { method: 'GET', path: '/api/transfers/t-1' },
      {
        method: 'POST',
        path: '/api/transfers',
        body: { sourceWarehouseId: 'a', destinationWarehouseId: 'b', lines: [] },
      },
      ...ACTIONS.map((action) => ({ method: 'POST', path: `/api/transfers/t-1/${action}`, body: {} })),
    ];
    for (const bad of await badTokens()) {
      for (const route of routes) {
        const reply = await send(route.method, route.path, route.body, bad.token);
        expect(reply.status, `${bad.kind} on ${route.method} ${route.path}`).toBe(401);
        expect(reply.body).toMatchObject({ code: 'UNAUTHORIZED' });
      }
    }
  });
});
