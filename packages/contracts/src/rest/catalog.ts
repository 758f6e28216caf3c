import { z } from 'zod';
import { Id } from '../ids.js';
import { PageQuery, pageOf, Text } from './common.js';

/** `GET /api/warehouses` and `GET /api/products`: a page, optionally only ids starting with `q`. */
export const CatalogQuery = PageQuery.extend({ q: Text(64).optional() });
export type CatalogQuery = z.infer<typeof CatalogQuery>;

/** One warehouse the caller has claims on, with counts over its stock records. */
export const WarehouseSummary = z.object({
  warehouseId: Id,
  records: z.int(),
  products: z.int(),
  totalAvailable: z.int(),
  totalReserved: z.int(),
  lowStock: z.int(),
  outOfStock: z.int(),
});
export type WarehouseSummary = z.infer<typeof WarehouseSummary>;
export const WarehousePage = pageOf(WarehouseSummary);

/** One product over the warehouses the caller sees. */
export const ProductSummary = z.object({
  productId: Id,
  records: z.int(),
  warehouses: z.int(),
  variants: z.int(),
  totalAvailable: z.int(),
  totalReserved: z.int(),
});
export type ProductSummary = z.infer<typeof ProductSummary>;
export const ProductPage = pageOf(ProductSummary);
