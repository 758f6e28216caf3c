import type { AdjustRequest, InventoryRecord } from '@inv/contracts';
import { type Api, ApiError } from '../api.js';
import { formValues, h } from '../dom.js';
import type { Store } from '../store.js';

/**
 * The adjust form. Picking a row fills it and pins the row's version: if someone else changes the record
 * first, the service answers 409 and the form shows the new value and pins the new version.
 */
export class AdjustForm {
  private readonly form: HTMLFormElement;
  private readonly message = h('div', { class: 'message', 'data-testid': 'adjust-message', role: 'status' });
  private pinnedVersion: number | undefined;

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
      field('warehouseId', 'Warehouse', { required: true, placeholder: 'wh-001' }),
      field('productId', 'Product', { required: true, placeholder: 'prod-123' }),
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
      field('quantity', 'Quantity', { type: 'number', min: '0', step: '1', required: true, value: '1' }),
      field('reason', 'Reason', { placeholder: 'optional' }),
      h('div', { class: 'pinned muted', 'data-testid': 'pinned-version' }),
      h('button', { type: 'submit' }, 'Apply'),
    );
    container.replaceChildren(h('h2', {}, 'Adjust stock'), this.form, this.message);
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
    this.pinnedVersion = version;
    const text = version === undefined ? '' : `Applying to version ${version}`;
    (this.form.querySelector('.pinned') as HTMLElement).textContent = text;
  }

  private say(text: string, kind: 'ok' | 'error' | 'conflict' | '' = ''): void {
    this.message.textContent = text;
    this.message.className = `message ${kind}`;
  }

  private async submit(event: Event): Promise<void> {
    event.preventDefault();
    const v = formValues(this.form);
    const body: AdjustRequest = {
      warehouseId: v.warehouseId!,
      productId: v.productId!,
      variantId: v.variantId || null,
      uomId: v.uomId || null,
      movementType: v.movementType as AdjustRequest['movementType'],
      quantity: Number(v.quantity),
      reason: v.reason || null,
      source: 'dashboard',
      ...(this.pinnedVersion === undefined ? {} : { expectedVersion: this.pinnedVersion }),
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
    this.say(...this.describe(error));
  }

  private describe(error: unknown): [string, 'error' | 'conflict'] {
    if (!(error instanceof ApiError)) return [`Could not reach the service: ${String(error)}`, 'error'];
    const current = error.body.details?.current as InventoryRecord | undefined;
    if (error.body.code === 'OPTIMISTIC_LOCK_FAILURE' && current) {
      this.store.upsertRecord(current);
      this.pin(current.version);
      return [
        `Changed by someone else: now ${current.quantityAvailable} available, ${current.quantityReserved} reserved ` +
          `(version ${current.version}). Check the quantity and apply again.`,
        'conflict',
      ];
    }
    if (error.body.code === 'OPTIMISTIC_LOCK_FAILURE') {
      return ['Too many people are changing this record right now; try again.', 'conflict'];
    }
    const field = error.body.field ? ` (${error.body.field})` : '';
    return [`${error.body.message}${field}`, 'error'];
  }
}
