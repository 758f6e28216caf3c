import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type InventoryFixture, inventoryFixture } from './support.js';

// biome-ignore lint/suspicious/noExplicitAny: the OpenAPI document is read loosely
type Json = any;

describe('inventory OpenAPI document', () => {
  let f: InventoryFixture;
  let spec: Json;
  beforeAll(async () => {
    f = await inventoryFixture();
    spec = (await f.api('GET', '/docs/json', { token: null })).body;
  });
  afterAll(async () => f?.close());

  it('is a valid OpenAPI document', async () => {
    const result = await new Validator().validate(structuredClone(spec));
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    const broken = { ...structuredClone(spec), paths: { '/x': { get: { responses: { nope: {} } } } } };
    expect((await new Validator().validate(broken)).valid).toBe(false);
  });

  const headerNames = (operation: Json) =>
    (operation.parameters ?? [])
      .filter((p: Json) => p.in === 'header')
      .map((p: Json) => p.name.toLowerCase())
      .sort();

  it.each([
    ['post', '/api/inventory/adjust'],
    ['patch', '/api/inventory/{inventoryId}'],
  ])('%s %s names its headers and every answer', (method, path) => {
    const operation = spec.paths[path][method];
    expect(headerNames(operation)).toEqual(['idempotency-key', 'if-match']);
    expect(Object.keys(operation.responses).sort()).toEqual(
      expect.arrayContaining(['200', '400', '401', '403', '409', '422', '503']),
    );
    const conflict = operation.responses['409'].description;
    expect(conflict).toContain('OPTIMISTIC_LOCK_FAILURE');
    if (path.endsWith('adjust')) expect(conflict).toContain('INSUFFICIENT_STOCK');
    expect(operation.responses['409'].content['application/json'].schema.required).toContain('code');
    expect(operation.responses['503'].description).toContain('SERVICE_UNAVAILABLE');
  });
});
