import type { AdjustRequest, InventoryRecord } from '@inv/contracts';
import { type Api, ApiError } from '../api.js';
import { formValues, h } from '../dom.js';
import { explainError } from '../errors.js';
import { type MessageKind, showError, showMessage } from '../message.js';
import { parseQuantity } from '../quantity.js';
import type { Store } from '../store.js';
import { PRODUCT_OPTIONS, WAREHOUSE_OPTIONS } from './pickers.js';

/** The fields that pick the record; the version pin belongs to the record they name. */
const KEY_FIELDS = ['warehouseId', 'productId', 'variantId', 'uomId'] as const;

interface Pin {
  key: string;
  version: number;
}

/**
 * The adjust form. Picking a row fills it and pins the row's version: if someone else changes the record
 * first, the service answers 409 and the form shows the new value and pins the new version. Editing any
 * key field drops the pin, so a version never travels to another record.
 */
export class AdjustForm {
  private readonly form: HTMLFormElement;
  private readonly message = h('div', { class: 'message', 'data-testid': 'adjust-message', role: 'status' });
  private pinned: Pin | undefined;

  constructor(
    container: HTMLElement,
    private readonly api: Api,
    private readonly store: Store,
  ) {
    const field = (name: string, label: string, attrs: Record<string, string | boolean> = {}) =>
      h('label', {}, label, h('input', { name, 'aria-label': label, ...attrs }));
    this.form = h(
      'form',
      { 'data-testid': 'adjust-form', onsubmit: (e: Event) => this.submit(e) },
      field('warehouseId', 'Warehouse', { required: true, placeholder: 'wh-001', list: WAREHOUSE_OPTIONS }),
      field('productId', 'Product', { required: true, placeholder: 'prod-123', list: PRODUCT_OPTIONS }),
      field('variantId', 'Variant', { placeholder: 'optional' }),
      field('uomId', 'UOM', { placeholder: 'optional' }),
      h(
        'label',
        {},
        'Movement',
        h(
          'select',
          { name: 'movementType', 'aria-label': 'Movement' },
          h('option', { value: 'in' }, 'in (+)'),
          h('option', { value: 'out' }, 'out (−)'),
          h('option', { value: 'adjustment' }, 'count (set to)'),
        ),
      ),
      field('quantity', 'Quantity', {
        inputmode: 'numeric',
        autocomplete: 'off',
        required: true,
        value: '1',
      }),
      field('reason', 'Reason', { placeholder: 'optional' }),
      h('div', { class: 'pinned muted', 'data-testid': 'pinned-version' }),
      h('button', { type: 'submit' }, 'Apply'),
    );
    for (const name of KEY_FIELDS) {
      (this.form.elements.namedItem(name) as HTMLInputElement).addEventListener('input', () =>
        this.unpinIfKeyChanged(),
      );
    }
    container.replaceChildren(h('h2', {}, 'Adjust stock'), this.form, this.message);
  }

  private key(): string {
    const v = formValues(this.form);
    return KEY_FIELDS.map((name) => v[name] ?? '').join('|');
  }

  private unpinIfKeyChanged(): void {
    if (this.pinned && this.pinned.key !== this.key()) this.pin(undefined);
  }

  select(record: InventoryRecord): void {
    for (const [name, value] of Object.entries({
      warehouseId: record.warehouseId,
      productId: record.productId,
      variantId: record.variantId ?? '',
      uomId: record.uomId ?? '',
    })) {
      (this.form.elements.namedItem(name) as HTMLInputElement).value = value;
    }
    this.pin(record.version);
    this.say('');
  }

  private pin(version: number | undefined): void {
    this.pinned = version === undefined ? undefined : { key: this.key(), version };
    const text = version === undefined ? '' : `Applying to version ${version}`;
    (this.form.querySelector('.pinned') as HTMLElement).textContent = text;
  }

  private say(text: string, kind: MessageKind = ''): void {
    showMessage(this.message, text, kind);
  }

  private async submit(event: Event): Promise<void> {
    event.preventDefault();
    this.unpinIfKeyChanged();
    const v = formValues(this.form);
    const quantity = parseQuantity(v.quantity ?? '', v.movementType === 'adjustment' ? 0 : 1);
    if (!quantity.ok) return this.say(quantity.message, 'error');
    const body: AdjustRequest = {
      warehouseId: v.warehouseId!,
      productId: v.productId!,
      variantId: v.variantId || null,
      uomId: v.uomId || null,
      movementType: v.movementType as AdjustRequest['movementType'],
      quantity: quantity.value,
      reason: v.reason || null,
      source: 'dashboard',
      ...(this.pinned === undefined ? {} : { expectedVersion: this.pinned.version }),
    };
    try {
      const result = await this.api.adjust(body);
      this.store.upsertRecord(result.inventory);
      this.pin(result.inventory.version);
      this.say(
        `Done: ${result.inventory.quantityAvailable} available (version ${result.inventory.version}).`,
        'ok',
      );
    } catch (error) {
      this.explain(error);
    }
  }

  private explain(error: unknown): void {
    const current =
      error instanceof ApiError ? (error.body.details?.current as InventoryRecord | undefined) : undefined;
    if (error instanceof ApiError && error.body.code === 'OPTIMISTIC_LOCK_FAILURE' && current) {
      this.store.upsertRecord(current);
      this.pin(current.version);
      this.say(
        `Changed by someone else: now ${current.quantityAvailable} available, ${current.quantityReserved} reserved ` +
          `(version ${current.version}). Check the quantity and apply again.`,
        'conflict',
      );
      return;
    }
    if (error instanceof ApiError && error.body.code === 'OPTIMISTIC_LOCK_FAILURE') {
      // Without the current record there is no version to retry with: drop the pin rather than fail forever.
      this.pin(undefined);
      showError(
        this.message,
        { ...explainError(error), text: 'Someone else changed this record; check it and apply again.' },
        'conflict',
      );
      return;
    }
    showError(this.message, explainError(error));
  }
}
