import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TransferFixture, transferFixture } from './support.js';

describe('transfer OpenAPI document', () => {
  let f: TransferFixture;
  beforeAll(async () => {
    f = await transferFixture();
  });
  afterAll(async () => f?.close());

  it('is a valid OpenAPI document', async () => {
    const docs = await f.api.call('GET', '/docs/json', { token: null });
    expect(docs.status).toBe(200);
    const result = await new Validator().validate(docs.body);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(Object.keys(docs.body.paths)).toContain('/api/transfers/{transferId}/approve');
  });
});
