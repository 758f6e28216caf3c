import type { InventoryRecord } from '@inv/contracts';
import { describe, expect, it } from 'vitest';
import { StockPages } from './stock-pages.js';

const record = (warehouseId: string, version = 1) => ({ warehouseId, version }) as InventoryRecord;

describe('stock pages', () => {
  it('walks forwards by the server cursors and back by the ones it kept', () => {
    const pages = new StockPages(50);
    expect(pages.query).toEqual({ limit: 50 });
    pages.nextCursor = 'c1';
    pages.next();
    expect(pages.query).toEqual({ limit: 50, after: 'c1' });
    pages.nextCursor = 'c2';
    pages.next();
    expect(pages.number).toBe(3);
    pages.previous();
    expect(pages.query).toEqual({ limit: 50, after: 'c1' });
    pages.previous();
    pages.previous();
    expect(pages.query).toEqual({ limit: 50 });
    expect(pages.hasPrevious).toBe(false);
  });

  it('takes one step for two clicks on Next before the page they asked for arrived', () => {
    const pages = new StockPages(50);
    pages.nextCursor = 'c1';
    pages.next();
    pages.next();
    expect(pages.number).toBe(2);
    expect(pages.query).toEqual({ limit: 50, after: 'c1' });
  });

  it('does not go past the last page', () => {
    const pages = new StockPages();
    pages.nextCursor = null;
    pages.next();
    expect(pages.number).toBe(1);
    expect(pages.hasNext).toBe(false);
  });

  it('asks the server for one warehouse from its first page when filtered', () => {
    const pages = new StockPages(100);
    pages.nextCursor = 'c1';
    pages.next();
    pages.filter('wh-east');
    expect(pages.query).toEqual({ limit: 100, warehouseId: 'wh-east' });
    expect(pages.hasNext).toBe(false);
  });

  it('takes a record it does not show only when new, on the last page and of the warehouse shown', () => {
    const pages = new StockPages();
    pages.filter('wh-east');
    expect(pages.admits(record('wh-east'))).toBe(true);
    expect(pages.admits(record('wh-east', 2))).toBe(false);
    expect(pages.admits(record('wh-west'))).toBe(false);
    pages.nextCursor = 'c1';
    expect(pages.admits(record('wh-east'))).toBe(false);
    pages.filter('');
    expect(pages.admits(record('wh-west'))).toBe(true);
  });
});
