import type { Transfer, TransferAction, TransferStatus } from '@inv/contracts';
import type { Api } from '../api.js';
import { ask } from '../confirm.js';
import { formValues, h, shortId } from '../dom.js';
import { explainError, sentenceFor } from '../errors.js';
import { type MessageKind, showError, showMessage } from '../message.js';
import { parseQuantity } from '../quantity.js';
import type { Store } from '../store.js';
import { PRODUCT_OPTIONS, WAREHOUSE_OPTIONS } from './pickers.js';

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

/** Steps that cannot be undone ask first; reject and cancel ask for the reason in the same dialog. */
const CONFIRMED: Partial<Record<TransferAction, string>> = {
  ship: 'Ship this transfer? The stock leaves the source warehouse.',
  cancel: 'Cancel this transfer? Any reserved stock is released.',
  reject: 'Reject this transfer request?',
};

/**
 * The transfers board: one column per state, a card per transfer with the buttons of its next steps. The
 * message under the form follows the last transfer it spoke about: when the server moves it on (a rejected
 * reservation after "approved"), the message says the new state.
 */
export class TransfersBoard {
  private readonly board = h('div', { class: 'board', 'data-testid': 'transfers-board' });
  private readonly message = h('div', {
    class: 'message',
    'data-testid': 'transfer-message',
    role: 'status',
  });
  private reported: { transferId: string; status: TransferStatus } | undefined;

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
        list: WAREHOUSE_OPTIONS,
        required: true,
      }),
      h('input', {
        name: 'destinationWarehouseId',
        'aria-label': 'To warehouse',
        placeholder: 'to wh',
        list: WAREHOUSE_OPTIONS,
        required: true,
      }),
      h('input', {
        name: 'productId',
        'aria-label': 'Transfer product',
        placeholder: 'product',
        list: PRODUCT_OPTIONS,
        required: true,
      }),
      h('input', {
        name: 'quantity',
        'aria-label': 'Transfer quantity',
        inputmode: 'numeric',
        autocomplete: 'off',
        value: '1',
        required: true,
      }),
      h('button', { type: 'submit' }, 'Request transfer'),
    );
    container.replaceChildren(
      h('div', { class: 'panel-head' }, h('h2', {}, 'Transfers'), create),
      this.message,
      this.board,
    );
  }

  render(): void {
    this.followReported();
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

  private followReported(): void {
    if (!this.reported) return;
    const current = this.store.transfers.get(this.reported.transferId);
    if (!current || current.status === this.reported.status) return;
    const why = current.rejectionReason ? `: ${sentenceFor(current.rejectionReason)}` : '';
    this.report(current, current.status === 'rejected' ? 'error' : 'ok', why);
  }

  private report(t: Transfer, kind: MessageKind, suffix = ''): void {
    this.reported = { transferId: t.transferId, status: t.status };
    showMessage(
      this.message,
      `Transfer ${t.transferId.slice(-8)} is now ${t.status.replace('_', ' ')}${suffix}.`,
      kind,
    );
  }

  private card(t: Transfer): HTMLElement {
    const waitingForStock = t.status === 'approved' && t.reservationStatus !== 'reserved';
    const receipt = t.history.find((step) => step.to === 'received');
    return h(
      'article',
      { class: 'card', 'data-transfer-id': t.transferId, 'data-status': t.status },
      h(
        'header',
        {},
        shortId(t.transferId),
        h('span', {}, ` ${t.sourceWarehouseId} → ${t.destinationWarehouseId}`),
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
            (l.discrepancy ?? 0) > 0
              ? h('span', { class: 'badge low', 'data-testid': 'discrepancy' }, `${l.discrepancy} missing`)
              : '',
          ),
        ),
      ),
      t.hasDiscrepancy && receipt?.reason ? h('div', { class: 'muted' }, `Short: ${receipt.reason}`) : '',
      h(
        'div',
        { class: 'muted' },
        `stock: ${t.reservationStatus}`,
        t.rejectionReason
          ? h('span', { title: t.rejectionReason }, ` — ${sentenceFor(t.rejectionReason)}`)
          : '',
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
    const quantity = parseQuantity(v.quantity ?? '', 1);
    if (!quantity.ok) return showMessage(this.message, quantity.message, 'error');
    await this.attempt(async () => {
      const transfer = await this.api.createTransfer({
        sourceWarehouseId: v.sourceWarehouseId,
        destinationWarehouseId: v.destinationWarehouseId,
        lines: [{ productId: v.productId, quantity: quantity.value }],
      });
      this.store.upsertTransfer(transfer);
      return transfer;
    });
  }

  /** The body of a step, after asking where the step needs a confirmation, a reason or received quantities. */
  private async bodyFor(t: Transfer, action: TransferAction): Promise<Record<string, unknown> | null> {
    const body: Record<string, unknown> = { expectedVersion: t.version };
    if (action === 'receive') return this.askReceipt(t, body);
    const question = CONFIRMED[action];
    if (!question) return body;
    const needsReason = action === 'reject' || action === 'cancel';
    const answer = await ask(
      question,
      needsReason
        ? [h('label', {}, 'Reason', h('input', { name: 'reason', required: true, 'aria-label': 'Reason' }))]
        : [h('p', {}, `${t.transferId.slice(-8)}: ${t.sourceWarehouseId} → ${t.destinationWarehouseId}`)],
      (v) => (needsReason && !v.reason ? 'Give a reason.' : null),
    );
    if (!answer) return null;
    return needsReason ? { ...body, reason: answer.reason } : body;
  }

  private async askReceipt(t: Transfer, body: Record<string, unknown>) {
    const shipped = (l: Transfer['lines'][number]) => l.shippedQuantity ?? l.quantity;
    const answer = await ask(
      'Receive this transfer',
      [
        ...t.lines.map((l) =>
          h(
            'label',
            {},
            `Received of ${l.productId} (shipped ${shipped(l)})`,
            h('input', { name: `line:${l.lineId}`, value: String(shipped(l)), inputmode: 'numeric' }),
          ),
        ),
        h('label', {}, 'Reason for a short receipt', h('input', { name: 'reason' })),
      ],
      (v) => {
        for (const l of t.lines) {
          const parsed = parseQuantity(v[`line:${l.lineId}`] ?? '', 0);
          if (!parsed.ok) return parsed.message;
          if (parsed.value > shipped(l)) return `At most ${shipped(l)} of ${l.productId} were shipped.`;
        }
        const short = t.lines.some((l) => Number(v[`line:${l.lineId}`]) < shipped(l));
        return short && !v.reason ? 'Give a reason for the short receipt.' : null;
      },
    );
    if (!answer) return null;
    return {
      ...body,
      lines: t.lines.map((l) => ({ lineId: l.lineId, receivedQuantity: Number(answer[`line:${l.lineId}`]) })),
      ...(answer.reason ? { reason: answer.reason } : {}),
    };
  }

  private async transition(t: Transfer, action: TransferAction): Promise<void> {
    const body = await this.bodyFor(t, action);
    if (!body) return;
    await this.attempt(async () => {
      const updated = await this.api.transition(t.transferId, action, body);
      this.store.upsertTransfer(updated);
      return updated;
    });
  }

  private async attempt(run: () => Promise<Transfer>): Promise<void> {
    try {
      const transfer = await run();
      this.report(this.store.transfers.get(transfer.transferId) ?? transfer, 'ok');
    } catch (error) {
      this.reported = undefined;
      showError(this.message, explainError(error));
    }
  }
}
