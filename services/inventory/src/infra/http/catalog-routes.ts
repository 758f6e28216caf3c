import { CatalogQuery, ProductPage, WarehousePage } from '@inv/contracts';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { listProducts, listWarehouses } from '../../app/catalog.js';
import type { RouteDeps } from './stock-routes.js';

const READ = { permission: 'inventory:read' } as const;
const tags = ['catalog'];

/** Warehouse and product summaries for pickers: only what the caller's claims cover. */
export const catalogRoutes: FastifyPluginAsyncZod<RouteDeps> = async (app, { orm }) => {
  app.get(
    '/api/warehouses',
    {
      config: READ,
      schema: {
        tags,
        summary: 'Warehouses the caller sees, with record, product, low and out-of-stock counts',
        querystring: CatalogQuery,
        response: { 200: WarehousePage },
      },
    },
    async (request) => listWarehouses(orm.em.fork(), request.claims, request.query),
  );
  app.get(
    '/api/products',
    {
      config: READ,
      schema: {
        tags,
        summary: 'Products over the warehouses the caller sees, with counts and totals',
        querystring: CatalogQuery,
        response: { 200: ProductPage },
      },
    },
    async (request) => listProducts(orm.em.fork(), request.claims, request.query),
  );
};
