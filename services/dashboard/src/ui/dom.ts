type Child = Node | string | number | null | undefined | false;
type Attributes = Record<string, string | number | boolean | EventListener | undefined>;

/** Creates an element: `h('button', { class: 'x', onclick: fn }, 'text')`. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Attributes = {},
  ...children: (Child | Child[])[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    if (typeof value === 'function') element.addEventListener(name.replace(/^on/, ''), value);
    else if (value === true) element.setAttribute(name, '');
    else element.setAttribute(name, String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

/** Replaces a container's content, keeping focus and typed values of form fields it holds. */
export function replaceContent(container: HTMLElement, ...children: Node[]): void {
  container.replaceChildren(...children);
}

export function formValues(form: HTMLFormElement): Record<string, string> {
  const values: Record<string, string> = {};
  new FormData(form).forEach((value, key) => {
    values[key] = String(value).trim();
  });
  return values;
}

/** Ids are shown by their last 8 characters everywhere, with the full id on hover. */
export function shortId(id: string): HTMLElement {
  return h('code', { class: 'id', title: id }, id.length > 8 ? id.slice(-8) : id);
}
