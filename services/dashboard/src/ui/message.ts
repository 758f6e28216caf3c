import { h } from './dom.js';
import type { Explained } from './errors.js';

export type MessageKind = 'ok' | 'error' | 'conflict' | '';

/** A status line with an optional small details line under it (the service's raw message). */
export function showMessage(target: HTMLElement, text: string, kind: MessageKind, details = ''): void {
  target.className = `message ${kind}`;
  target.replaceChildren(text, details ? h('div', { class: 'details' }, details) : '');
}

export function showError(target: HTMLElement, explained: Explained, kind: MessageKind = 'error'): void {
  showMessage(target, explained.text, kind, explained.details);
}
