import {
  BatchPage,
  CreateBatchRequest,
  CreateBatchResponse,
  ExpiringBatchesQuery,
  ExpiringBatchesResponse,
  Id,
  PageQuery,
} from '@inv/contracts';
import { callerOf, commandRunner } from '@inv/platform';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { expiringBatches, recordBatches } from '../../app/batch-queries.js';
import { addBatch } from '../../app/batches.js';
import { ormPoolReadClient } from '../../infra/db/read-client.js';
import { readRouteOptions } from './read-admission.js';
import type { RouteDeps } from './stock-routes.js';

const tags = ['batches'];

/** Batches (lots) with expiry dates. */
export const batchRoutes: FastifyPluginAsyncZod<RouteDeps> = async (app, deps) => {
  const command = commandRunner(deps);
  const readDb = ormPoolReadClient(deps.orm);
  const readRoute = readRouteOptions(deps.reads);
  app.post(
    '/api/inventory/:inventoryId/batches',
    {
      config: { permission: 'inventory:adjust' },
      schema: {
        tags,
        summary: 'Add a batch with its expiry; its quantity is booked as an `in`',
        params: z.strictObject({ inventoryId: Id }),
        body: CreateBatchRequest,
        response: { 201: CreateBatchResponse },
      },
    },
    async (request, reply) =>
      command(
        request,
        reply,
        (em) => addBatch(em, request.params.inventoryId, request.body, callerOf(request)),
        { successStatus: 201 },
      ),
  );

  app.get(
    '/api/inventory/:inventoryId/batches',
    {
      ...readRoute,
      schema: {
        tags,
        summary: "A record's batches with what remains of each, soonest expiry first, paged",
        params: z.strictObject({ inventoryId: Id }),
        querystring: PageQuery,
        response: { 200: BatchPage },
      },
    },
    async (request) => recordBatches(readDb, callerOf(request), request.params.inventoryId, request.query),
  );

  app.get(
    '/api/inventory/batches/expiring',
    {
      ...readRoute,
      schema: {
        tags,
        summary: 'Batches expiring within a number of days, soonest first, paged; `total` counts all',
        querystring: ExpiringBatchesQuery,
        response: { 200: ExpiringBatchesResponse },
      },
    },
    async (request) => expiringBatches(readDb, callerOf(request), request.query, deps.acrossTotals),
  );
};
