import {
  AdjustRequest,
  AdjustResponse,
  ErrorBody,
  flattenSettingsLocation,
  Id,
  InventoryListQuery,
  InventoryPage,
  InventoryRecord,
  LowStockQuery,
  LowStockResponse,
  MovementPage,
  PageQuery,
  ProductStockResponse,
  StockAcrossQuery,
  UomStockResponse,
  UpdateInventorySettingsRequest,
  VariantStockResponse,
} from '@inv/contracts';
import { callerOf, commandRunner, expectedVersionFrom, type Orm, type ReadGate } from '@inv/platform';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { adjustStock, type LineWriter, updateSettings, writeAlone } from '../../app/adjust.js';
import type { AggregateCache } from '../../app/aggregate-cache.js';
import { recordDto } from '../../app/dto.js';
import {
  listRecords,
  lowStock,
  movementHistory,
  type RecordFilter,
  readRecord,
  type StockDimension,
  stockAcrossWarehouses,
} from '../../app/queries.js';
import { ormPoolReadClient } from '../../infra/db/read-client.js';
import { entityManagerClient, type SqlClient } from '../../infra/db/sql-client.js';
import { readRouteOptions } from './read-admission.js';

export interface RouteDeps {
  orm: Orm;
  /** The service's own pool, for statements that commit by themselves. */
  db: SqlClient;
  /** Wakes the outbox relay after a commit. */
  notify: () => void;
  /** Bounds the GETs running at once, fewer beside writes (503 SERVER_BUSY past its queue). */
  reads: ReadGate;
  /** Keeps large product/variant/UOM totals and low-stock counts a moment; absent: always computed. */
  acrossTotals?: AggregateCache;
}

export interface StockRouteDeps extends RouteDeps {
  /** How an adjust without an Idempotency-Key is booked on `db` (MovementCombiner: with concurrent ones). */
  adjustWriter: LineWriter;
}

const WRITE = { permission: 'inventory:adjust' } as const;
const tags = ['inventory'];

const InventoryIdParams = z.strictObject({ inventoryId: Id });

/** The headers a stock change honours, named in the OpenAPI document (other headers pass through). */
const CommandHeaders = z.looseObject({
  'if-match': z.string().optional().meta({
    description:
      'The version the change is based on, e.g. `"3"` (the ETag of GET /api/inventory/{inventoryId}); a stale one is refused with 409 OPTIMISTIC_LOCK_FAILURE. Same as `expectedVersion` in the body.',
  }),
  'idempotency-key': z.string().optional().meta({
    description:
      '1 to 128 visible ASCII characters: a retry with the same key and body gets the first answer again instead of applying twice.',
  }),
});

const answer = (description: string) => ErrorBody.meta({ description });
/** Every error answer of a stock change, with the codes it carries. */
const changeErrors = (conflicts: string) => ({
  400: answer(
    'VALIDATION_FAILED or INVALID_JSON: a malformed body, If-Match or Idempotency-Key; `field` names it.',
  ),
  401: answer('UNAUTHORIZED: no bearer token, or an invalid or expired one.'),
  403: answer('FORBIDDEN: the token lacks inventory:adjust or access to the warehouse.'),
  404: answer('NOT_FOUND: no such record (or not visible to the caller).'),
  409: answer(conflicts),
  413: answer('PAYLOAD_TOO_LARGE: the body is larger than the limit.'),
  415: answer('UNSUPPORTED_MEDIA_TYPE: the body is not application/json.'),
  422: answer('IDEMPOTENCY_KEY_REUSED: the Idempotency-Key was used before with a different request.'),
  503: answer('SERVICE_UNAVAILABLE: the database is unavailable; retry after `Retry-After` seconds.'),
});
const VERSION_CONFLICT =
  'OPTIMISTIC_LOCK_FAILURE: the version given (If-Match or `expectedVersion`) is not the current one, or concurrent changes kept conflicting after retries; `details` carries `currentVersion` and the current record. IDEMPOTENCY_KEY_IN_PROGRESS: a request with the same Idempotency-Key is still running.';

