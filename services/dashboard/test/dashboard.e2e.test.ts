import { resolve } from 'node:path';
import { type Stack, startStack } from '@inv/testkit';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARTIFACTS, availableCell, launchBrowser, openDashboard } from './browser.js';

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
      await expect.poll(() => cardIn(second).getAttribute('data-status'), { timeout: 2_000 }).toBe(status);
    }
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
});
