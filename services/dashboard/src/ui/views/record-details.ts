import type { Batch, InventoryRecord, Movement } from '@inv/contracts';
import type { Api } from '../api.js';
import { h } from '../dom.js';
import { explainError } from '../errors.js';
import { showError } from '../message.js';

const DAY_MS = 86_400_000;

/**
 * The record picked in the stock table: its movement ledger (what changed it, from → to, by whom) and its
 * batches (what is left of each, and when it expires).
 */
export async function showRecordDetails(
  container: HTMLElement,
  api: Api,
  record: InventoryRecord,
): Promise<void> {
  const title = h('h2', {}, `History of ${record.productId} @ ${record.warehouseId}`);
  container.replaceChildren(title, h('p', { class: 'muted' }, 'Loading…'));
  try {
    const [movements, batches] = await Promise.all([
      api.movements(record.inventoryId),
      api.batches(record.inventoryId),
    ]);
    container.replaceChildren(
      title,
      h(
        'ol',
        { class: 'feed', 'data-testid': 'ledger', tabindex: 0, 'aria-label': 'Movements of this record' },
        ...movements.map((m) => movementLine(m)),
      ),
      h('h3', { class: 'spaced' }, 'Batches'),
      batches.length
        ? h('ul', { class: 'batches', 'data-testid': 'batches' }, ...batches.map((b) => batchLine(b)))
        : h('p', { class: 'muted', 'data-testid': 'batches' }, 'No batches: this stock has no expiry.'),
    );
  } catch (error) {
    const message = h('div', { class: 'message' });
    showError(message, explainError(error));
    container.replaceChildren(title, message);
  }
}

function movementLine(m: Movement): HTMLElement {
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

function batchLine(b: Batch): HTMLElement {
  const days = Math.ceil((Date.parse(b.expiresAt) - Date.now()) / DAY_MS);
  const when = days < 0 ? 'expired' : days === 0 ? 'expires today' : `expires in ${days} d`;
  return h(
    'li',
    { 'data-batch-number': b.batchNumber, class: days <= 7 ? 'soon' : '' },
    h('strong', {}, b.batchNumber),
    ` ${b.remaining} of ${b.quantity} left, `,
    h('time', { datetime: b.expiresAt, title: b.expiresAt }, new Date(b.expiresAt).toLocaleDateString()),
    ` (${when})`,
  );
}
