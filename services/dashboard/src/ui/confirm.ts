import { formValues, h } from './dom.js';

/**
 * A modal question: the fields, an error line and Back / Confirm. Resolves with the form's values once
 * `validate` accepts them, or null when the person backs out (Back, Escape).
 */
export function ask(
  title: string,
  fields: Node[],
  validate: (values: Record<string, string>) => string | null = () => null,
): Promise<Record<string, string> | null> {
  return new Promise((resolve) => {
    let settled = false;
    const error = h('div', { class: 'message error', role: 'alert' });
    const dialog = h('dialog', { 'aria-label': title });
    const form = h(
      'form',
      {},
      h('h2', {}, title),
      ...fields,
      error,
      h(
        'div',
        { class: 'actions' },
        h('button', { type: 'button', class: 'secondary', onclick: () => dialog.close() }, 'Back'),
        h('button', { type: 'submit' }, 'Confirm'),
      ),
    );
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const values = formValues(form);
      const problem = validate(values);
      if (problem) {
        error.textContent = problem;
        return;
      }
      settled = true;
      dialog.close();
      resolve(values);
    });
    dialog.addEventListener('close', () => {
      dialog.remove();
      if (!settled) resolve(null);
    });
    dialog.append(form);
    document.body.append(dialog);
    dialog.showModal();
  });
}
