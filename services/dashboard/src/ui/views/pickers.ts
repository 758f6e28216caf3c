import { h } from '../dom.js';
import type { Store } from '../store.js';

/**
 * Lists the warehouse and product inputs offer (searchable as you type): the inventory service's summaries
 * plus any id a live event brought since.
 */
export const WAREHOUSE_OPTIONS = 'warehouse-options';
export const PRODUCT_OPTIONS = 'product-options';

export function renderPickers(store: Store): void {
  const records = [...store.records.values()];
  const options = (id: string, values: string[]) => {
    const list = document.getElementById(id) ?? document.body.appendChild(h('datalist', { id }));
    list.replaceChildren(...[...new Set(values)].sort().map((value) => h('option', { value })));
  };
  options(
    WAREHOUSE_OPTIONS,
    records.map((r) => r.warehouseId),
  );
  options(
    PRODUCT_OPTIONS,
    records.map((r) => r.productId),
  );
}
