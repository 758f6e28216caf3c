import { h } from '../dom.js';
import type { Store } from '../store.js';

/**
 * Lists the warehouse and product inputs offer (searchable as you type): the inventory service's summaries
 * plus the ids of the stock page shown (a record a live event brought since included).
 */
export const WAREHOUSE_OPTIONS = 'warehouse-options';
export const PRODUCT_OPTIONS = 'product-options';

export function renderPickers(store: Store): void {
  const records = [...store.records.values()];
  const options = (id: string, values: string[]) => {
    const list = document.getElementById(id) ?? document.body.appendChild(h('datalist', { id }));
    list.replaceChildren(...[...new Set(values)].sort().map((value) => h('option', { value })));
  };
  options(WAREHOUSE_OPTIONS, [...store.catalog.warehouses, ...records.map((r) => r.warehouseId)]);
  options(PRODUCT_OPTIONS, [...store.catalog.products, ...records.map((r) => r.productId)]);
}
