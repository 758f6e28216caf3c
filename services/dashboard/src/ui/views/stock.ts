import type { InventoryRecord } from '@inv/contracts';
import { h } from '../dom.js';
import type { StockPages } from '../stock-pages.js';
import type { Store } from '../store.js';

export interface StockViewState {
  /** The page shown, its warehouse filter and cursors. */
  pages: StockPages;
  /** Another warehouse ('' for all) or page was chosen: load it. */
  onPage: () => void;
  onSelect: (record: InventoryRecord) => void;
  /** Offered in the empty state where the dashboard server has the demo login. */
  onLoadDemo?: (button: HTMLButtonElement) => void;
}

function emptyState(view: StockViewState): HTMLElement {
  const button = h('button', { type: 'button', 'data-testid': 'load-demo' }, 'Load sample data');
  button.addEventListener('click', () => view.onLoadDemo?.(button));
  return h(
    'tr',
    {},
    h('td', { colspan: 10, class: 'muted' }, 'No stock yet. ', view.onLoadDemo ? button : ''),
  );
}

function status(record: InventoryRecord): HTMLElement {
  if (record.isOutOfStock) return h('span', { class: 'badge out' }, 'out of stock');
  if (record.isLowStock) return h('span', { class: 'badge low' }, 'low');
  return h('span', { class: 'badge ok' }, 'ok');
}

function location(record: InventoryRecord): string {
  const { zone, aisle, rack, bin } = record.location;
  const parts: [string, string | null][] = [
    ['zone', zone],
    ['aisle', aisle],
    ['rack', rack],
    ['bin', bin],
  ];
  return parts
    .filter(([, value]) => value)
    .map(([label, value]) => `${label} ${value}`)
    .join(' · ');
}

function warehousePicker(store: Store, view: StockViewState): HTMLElement {
  const { pages } = view;
  const shown = [...store.records.values()].map((r) => r.warehouseId);
  const warehouses = [
    ...new Set([...store.catalog.warehouses, ...shown, pages.warehouse].filter(Boolean)),
  ].sort();
  return h(
    'select',
    {
      'aria-label': 'Warehouse',
      onchange: (e: Event) => {
        pages.filter((e.target as HTMLSelectElement).value);
        view.onPage();
      },
    },
    h('option', { value: '' }, 'All warehouses'),
    ...warehouses.map((w) => h('option', { value: w, selected: w === pages.warehouse }, w)),
  );
}

function pager(view: StockViewState): HTMLElement {
  const { pages } = view;
  const turn = (direction: 'previous' | 'next') => () => {
    pages[direction]();
    view.onPage();
  };
  return h(
    'span',
    { class: 'pager' },
    h('button', { type: 'button', disabled: !pages.hasPrevious, onclick: turn('previous') }, 'Previous'),
    h('span', { class: 'muted', 'data-testid': 'stock-page' }, `page ${pages.number}`),
    h('button', { type: 'button', disabled: !pages.hasNext, onclick: turn('next') }, 'Next'),
  );
}

/** The page of stock records the server gave (one warehouse or all), kept current by events. */
export function renderStock(container: HTMLElement, store: Store, view: StockViewState): void {
  const records = [...store.records.values()].sort(
    (a, b) => a.warehouseId.localeCompare(b.warehouseId) || a.productId.localeCompare(b.productId),
  );
  const rows = records.map((r) =>
    h(
      'tr',
      {
        'data-inventory-id': r.inventoryId,
        'data-key': `${r.productId}@${r.warehouseId}`,
        class: r.isOutOfStock ? 'out' : r.isLowStock ? 'low' : '',
        title: 'Click to adjust this record',
        onclick: () => view.onSelect(r),
      },
      h('td', {}, r.warehouseId),
      h('td', {}, r.productId),
      h('td', {}, r.variantId ?? '—'),
      h('td', {}, r.uomId ?? '—'),
      h('td', { class: 'num', 'data-testid': 'available' }, r.quantityAvailable),
      h('td', { class: 'num', 'data-testid': 'reserved' }, r.quantityReserved),
      h('td', { class: 'num' }, r.minimumStock),
      h('td', {}, status(r)),
      h('td', { class: 'muted' }, location(r)),
      h('td', { class: 'num muted' }, `v${r.version}`),
    ),
  );
  container.replaceChildren(
    h(
      'div',
      { class: 'panel-head' },
      h('h2', {}, `Stock (${records.length})`),
      warehousePicker(store, view),
      pager(view),
    ),
    h(
      'div',
      // A scrolling region must be reachable by keyboard.
      { class: 'table-scroll', tabindex: 0, role: 'region', 'aria-label': 'Stock records' },
      h(
        'table',
        { class: 'stock', 'data-testid': 'stock-table' },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ...[
              'Warehouse',
              'Product',
              'Variant',
              'UOM',
              'Available',
              'Reserved',
              'Min',
              'Status',
              'Location',
              'Version',
            ].map((title) => h('th', {}, title)),
          ),
        ),
        h('tbody', {}, rows.length ? rows : emptyState(view)),
      ),
    ),
  );
}
