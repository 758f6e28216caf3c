import type { Api } from '../api.js';
import { ask } from '../confirm.js';
import { h, shortId } from '../dom.js';
import { explainError } from '../errors.js';
import { showError, showMessage } from '../message.js';
import type { HeldLine } from '../reservation-lines.js';
import type { Store } from '../store.js';

/** Under this much time left a hold is shown as expiring soon. */
const SOON_MS = 5 * 60_000;

/** "4:05" under an hour, "3 h 20 m" under a day, "2 d 4 h" beyond; "due" once past (the sweeper is on it). */
export function timeLeft(expiresAt: string, now = Date.now()): string {
  const ms = Date.parse(expiresAt) - now;
  if (ms <= 0) return 'due';
  const seconds = Math.ceil(ms / 1000);
  if (seconds < 3600) return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
  const hours = Math.floor(seconds / 3600);
  if (hours < 24) return `${hours} h ${Math.floor((seconds % 3600) / 60)} m`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

/**
 * Order reservations per stock record: reference, quantity, time left (counting down every second) and
 * status, live from the reservation events. A manager can release an active one, with a reason.
 */
export class ReservationsPanel {
  private readonly message = h('div', {
    class: 'message',
    'data-testid': 'reservation-message',
    role: 'status',
  });
  private readonly body = h('div', {});
  private readonly title = h('h2', {}, 'Reservations');

  constructor(
    container: HTMLElement,
    private readonly api: Api,
    private readonly store: Store,
    private readonly canRelease: boolean,
  ) {
    container.replaceChildren(this.title, this.message, this.body);
    // The countdown changes text only: no re-render, so focus and hover stay where they are.
    setInterval(() => this.tick(), 1_000);
  }

  render(): void {
    const groups = this.store.reservations.byRecord();
    this.title.textContent = `Reservations (${this.store.reservations.activeCount} active)`;
    if (groups.length === 0) {
      this.body.replaceChildren(h('p', { class: 'muted' }, 'No stock is held for orders or carts.'));
      return;
    }
    this.body.replaceChildren(
      h(
        'div',
        { class: 'table-scroll short', tabindex: 0, role: 'region', 'aria-label': 'Reservations per record' },
        h(
          'table',
          { class: 'stock reservations', 'data-testid': 'reservations' },
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              ...['Reference', 'Qty', 'Time left', 'Status', 'Action'].map((title) =>
                h(
                  'th',
                  { scope: 'col', class: title === 'Qty' || title === 'Time left' ? 'num' : '' },
                  title,
                ),
              ),
            ),
          ),
          ...groups.map((group) =>
            h(
              'tbody',
              { 'data-inventory-id': group.inventoryId },
              h(
                'tr',
                { class: 'group' },
                h('th', { colspan: 5, scope: 'rowgroup' }, `${group.productId} @ ${group.warehouseId}`),
              ),
              ...group.lines.map((line) => this.row(line)),
            ),
          ),
        ),
      ),
    );
  }

  private row(line: HeldLine): HTMLElement {
    const active = line.status === 'active';
    const left = Date.parse(line.expiresAt) - Date.now();
    return h(
      'tr',
      {
        'data-reservation-id': line.reservationId,
        'data-reference': line.reference,
        'data-status': line.status,
        class: active && left < SOON_MS ? 'soon' : '',
      },
      h('td', { class: 'reference', title: line.reservationId }, line.reference),
      h('td', { class: 'num' }, line.quantity),
      h(
        'td',
        { class: 'num', 'data-testid': 'time-left', 'data-expires-at': active ? line.expiresAt : undefined },
        active ? timeLeft(line.expiresAt) : '—',
      ),
      h('td', { 'data-testid': 'status' }, h('span', { class: `badge ${line.status}` }, line.status)),
      h(
        'td',
        {},
        active && this.canRelease
          ? h('button', { type: 'button', class: 'small', onclick: () => this.release(line) }, 'Release')
          : '',
      ),
    );
  }

  private tick(): void {
    const now = Date.now();
    for (const cell of this.body.querySelectorAll<HTMLElement>('[data-expires-at]')) {
      const expiresAt = cell.dataset.expiresAt!;
      cell.textContent = timeLeft(expiresAt, now);
      cell.parentElement?.classList.toggle('soon', Date.parse(expiresAt) - now < SOON_MS);
    }
  }

  private async release(line: HeldLine): Promise<void> {
    const others = line.linesInReservation > 1 ? ` and its ${line.linesInReservation - 1} other line(s)` : '';
    const answer = await ask(
      `Release reservation ${line.reference}?`,
      [
        h(
          'p',
          {},
          shortId(line.reservationId),
          ` ${line.quantity} × ${line.productId} @ ${line.warehouseId}${others} go back to available stock.`,
        ),
        h('label', {}, 'Reason', h('input', { name: 'reason', 'aria-label': 'Reason' })),
      ],
      (v) => (v.reason ? null : 'Give a reason.'),
    );
    if (!answer) return;
    try {
      const released = await this.api.releaseReservation(line.reservationId, answer.reason!);
      this.store.reservations.applyReservation(released);
      this.store.changed();
      showMessage(this.message, `Released ${released.reference}: ${released.status}.`, 'ok');
    } catch (error) {
      showError(this.message, explainError(error));
    }
  }
}