/** Stock records: adjust with optimistic locking, settings, and every read of the original contract. */
export const stockRoutes: FastifyPluginAsyncZod<StockRouteDeps> = async (app, deps) => {
  const { orm, db, reads } = deps;
  const command = commandRunner(deps);
  // The GETs read with plain statements on the ORM's pool (see ormPoolReadClient); writes keep their own pool.
  const readDb = ormPoolReadClient(orm);
  const readRoute = readRouteOptions(reads);
  app.post(
    '/api/inventory/adjust',
    {
      config: WRITE,
      schema: {
        tags,
        summary: 'Add, remove or count stock (optimistic locking; If-Match and Idempotency-Key honoured)',
        headers: CommandHeaders,
        body: AdjustRequest,
        response: {
          200: AdjustResponse,
          ...changeErrors(
            `${VERSION_CONFLICT} INSUFFICIENT_STOCK: the change would take the available stock below zero; \`details\` carries the current levels.`,
          ),
        },
      },
    },
    async (request, reply) => {
      const expectedVersion = expectedVersionFrom(request, request.body.expectedVersion);
      const caller = { ...callerOf(request), expectedVersion };
      const inTransaction = (em: EntityManager) =>
        adjustStock(writeAlone(entityManagerClient(em)), request.body, caller);
      return command(request, reply, inTransaction, {
        expectedVersion,
        direct: () => adjustStock(deps.adjustWriter, request.body, caller),
      });
    },
  );

  app.patch(
    '/api/inventory/:inventoryId',
    {
      config: WRITE,
      schema: {
        tags,
        summary: 'Change minimum stock and location (If-Match and Idempotency-Key honoured)',
        headers: CommandHeaders,
        params: InventoryIdParams,
        body: UpdateInventorySettingsRequest,
        response: { 200: AdjustResponse, ...changeErrors(VERSION_CONFLICT) },
      },
    },
    async (request, reply) => {
      const expectedVersion = expectedVersionFrom(request, request.body.expectedVersion);
      const caller = { ...callerOf(request), expectedVersion };
      const { inventoryId } = request.params;
      return command(
        request,
        reply,
        (em) =>
          updateSettings(
            em,
            entityManagerClient(em),
            inventoryId,
            flattenSettingsLocation(request.body),
            caller,
          ),
        {
          expectedVersion,
          direct: () =>
            updateSettings(orm.em.fork(), db, inventoryId, flattenSettingsLocation(request.body), caller),
        },
      );
    },
  );

  app.get(
    '/api/inventory',
    {
      ...readRoute,
      schema: {
        tags,
        summary: 'Records, filtered and paged',
        querystring: InventoryListQuery,
        response: { 200: InventoryPage },
      },
    },
    async (request) => {
      const { warehouseId, productId, ...page } = request.query;
      return listRecords(readDb, request.claims, { warehouseId, productId }, page);
    },
  );

  app.get(
    '/api/inventory/low-stock',
    {
      ...readRoute,
      schema: {
        tags,
        summary: 'Records below their minimum stock, the largest deficit first, paged; `total` counts all',
        querystring: LowStockQuery,
        response: { 200: LowStockResponse },
      },
    },
    async (request) => lowStock(readDb, request.claims, request.query, deps.acrossTotals),
  );

  const across = (dimension: StockDimension, response: z.ZodType, summary: string) => {
    const Params = z.strictObject({ [dimension]: Id });
    app.get(
      `/api/inventory/${dimension.replace('Id', '')}/:${dimension}`,
      {
        ...readRoute,
        schema: {
          tags,
          summary: `${summary}: a page of records, totals over all of them, optional ?groupBy=warehouse`,
          params: Params,
          querystring: StockAcrossQuery,
          response: { 200: response },
        },
      },
      async (request) =>
        stockAcrossWarehouses(
          readDb,
          request.claims,
          dimension,
          (request.params as Record<string, string>)[dimension]!,
          request.query,
          deps.acrossTotals,
        ),
    );
  };
  across('productId', ProductStockResponse, 'A product across warehouses');
  across('variantId', VariantStockResponse, 'A variant across warehouses');
  across('uomId', UomStockResponse, 'A unit of measure across warehouses');

  const pagedByKey = [
    ['/api/inventory/warehouse/:warehouseId', z.strictObject({ warehouseId: Id }), 'Records of a warehouse'],
    [
      '/api/inventory/product/:productId/warehouse/:warehouseId',
      z.strictObject({ productId: Id, warehouseId: Id }),
      'Records of a product in a warehouse (its variants and units)',
    ],
  ] as const;
  for (const [path, params, summary] of pagedByKey) {
    app.get(
      path,
      {
        ...readRoute,
        schema: {
          tags,
          summary: `${summary}, paged`,
          params,
          querystring: PageQuery,
          response: { 200: InventoryPage },
        },
      },
      async (request) => listRecords(readDb, request.claims, request.params as RecordFilter, request.query),
    );
  }

  app.get(
    '/api/inventory/:inventoryId',
    {
      ...readRoute,
      schema: { tags, summary: 'One record', params: InventoryIdParams, response: { 200: InventoryRecord } },
    },
    async (request, reply) => {
      const record = await readRecord(readDb, request.claims, request.params.inventoryId);
      // The version to send back as If-Match.
      reply.header('etag', `"${record.version}"`);
      return recordDto(record);
    },
  );

  app.get(
    '/api/inventory/:inventoryId/movements',
    {
      ...readRoute,
      schema: {
        tags,
        summary: "A record's ledger, newest first, paged",
        params: InventoryIdParams,
        querystring: PageQuery,
        response: { 200: MovementPage },
      },
    },
    async (request) => movementHistory(readDb, request.claims, request.params.inventoryId, request.query),
  );
};
