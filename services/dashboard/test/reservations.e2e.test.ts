import { resolve } from 'node:path';
import { type Stack, startStack } from '@inv/testkit';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARTIFACTS, availableCell, launchBrowser, openDashboard, seriousAxeViolations } from './browser.js';

/** Reservations, record details and the demo activity simulator, in Chromium against the whole stack. */
describe('dashboard reservations, record details and demo activity', () => {
  let stack: Stack;
  let browser: Browser;
  let manager: Page;
  let watcher: Page;
  let token: string;

  /** A REST call through the dashboard server's origin, as the page makes it. */
  const viaDashboard = async (method: string, path: string, body?: unknown, bearer = token) => {
    const response = await fetch(`${stack.dashboard!.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${bearer}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    // biome-ignore lint/suspicious/noExplicitAny: response bodies of several shapes
    return { status: response.status, body: (await response.json()) as any };
  };

  const stock = async (warehouseId: string, productId: string, quantity: number) => {
    const done = await viaDashboard('POST', '/api/inventory/adjust', {
      warehouseId,
      productId,
      movementType: 'in',
      quantity,
    });
    expect(done.status).toBe(200);
    return done.body.inventory.inventoryId as string;
  };

  const reserve = async (reference: string, lines: Record<string, unknown>[], expiresInSeconds = 600) => {
    const made = await viaDashboard('POST', '/api/reservations', { reference, lines, expiresInSeconds });
    expect(made.status).toBe(201);
    return made.body.reservationId as string;
  };

  const row = (page: Page, reference: string) => page.locator(`tr[data-reference="${reference}"]`);

  beforeAll(async () => {
    stack = await startStack({ dashboard: true, env: { DASHBOARD_ACTIVITY_INTERVAL_MS: '200' } });
    token = await stack.token();
    browser = await launchBrowser();
    [manager, watcher] = await Promise.all([
      openDashboard(browser, stack.dashboard!.url),
      openDashboard(browser, stack.dashboard!.url),
    ]);
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it('shows a reservation live under its record with reference, quantity, a time left that counts down and status', async () => {
    await stock('wh-r1', 'prod-cart', 10);
    await reserve('order-e2e-1', [{ warehouseId: 'wh-r1', productId: 'prod-cart', quantity: 3 }], 600);
    const line = row(watcher, 'order-e2e-1');
    await line.waitFor({ timeout: 2_000 });
    const group = watcher.locator('tbody', { has: line });
    expect(await group.locator('th').textContent()).toBe('prod-cart @ wh-r1');
    expect(await line.locator('td').nth(1).textContent()).toBe('3');
    expect(await line.getByTestId('status').textContent()).toBe('active');
    const first = await line.getByTestId('time-left').textContent();
    expect(first).toMatch(/^(9:[0-5]\d|10:00)$/);
    await expect.poll(() => line.getByTestId('time-left').textContent(), { timeout: 3_000 }).not.toBe(first);
    await expect.poll(() => availableCell(watcher, 'prod-cart', 'wh-r1').textContent()).toBe('7');
    // Loaded on open as well: a page opened now lists it from GET /api/reservations.
    const late = await openDashboard(browser, stack.dashboard!.url);
    await row(late, 'order-e2e-1').waitFor();
    await late.close();
  });

  it('shows a reservation as expired once the sweeper releases it', async () => {
    await reserve('order-e2e-short', [{ warehouseId: 'wh-r1', productId: 'prod-cart', quantity: 1 }], 1);
    const line = row(watcher, 'order-e2e-short');
    await line.waitFor({ timeout: 2_000 });
    await expect.poll(() => line.getByTestId('status').textContent(), { timeout: 15_000 }).toBe('expired');
    expect(await line.getByRole('button', { name: 'Release' }).count()).toBe(0);
  });

  it('lets a manager release a reservation after confirming with a reason, and the other tab sees it', async () => {
    const id = await reserve('order-e2e-2', [{ warehouseId: 'wh-r1', productId: 'prod-cart', quantity: 2 }]);
    await expect.poll(() => availableCell(watcher, 'prod-cart', 'wh-r1').textContent()).toBe('5');
    const line = row(manager, 'order-e2e-2');
    await line.getByRole('button', { name: 'Release' }).click();
    const dialog = manager.locator('dialog[open]');
    await dialog.getByRole('button', { name: 'Confirm' }).click();
    await expect.poll(() => dialog.getByRole('alert').textContent()).toContain('Give a reason');
    await dialog.getByLabel('Reason').fill('customer called');
    await dialog.getByRole('button', { name: 'Confirm' }).click();
    await expect.poll(() => row(watcher, 'order-e2e-2').getByTestId('status').textContent()).toBe('released');
    await expect.poll(() => availableCell(watcher, 'prod-cart', 'wh-r1').textContent()).toBe('7');
    const stored = await viaDashboard('GET', `/api/reservations/${id}`);
    expect(stored.body).toMatchObject({ status: 'released', releaseNote: 'customer called' });
    expect(await manager.getByTestId('reservation-message').textContent()).toContain('Released order-e2e-2');
  });

  it('offers no Release to a clerk, and the dashboard server refuses a clerk or viewer release', async () => {
    const id = await reserve('order-e2e-3', [{ warehouseId: 'wh-r1', productId: 'prod-cart', quantity: 1 }]);
    const clerkToken = await stack.token({ roles: ['clerk'] });
    const clerk = await openDashboard(browser, `${stack.dashboard!.url}/?token=${clerkToken}`);
    await row(clerk, 'order-e2e-3').waitFor();
    expect(await row(clerk, 'order-e2e-3').getByTestId('status').textContent()).toBe('active');
    expect(await clerk.getByRole('button', { name: 'Release' }).count()).toBe(0);
    await clerk.close();

    const byClerk = await viaDashboard(
      'POST',
      `/api/reservations/${id}/release`,
      { reason: 'x' },
      clerkToken,
    );
    expect(byClerk.status).toBe(403);
    expect(byClerk.body.code).toBe('FORBIDDEN');
    const viewerToken = await stack.token({ roles: ['viewer'] });
    const byViewer = await viaDashboard(
      'POST',
      `/api/reservations/${id}/release`,
      { reason: 'x' },
      viewerToken,
    );
    expect(byViewer.status).toBe(403);
    // The clerk may still read it through the dashboard, and it is still held.
    const seen = await viaDashboard('GET', `/api/reservations/${id}`, undefined, clerkToken);
    expect(seen).toMatchObject({ status: 200, body: { status: 'active' } });
  });

  it("shows a clicked record's movement ledger and its batches, soonest expiry first", async () => {
    const inventoryId = await stock('wh-r2', 'prod-milk', 4);
    const inDays = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString();
    for (const [batchNumber, days] of [
      ['LOT-late', 90],
      ['LOT-soon', 3],
    ] as const) {
      const added = await viaDashboard('POST', `/api/inventory/${inventoryId}/batches`, {
        batchNumber,
        quantity: 6,
        expiresAt: inDays(days),
      });
      expect(added.status).toBe(201);
    }
    await manager.locator('tr[data-key="prod-milk@wh-r2"]').click();
    await expect
      .poll(() => manager.getByTestId('ledger').textContent(), { timeout: 5_000 })
      .toContain('available 4 → 10');
    const batches = manager.getByTestId('batches').locator('li');
    await expect.poll(() => batches.count()).toBe(2);
    expect(await batches.evaluateAll((items) => items.map((li) => li.dataset.batchNumber))).toEqual([
      'LOT-soon',
      'LOT-late',
    ]);
    expect(await batches.first().textContent()).toMatch(/6 of 6 left, .*\(expires in 3 d\)/);
  });

  it('keeps the reservations and record details inside the page at 390 and 1920 px, with no axe violations', async () => {
    for (const width of [390, 1920]) {
      await manager.setViewportSize({ width, height: 1000 });
      const problems = await manager.evaluate(() => {
        const found: string[] = [];
        if (document.documentElement.scrollWidth > window.innerWidth + 1) found.push('page scrolls sideways');
        for (const id of ['reservations', 'ledger']) {
          const panel = document.getElementById(id)!;
          if (panel.scrollWidth > panel.clientWidth + 1) found.push(`${id} spills`);
          if (panel.getBoundingClientRect().right > window.innerWidth + 1) found.push(`${id} is cut off`);
        }
        return found;
      });
      await manager.screenshot({
        path: resolve(ARTIFACTS, `dashboard-reservations-${width}.png`),
        fullPage: true,
      });
      expect(problems, `at ${width}px`).toEqual([]);
    }
    await manager.setViewportSize({ width: 1400, height: 1000 });
    const violations = await seriousAxeViolations(manager, ['#reservations', '#ledger', 'header']);
    expect(violations).toEqual([]);
  });

  it('simulates adjusts, reservations and transfers only while switched on', async () => {
    expect((await viaDashboard('GET', '/demo/activity')).body.running).toBe(false);
    const toggle = manager.getByTestId('activity-toggle');
    expect(await toggle.isChecked()).toBe(false);
    const updates = () => watcher.locator('li[data-type="inventory.updated"]').count();
    const before = await updates();
    await toggle.check();
    await expect
      .poll(() => watcher.locator('tr[data-reference^="sim-"]').count(), { timeout: 10_000 })
      .toBeGreaterThan(0);
    await expect.poll(() => watcher.locator('article.card').count(), { timeout: 10_000 }).toBeGreaterThan(0);
    await expect.poll(updates, { timeout: 10_000 }).toBeGreaterThan(before + 2);

    await toggle.uncheck();
    // The switch stays disabled until the server has stopped, after the step under way (if any) finished.
    await expect.poll(() => toggle.isEnabled()).toBe(true);
    expect((await viaDashboard('GET', '/demo/activity')).body.running).toBe(false);
    // What the simulator books directly: its step count, reservations and transfers (record versions may
    // still move a moment after, from the transfer saga's own reactions to the last step).
    const booked = async () => {
      const [activity, reservations, transfers] = await Promise.all([
        viaDashboard('GET', '/demo/activity'),
        viaDashboard('GET', '/api/reservations?limit=200'),
        viaDashboard('GET', '/api/transfers?limit=200'),
      ]);
      return {
        steps: activity.body.steps,
        reservations: reservations.body.items.length,
        transfers: transfers.body.items.length,
      };
    };
    const settled = await booked();
    // At least the steps seen above: a reservation and a transfer (how many more ran depends on the machine).
    expect(settled.steps).toBeGreaterThanOrEqual(2);
    expect(settled.reservations).toBeGreaterThan(0);
    expect(settled.transfers).toBeGreaterThan(0);
    // "Nothing happens" cannot be awaited: five ticks of the 200 ms interval must book nothing more.
    await new Promise((r) => setTimeout(r, 1_000));
    expect(await booked()).toEqual(settled);
  });
});
