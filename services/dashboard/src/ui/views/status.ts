import type { ConnectionState } from '@inv/client';
import { h } from '../dom.js';
import type { Store } from '../store.js';

const LABELS: Record<ConnectionState, string> = {
  connecting: 'Connecting…',
  open: 'Live',
  reconnecting: 'Reconnecting — will catch up',
  closed: 'Offline',
};

export function renderStatus(container: HTMLElement, store: Store): void {
  container.replaceChildren(
    h('span', { class: `dot ${store.connection}` }),
    h('span', { 'data-state': store.connection }, LABELS[store.connection]),
  );
}
