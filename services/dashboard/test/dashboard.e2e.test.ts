import { resolve } from 'node:path';
import { type Stack, startStack } from '@inv/testkit';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARTIFACTS, availableCell, launchBrowser, openDashboard, seriousAxeViolations } from './browser.js';

describe('dashboard in a real browser', () => {
  let stack: Stack;
  let browser: Browser;
  let first: Page;
  let second: Page;
  let token: string;

  const adjustOverRest = async (body: Record<string, unknown>) => {
    const response = await fetch(`${stack.inventory.url}/api/inventory/adjust`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ movementType: 'in', ...body }),
    });
    expect(response.status).toBe(200);
    return response.json();
  };

  const adjustForm = (page: Page) => page.getByTestId('adjust-form');

  /** Ship, Cancel, Reject and Receive ask first; the other steps apply at once. */
  const confirmIfAsked = async (page: Page) => {
    const dialog = page.locator('dialog[open]');
    if (await dialog.count()) await dialog.getByRole('button', { name: 'Confirm' }).click();
  };

  const transferOverRest = async (path: string, body?: Record<string, unknown>) => {
    const response = await fetch(`${stack.transfer.url}/api/transfers${path}`, {
      method: body ? 'POST' : 'GET',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: body ? JSON.stringify(body) : undefined,
    });
    expect(response.status).toBeLessThan(300);
    return response.json() as Promise<{ transferId: string; reservationStatus: string }>;
  };

  const applyAdjust = async (page: Page, fields: Record<string, string>) => {
    const form = adjustForm(page);
    for (const [label, value] of Object.entries(fields)) {
      await form.getByLabel(label, { exact: true }).fill(value);
    }
    await form.getByRole('button', { name: 'Apply' }).click();
  };

  beforeAll(async () => {
    stack = await startStack({ dashboard: true });
    token = await stack.token();
    browser = await launchBrowser();
    [first, second] = await Promise.all([
      openDashboard(browser, stack.dashboard!.url),
      openDashboard(browser, stack.dashboard!.url),
    ]);
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it('loads the sample from the empty state, and loading it again adds nothing', async () => {
    await first.getByTestId('load-demo').click();
    await expect.poll(() => second.locator('tr[data-key]').count(), { timeout: 60_000 }).toBe(90);
    await expect.poll(() => second.locator('article.card').count(), { timeout: 30_000 }).toBe(6);
    const states = await second
      .locator('article.card')
      .evaluateAll((cards) => cards.map((card) => card.getAttribute('data-status')));
    expect(new Set(states)).toEqual(
      new Set(['requested', 'approved', 'packed', 'shipped', 'completed', 'cancelled']),
    );
    expect(await second.locator('tr.low').count()).toBeGreaterThan(0);
    // Some sample reservations, shown under their records, a few of them expiring within minutes.
    const references = () =>
      second
        .locator('tr[data-reference^="demo-"]')
        .evaluateAll((rows) => [...new Set(rows.map((row) => row.getAttribute('data-reference')))]);
    await expect.poll(async () => (await references()).length, { timeout: 15_000 }).toBe(8);
    expect(await second.locator('tr.soon[data-reference^="demo-"]').count()).toBeGreaterThan(0);
    const again = await fetch(`${stack.dashboard!.url}/demo`, { method: 'POST' });
    expect(await again.json()).toEqual({ records: 0, batches: 0, transfers: 0, reservations: 0 });
    const held = await fetch(`${stack.inventory.url}/api/reservations?reference=demo-order-1001`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(((await held.json()) as { items: unknown[] }).items).toHaveLength(1);
    await first.reload();
    await expect.poll(() => first.locator('tr[data-key]').count(), { timeout: 15_000 }).toBe(90);
    expect(await first.locator('article.card').count()).toBe(6);
  });

  it('pages the stock through the server and filters it there, adding new records live on the last page', async () => {
    const paged = await openDashboard(browser, `${stack.dashboard!.url}/?pageSize=40`);
    const asked: string[] = [];
    paged.on('request', (request) => {
      if (new URL(request.url()).pathname === '/api/inventory') asked.push(new URL(request.url()).search);
    });
    try {
      const keys = () => paged.locator('tr[data-key]').evaluateAll((rows) => rows.map((r) => r.dataset.key));
      const pageNumber = paged.getByTestId('stock-page');
      const next = paged.getByRole('button', { name: 'Next' });
      const previous = paged.getByRole('button', { name: 'Previous' });
      await expect.poll(async () => (await keys()).length, { timeout: 15_000 }).toBe(40);
      const pageOne = await keys();
      await next.click();
      await expect.poll(async () => (await pageNumber.textContent()) ?? '').toBe('page 2');
      await expect.poll(async () => (await keys()).length).toBe(40);
      const pageTwo = await keys();
      expect(pageTwo.filter((key) => pageOne.includes(key))).toEqual([]);
      await next.click();
      await expect.poll(async () => (await keys()).length).toBe(10);
      expect(await next.isDisabled()).toBe(true);
      const seen = new Set([...pageOne, ...pageTwo, ...(await keys())]);
      expect(seen.size).toBe(90);

      // A record created now sorts last: it joins the last page live, not the first.
      await adjustOverRest({ productId: 'prod-paged', warehouseId: 'demo-east', quantity: 3 });
      await expect.poll(() => availableCell(paged, 'prod-paged', 'demo-east').textContent()).toBe('3');
      await previous.click();
      await previous.click();
      await expect.poll(async () => (await pageNumber.textContent()) ?? '').toBe('page 1');
      await expect.poll(async () => (await keys()).sort()).toEqual([...pageOne].sort());

      await paged.locator('#stock select[aria-label=Warehouse]').selectOption('demo-east');
      await expect.poll(async () => (await keys()).every((key) => key?.endsWith('@demo-east'))).toBe(true);
      expect((await keys()).length).toBeGreaterThan(0);
      expect(asked.some((query) => new URLSearchParams(query).get('warehouseId') === 'demo-east')).toBe(true);
    } finally {
      await paged.close();
    }
  });

  it('shows the recent events after a reload, replayed through the gateway from a cursor', async () => {
    await second.reload();
    await second.locator('[data-testid=connection-status] [data-state=open]').waitFor();
    await second.locator('li[data-type="transfer.completed"]').waitFor();
    const lines = await second.locator('ol.feed li').count();
    expect(lines).toBeGreaterThan(50);
    const ids = await second
      .locator('ol.feed li')
      .evaluateAll((items) => items.map((li) => li.dataset.eventId));
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('shows a stock change made in one tab in the other within a second', async () => {
    const form = adjustForm(first);
    await form.getByLabel('Warehouse', { exact: true }).fill('wh-east');
    await form.getByLabel('Product', { exact: true }).fill('prod-apple');
    await form.getByLabel('Movement').selectOption('in');
    await form.getByLabel('Quantity', { exact: true }).fill('42');
    await form.getByRole('button', { name: 'Apply' }).click();
    await expect.poll(() => first.getByTestId('adjust-message').textContent()).toContain('42 available');
    await availableCell(second, 'prod-apple', 'wh-east').waitFor({ timeout: 1_000 });
    await expect
      .poll(() => availableCell(second, 'prod-apple', 'wh-east').textContent(), { timeout: 1_000 })
      .toBe('42');
    await expect
      .poll(() =>
        second.locator('li[data-type="inventory.updated"]', { hasText: 'prod-apple' }).first().textContent(),
      )
      .toContain('available 0 → 42');
  });

  it('explains a conflict with the new value when someone else changed the record first', async () => {
    await first.locator('tr[data-key="prod-apple@wh-east"]').click();
    await adjustOverRest({ warehouseId: 'wh-east', productId: 'prod-apple', quantity: 3 });
    await adjustForm(first).getByLabel('Quantity', { exact: true }).fill('1');
    await adjustForm(first).getByRole('button', { name: 'Apply' }).click();
    await expect
      .poll(() => first.getByTestId('adjust-message').textContent())
      .toMatch(/Changed by someone else: now 45 available/);
  });

  it('shows a transfer moving through its states in the other tab', async () => {
    await adjustOverRest({ warehouseId: 'wh-west', productId: 'prod-pear', quantity: 10 });
    await first.getByLabel('From warehouse').fill('wh-west');
    await first.getByLabel('To warehouse').fill('wh-north');
    await first.getByLabel('Transfer product').fill('prod-pear');
    await first.getByLabel('Transfer quantity').fill('4');
    await first.getByRole('button', { name: 'Request transfer' }).click();
    const cardIn = (page: Page) => page.locator('article.card', { hasText: 'wh-west → wh-north' });
    await expect.poll(() => cardIn(second).getAttribute('data-status'), { timeout: 2_000 }).toBe('requested');

    const steps: [string, string][] = [
      ['Approve', 'approved'],
      ['Start picking', 'picking_started'],
      ['Pack', 'packed'],
      ['Ship', 'shipped'],
      ['Receive', 'received'],
      ['Complete', 'completed'],
    ];
    for (const [button, status] of steps) {
      const action = cardIn(first).getByRole('button', { name: button });
      await expect.poll(() => action.isEnabled(), { timeout: 5_000 }).toBe(true); // picking waits for the reservation
      await action.click();
      await confirmIfAsked(first);
      await expect.poll(() => cardIn(second).getAttribute('data-status'), { timeout: 2_000 }).toBe(status);
    }
    await expect
      .poll(() => second.locator('li[data-type="transfer.shipped"]').first().textContent())
      .toContain('shipped, 4 × prod-pear');
    await expect.poll(() => availableCell(second, 'prod-pear', 'wh-west').textContent()).toBe('6');
    await expect.poll(() => availableCell(second, 'prod-pear', 'wh-north').textContent()).toBe('4');
    await first.screenshot({ path: resolve(ARTIFACTS, 'dashboard-transfers.png'), fullPage: true });
  });

  it('catches up on a change made while the gateway was down, without a reload', async () => {
    const gateway = stack.gateways[0]!;
    await gateway.kill('SIGKILL');
    await expect
      .poll(() => second.locator('[data-testid=connection-status] [data-state]').getAttribute('data-state'))
      .not.toBe('open');
    await adjustOverRest({ warehouseId: 'wh-east', productId: 'prod-apple', quantity: 100 });
    await gateway.launch();
    await expect
      .poll(() => availableCell(second, 'prod-apple', 'wh-east').textContent(), { timeout: 15_000 })
      .toBe('145');
    await second.locator('[data-testid=connection-status] [data-state=open]').waitFor();
    await second.screenshot({ path: resolve(ARTIFACTS, 'dashboard.png'), fullPage: true });
    if (process.env.UPDATE_DOCS_SCREENSHOT) {
      await second.screenshot({
        path: resolve(import.meta.dirname, '../../../docs/dashboard.png'),
        fullPage: true,
      });
    }
  });

  it('clears the version pin when the warehouse changes, so Apply goes to the other record', async () => {
    await first.locator('tr[data-key="prod-apple@wh-east"]').click();
    // Picking a record also shows its movement ledger, each line from → to.
    await expect
      .poll(() => first.getByTestId('ledger').textContent(), { timeout: 5_000 })
      .toContain('available 0 → 42');
    await applyAdjust(first, { Quantity: '1' });
    await expect.poll(() => first.getByTestId('adjust-message').textContent()).toContain('available');
    await expect.poll(() => first.getByTestId('pinned-version').textContent()).toMatch(/version \d+/);
    await adjustForm(first).getByLabel('Warehouse', { exact: true }).fill('wh-south');
    await expect.poll(() => first.getByTestId('pinned-version').textContent()).toBe('');
    await applyAdjust(first, { Quantity: '5' });
    await expect.poll(() => availableCell(first, 'prod-apple', 'wh-south').textContent()).toBe('5');
    await expect.poll(() => first.getByTestId('adjust-message').textContent()).toContain('5 available');
  });

  it('accepts digits only in quantities and says the allowed range', async () => {
    const before = await availableCell(first, 'prod-apple', 'wh-south').textContent();
    await applyAdjust(first, { Warehouse: 'wh-south', Product: 'prod-apple', Quantity: '1e3' });
    await expect.poll(() => first.getByTestId('adjust-message').textContent()).toMatch(/digits only/);
    await applyAdjust(first, { Quantity: '99999999999999999999' });
    await expect
      .poll(() => first.getByTestId('adjust-message').textContent())
      .toMatch(/from 1 to 1,000,000,000/);
    expect(await availableCell(first, 'prod-apple', 'wh-south').textContent()).toBe(before);
  });

  it('replaces "approved" with the state the server reports when the stock is missing', async () => {
    await first.getByLabel('From warehouse').fill('wh-west');
    await first.getByLabel('To warehouse').fill('wh-south');
    await first.getByLabel('Transfer product').fill('prod-nothing-here');
    await first.getByLabel('Transfer quantity').fill('7');
    await first.getByRole('button', { name: 'Request transfer' }).click();
    const card = first.locator('article.card', { hasText: 'wh-west → wh-south' });
    await card.getByRole('button', { name: 'Approve' }).click();
    await expect.poll(() => card.getAttribute('data-status'), { timeout: 5_000 }).toBe('rejected');
    await expect.poll(() => first.getByTestId('transfer-message').textContent()).toMatch(/rejected/);
    expect(await first.getByTestId('transfer-message').textContent()).not.toMatch(/approved/);
  });

  it('serves a favicon and answers no asset with an error', async () => {
    const page = await browser.newPage();
    const failures: string[] = [];
    page.on('response', (response) => {
      if (response.status() >= 400) failures.push(`${response.status()} ${response.url()}`);
    });
    await page.goto(stack.dashboard!.url);
    await page.locator('[data-testid=connection-status] [data-state=open]').waitFor();
    expect(await page.locator('link[rel=icon]').count()).toBe(1);
    const icon = await page.request.get(new URL('/favicon.ico', stack.dashboard!.url).href);
    expect(icon.status()).toBe(200);
    expect(failures).toEqual([]);
    // The pickers are fed by GET /api/warehouses and /api/products through the dashboard's origin.
    await page.locator('#warehouse-options option[value="wh-north"]').waitFor({ state: 'attached' });
    await page.locator('#product-options option[value="prod-pear"]').waitFor({ state: 'attached' });
    await page.close();
  });

  it('keeps event types, reasons and every board column inside their boxes at each width', async () => {
    await first.locator('li[data-type="inventory.reservation_failed"]').first().waitFor();
    for (const width of [1920, 1400, 1024, 820, 390]) {
      await first.setViewportSize({ width, height: 1000 });
      const problems = await first.evaluate(() => {
        const found: string[] = [];
        const overlap = (a: DOMRect, b: DOMRect) =>
          a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1;
        for (const line of Array.from(document.querySelectorAll('ol.feed li'))) {
          const parts = Array.from(line.children);
          const [time, type, text] = parts.map((c) => c.getBoundingClientRect());
          const spills = parts.some((c) => c.scrollWidth > c.clientWidth + 1);
          if (spills || overlap(type!, text!) || overlap(time!, type!))
            found.push(`feed line ${line.textContent}`);
        }
        for (const card of Array.from(document.querySelectorAll<HTMLElement>('article.card'))) {
          if (card.scrollWidth > card.clientWidth + 1) found.push(`card spills: ${card.textContent}`);
        }
        const board = document.querySelector('.board')!.getBoundingClientRect();
        for (const column of Array.from(document.querySelectorAll('.column'))) {
          const box = column.getBoundingClientRect();
          if (box.right > board.right + 1 || box.left < board.left - 1)
            found.push(`column clipped: ${column.getAttribute('data-status')}`);
        }
        if (document.documentElement.scrollWidth > window.innerWidth + 1) found.push('page scrolls sideways');
        return found;
      });
      await first.screenshot({ path: resolve(ARTIFACTS, `dashboard-${width}.png`), fullPage: true });
      expect(problems, `at ${width}px`).toEqual([]);
    }
    await first.setViewportSize({ width: 1400, height: 1000 });
  });

  it('asks before shipping and books a short receipt with its reason on the card', async () => {
    await adjustOverRest({ warehouseId: 'wh-west', productId: 'prod-plum', quantity: 10 });
    const created = await transferOverRest('', {
      sourceWarehouseId: 'wh-west',
      destinationWarehouseId: 'wh-east',
      lines: [{ productId: 'prod-plum', quantity: 5 }],
    });
    const id = created.transferId;
    await transferOverRest(`/${id}/approve`, {});
    await expect.poll(async () => (await transferOverRest(`/${id}`)).reservationStatus).toBe('reserved');
    await transferOverRest(`/${id}/start-picking`, {});
    await transferOverRest(`/${id}/pack`, {});
    const card = first.locator(`article.card[data-transfer-id="${id}"]`);
    await expect.poll(() => card.getAttribute('data-status')).toBe('packed');

    await card.getByRole('button', { name: 'Ship' }).click();
    await first.locator('dialog[open]').getByRole('button', { name: 'Back' }).click();
    expect(await first.locator('dialog[open]').count()).toBe(0);
    expect(await card.getAttribute('data-status')).toBe('packed');
    await card.getByRole('button', { name: 'Ship' }).click();
    await first.locator('dialog[open]').getByRole('button', { name: 'Confirm' }).click();
    await expect.poll(() => card.getAttribute('data-status')).toBe('shipped');

    await card.getByRole('button', { name: 'Receive' }).click();
    const dialog = first.locator('dialog[open]');
    await dialog.getByLabel('Received of prod-plum (shipped 5)').fill('3');
    await dialog.getByRole('button', { name: 'Confirm' }).click();
    await expect.poll(() => dialog.getByRole('alert').textContent()).toContain('Give a reason');
    await dialog.getByLabel('Reason for a short receipt').fill('two crushed');
    await dialog.getByRole('button', { name: 'Confirm' }).click();
    await expect.poll(() => card.getAttribute('data-status')).toBe('received');
    await expect.poll(() => card.getByTestId('discrepancy').textContent()).toBe('2 missing');
    expect(await card.textContent()).toContain('Short: two crushed');
    await expect.poll(() => availableCell(second, 'prod-plum', 'wh-east').textContent()).toBe('3');
  });

  it('has no serious or critical accessibility violations (axe-core)', async () => {
    const violations = await seriousAxeViolations(first);
    expect(violations).toEqual([]);
  });
});
