import { h } from '../dom.js';
import type { Store } from '../store.js';

export function renderFeed(container: HTMLElement, store: Store): void {
  container.replaceChildren(
    h('h2', {}, 'Live events'),
    h(
      'ol',
      { class: 'feed', 'data-testid': 'event-feed', tabindex: 0, 'aria-label': 'Recent events' },
      ...store.feed.map((entry) =>
        h(
          'li',
          { 'data-event-id': entry.id, 'data-type': entry.type },
          h('time', {}, new Date(entry.at).toLocaleTimeString()),
          h('code', {}, entry.type),
          h('span', { title: entry.ref }, entry.text),
        ),
      ),
    ),
  );
}
