import type { InventoryRecord, Movement } from '@inv/contracts';
import type { Api } from '../api.js';
import { h } from '../dom.js';
import { explainError } from '../errors.js';
import { showError } from '../message.js';

/** The movement ledger of the record picked in the stock table: what changed it, from → to, by whom. */
export async function showLedger(container: HTMLElement, api: Api, record: InventoryRecord): Promise<void> {
  const title = h('h2', {}, `History of ${record.productId} @ ${record.warehouseId}`);
  container.replaceChildren(title, h('p', { class: 'muted' }, 'Loading…'));
  try {
    const movements = await api.movements(record.inventoryId);
    container.replaceChildren(
      title,
      h(
        'ol',
        { class: 'feed', 'data-testid': 'ledger', tabindex: 0, 'aria-label': 'Movements of this record' },
        ...movements.map((m) => line(m)),
      ),
    );
  } catch (error) {
    const message = h('div', { class: 'message' });
    showError(message, explainError(error));
    container.replaceChildren(title, message);
  }
}

function line(m: Movement): HTMLElement {
  const change = m.quantityChange === 0 ? '' : ` ${m.quantityChange > 0 ? '+' : ''}${m.quantityChange}`;
  return h(
    'li',
    { 'data-movement-type': m.movementType },
    h('time', {}, new Date(m.createdAt).toLocaleString()),
    h('code', {}, m.movementType),
    h(
      'span',
      {},
      `${change} available ${m.availableBefore} → ${m.availableAfter}, reserved ${m.reservedBefore} → ${m.reservedAfter}`,
      m.reason ? ` — ${m.reason}` : '',
      ` (${m.actor})`,
    ),
  );
}
