import type { Transfer, TransferAction, TransferStatus } from '@inv/contracts';
import { type Api, ApiError } from '../api.js';
import { formValues, h } from '../dom.js';
import type { Store } from '../store.js';

const COLUMNS: TransferStatus[] = [
  'requested',
  'approved',
  'picking_started',
  'packed',
  'shipped',
  'received',
  'completed',
  'rejected',
  'cancelled',
];

const ACTIONS: Partial<Record<TransferStatus, TransferAction[]>> = {
  requested: ['approve', 'reject', 'cancel'],
  approved: ['start-picking', 'cancel'],
  picking_started: ['pack', 'cancel'],
  packed: ['ship', 'cancel'],
  shipped: ['receive'],
  received: ['complete'],
};

const LABELS: Record<TransferAction, string> = {
  approve: 'Approve',
  reject: 'Reject',
  'start-picking': 'Start picking',
  pack: 'Pack',
  ship: 'Ship',
  receive: 'Receive',
  complete: 'Complete',
  cancel: 'Cancel',
};

/** The transfers board: one column per state, a card per transfer with the buttons of its next steps. */
export class TransfersBoard {
  private readonly board = h('div', { class: 'board', 'data-testid': 'transfers-board' });
  private readonly message = h('div', {
    class: 'message',
    'data-testid': 'transfer-message',
    role: 'status',
  });
  private readonly reason = h('input', {
    name: 'reason',
    'aria-label': 'Reason for reject or cancel',
    placeholder: 'reason (reject/cancel)',
  });

  constructor(
    container: HTMLElement,
    private readonly api: Api,
    private readonly store: Store,
  ) {
    const create = h(
      'form',
      { class: 'inline', 'data-testid': 'transfer-form', onsubmit: (e: Event) => this.create(e) },
      h('input', {
        name: 'sourceWarehouseId',
        'aria-label': 'From warehouse',
        placeholder: 'from wh',
        required: true,
      }),
      h('input', {
        name: 'destinationWarehouseId',
        'aria-label': 'To warehouse',
        placeholder: 'to wh',
        required: true,
      }),
      h('input', {
        name: 'productId',
        'aria-label': 'Transfer product',
        placeholder: 'product',
        required: true,
      }),
      h('input', {
        name: 'quantity',
        'aria-label': 'Transfer quantity',
        type: 'number',
        min: '1',
        value: '1',
        required: true,
      }),
      h('button', { type: 'submit' }, 'Request transfer'),
    );
    container.replaceChildren(
      h('div', { class: 'panel-head' }, h('h2', {}, 'Transfers'), create),
      h('div', { class: 'inline' }, this.reason, this.message),
      this.board,
    );
  }

  render(): void {
    const transfers = [...this.store.transfers.values()].sort((a, b) =>
      b.createdAt.localeCompare(a.createdAt),
    );
    this.board.replaceChildren(
      ...COLUMNS.map((status) =>
        h(
          'div',
          { class: 'column', 'data-status': status },
          h('h3', {}, status.replace('_', ' ')),
          ...transfers.filter((t) => t.status === status).map((t) => this.card(t)),
        ),
      ),
    );
  }

  private card(t: Transfer): HTMLElement {
    const waitingForStock = t.status === 'approved' && t.reservationStatus !== 'reserved';
    return h(
      'article',
      { class: 'card', 'data-transfer-id': t.transferId, 'data-status': t.status },
      h(
        'header',
        {},
        h('code', {}, t.transferId.slice(-8)),
        ` ${t.sourceWarehouseId} → ${t.destinationWarehouseId}`,
      ),
      h(
        'ul',
        {},
        ...t.lines.map((l) =>
          h(
            'li',
            {},
            `${l.quantity} × ${l.productId}`,
            l.receivedQuantity !== null ? ` (received ${l.receivedQuantity})` : '',
            (l.discrepancy ?? 0) > 0 ? h('span', { class: 'badge low' }, `${l.discrepancy} missing`) : '',
          ),
        ),
      ),
      h(
        'div',
        { class: 'muted' },
        `stock: ${t.reservationStatus}`,
        t.rejectionReason ? ` — ${t.rejectionReason}` : '',
      ),
      h(
        'div',
        { class: 'actions' },
        ...(ACTIONS[t.status] ?? []).map((action) =>
          h(
            'button',
            {
              'data-action': action,
              disabled: action === 'start-picking' && waitingForStock,
              title:
                action === 'start-picking' && waitingForStock
                  ? 'waiting for the stock reservation'
                  : undefined,
              onclick: () => this.transition(t, action),
            },
            LABELS[action],
          ),
        ),
      ),
    );
  }

  private async create(event: Event): Promise<void> {
    event.preventDefault();
    const form = event.target as HTMLFormElement;
    const v = formValues(form);
    await this.attempt(async () => {
      const transfer = await this.api.createTransfer({
        sourceWarehouseId: v.sourceWarehouseId,
        destinationWarehouseId: v.destinationWarehouseId,
        lines: [{ productId: v.productId, quantity: Number(v.quantity) }],
      });
      this.store.upsertTransfer(transfer);
      return `Transfer ${transfer.transferId.slice(-8)} requested.`;
    });
  }

  private async transition(t: Transfer, action: TransferAction): Promise<void> {
    const reason = this.reason.value.trim();
    const body: Record<string, unknown> = { expectedVersion: t.version };
    if (action === 'reject' || action === 'cancel') {
      if (!reason) return this.say('Give a reason to reject or cancel.', 'error');
      body.reason = reason;
    }
    if (action === 'receive') {
      body.lines = t.lines.map((l) => ({
        lineId: l.lineId,
        receivedQuantity: l.shippedQuantity ?? l.quantity,
      }));
    }
    await this.attempt(async () => {
      const updated = await this.api.transition(t.transferId, action, body);
      this.store.upsertTransfer(updated);
      return `Transfer ${t.transferId.slice(-8)}: ${updated.status}.`;
    });
  }

  private async attempt(run: () => Promise<string>): Promise<void> {
    try {
      this.say(await run(), 'ok');
    } catch (error) {
      if (error instanceof ApiError)
        this.say(`${error.body.message}${error.body.field ? ` (${error.body.field})` : ''}`, 'error');
      else this.say(`Could not reach the service: ${String(error)}`, 'error');
    }
  }

  private say(text: string, kind: 'ok' | 'error'): void {
    this.message.textContent = text;
    this.message.className = `message ${kind}`;
  }
}
