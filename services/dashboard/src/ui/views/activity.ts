import { h } from '../dom.js';

/**
 * The demo activity switch (only where the dashboard offers the demo login): a small steady flow of adjusts,
 * reservations and transfer steps made by the dashboard server, so the page visibly moves.
 */
export async function renderActivityToggle(container: HTMLElement): Promise<void> {
  const state = (await (await fetch('/demo/activity')).json()) as { running: boolean };
  const toggle = h('input', { type: 'checkbox', 'data-testid': 'activity-toggle', checked: state.running });
  toggle.addEventListener('change', async () => {
    toggle.disabled = true;
    const response = await fetch('/demo/activity', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ running: toggle.checked }),
    });
    const now = (await response.json()) as { running?: boolean };
    toggle.checked = now.running === true;
    toggle.disabled = false;
  });
  container.replaceChildren(h('label', { class: 'switch' }, toggle, 'Simulate activity'));
}
