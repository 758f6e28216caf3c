import { InventoryClient } from '@inv/client';
import { decodeCursor, encodeCursor } from '@inv/contracts';
import { Api } from './api.js';
import { rolesOf } from './session.js';
import { StockPages } from './stock-pages.js';
import { Store } from './store.js';
import { renderActivityToggle } from './views/activity.js';
import { AdjustForm } from './views/adjust.js';
import { renderFeed } from './views/feed.js';
import { renderPickers } from './views/pickers.js';
import { showRecordDetails } from './views/record-details.js';
import { ReservationsPanel } from './views/reservations.js';
import { renderStatus } from './views/status.js';
import { renderStock, type StockViewState } from './views/stock.js';
import { TransfersBoard } from './views/transfers.js';

/** How many events back the feed starts when the page opens. */
const HISTORY = 100;

interface DashboardConfig {
  gatewayUrl: string;
  demoLogin: boolean;
  /** Roles the dashboard server lets release a reservation. */
  releaseRoles: string[];
}

const byId = (id: string) => document.getElementById(id) as HTMLElement;

async function login(config: DashboardConfig): Promise<string | null> {
  const fromUrl = new URLSearchParams(location.search).get('token');
  if (fromUrl) return fromUrl;
  if (!config.demoLogin) return null;
  const response = await fetch('/session', { method: 'POST' });
  return response.ok ? ((await response.json()) as { token: string }).token : null;
}

/** Records per stock page: 100, or `?pageSize=` (5–500) for a smaller or larger view. */
function stockPageSize(): number {
  const asked = Number(new URLSearchParams(location.search).get('pageSize'));
  return Number.isInteger(asked) && asked >= 5 && asked <= 500 ? asked : 100;
}

async function start(): Promise<void> {
  const config = (await (await fetch('/config.json')).json()) as DashboardConfig;
  const token = await login(config);
  const api = new Api(() => token);
  const store = new Store();
  const adjust = new AdjustForm(byId('adjust'), api, store);
  const board = new TransfersBoard(byId('transfers'), api, store);
  const canRelease = rolesOf(token).some((role) => config.releaseRoles.includes(role));
  const reservations = new ReservationsPanel(byId('reservations'), api, store, canRelease);
  const pages = new StockPages(stockPageSize());
  store.admitsRecord = (record) => pages.admits(record);
  let stockLoads = 0;
  /** The stock page asked for, or null once another was asked for: a slower answer to an earlier click is dropped. */
  const fetchStock = async () => {
    const load = ++stockLoads;
    const page = await api.inventoryPage(pages.query);
    return load === stockLoads ? page : null;
  };
  const showStock = (page: Awaited<ReturnType<typeof fetchStock>>) => {
    if (!page) return;
    pages.nextCursor = page.nextCursor;
    store.replaceRecords(page.items);
  };
  const loadStock = async () => showStock(await fetchStock());
  const stockView: StockViewState = {
    pages,
    onPage: () => void loadStock(),
    onSelect: (record) => {
      adjust.select(record);
      void showRecordDetails(byId('ledger'), api, record);
    },
  };
  if (config.demoLogin) {
    stockView.onLoadDemo = (button) => {
      button.disabled = true;
      button.textContent = 'Loading sample…';
      // Events bring the sample in as it is booked; a reload afterwards fills in anything missed.
      void fetch('/demo', { method: 'POST' }).then(() => reload());
    };
    void renderActivityToggle(byId('demo-controls'));
  }

  store.onChange(() => {
    renderStatus(byId('status'), store);
    renderStock(byId('stock'), store, stockView);
    renderFeed(byId('feed'), store);
    renderPickers(store);
    board.render();
    reservations.render();
  });

  const reload = async () => {
    const [stock, transfers, warehouses, products, held] = await Promise.all([
      fetchStock(),
      api.recentTransfers(),
      api.catalog('warehouses'),
      api.catalog('products'),
      api.activeReservations(),
    ]);
    store.catalog = { warehouses, products };
    for (const reservation of held) store.reservations.applyReservation(reservation);
    showStock(stock);
    store.replaceTransfers(transfers);
  };

  // Subscribe before loading, so nothing that happens during the load is missed; versions keep the newest.
  const client = new InventoryClient({
    url: config.gatewayUrl,
    token: () => token,
    session: { storage: sessionStorage },
  });
  client.on('state', (state) => store.setConnection(state));
  const follow = { onReset: () => void reload() };
  let unsubscribe = client.subscribe('global', (event) => store.apply(event), follow);
  // History through the gateway: once the first `subscribed` says where the stream is, subscribe again from a
  // cursor HISTORY events earlier. The replay fills the feed (after a reload too); records and transfers only
  // move forward by version, and the feed skips ids it has, so nothing shows twice or goes back.
  let historyAsked = false;
  client.on('subscribed', ({ channel, cursor }) => {
    if (channel !== 'global' || historyAsked) return;
    historyAsked = true;
    const position = decodeCursor(cursor);
    if (!position || position.seq === 0) return;
    const from = encodeCursor({ seq: Math.max(0, position.seq - HISTORY), epoch: position.epoch });
    unsubscribe();
    unsubscribe = client.subscribe('global', (event) => store.apply(event), { ...follow, cursor: from });
  });
  client.connect();
  await reload();
  (window as unknown as { inventoryClient: InventoryClient }).inventoryClient = client;
}

void start();
