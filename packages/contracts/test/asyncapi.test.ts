import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import {
  ASYNCAPI_REGENERATE_COMMAND,
  buildAsyncApiDocument,
  formatAsyncApiDocument,
  subjectPatternOf,
} from '../src/asyncapi.js';
import { EVENT_CATALOG, EVENT_TYPES } from '../src/index.js';

const CHECKED_IN = resolve(import.meta.dirname, '../../../docs/asyncapi.json');

// The official AsyncAPI 3.0.0 JSON Schema (npm @asyncapi/specs). @asyncapi/parser would pull in 168 packages
// (54 MB, the Spectral linter); the schema alone is what its structural validation rests on.
const require = createRequire(import.meta.url);
const specs = require('@asyncapi/specs') as { schemas: Record<string, object> };
const addFormats = require('ajv-formats') as (ajv: Ajv) => Ajv;

function officialValidator() {
  const ajv = new Ajv({ strict: false, allErrors: true, allowUnionTypes: true, unicodeRegExp: false });
  addFormats(ajv);
  // As @asyncapi/parser does: drop the embedded draft-07 meta-schema, which Ajv already holds.
  const schema = structuredClone(specs.schemas['3.0.0']) as { definitions: Record<string, unknown> };
  delete schema.definitions['http://json-schema.org/draft-07/schema'];
  return ajv.compile(schema);
}

type Doc = {
  channels: Record<string, { address: string; messages: Record<string, { $ref: string }> }>;
  operations: Record<string, { channel: { $ref: string }; messages?: Array<{ $ref: string }> }>;
  components: { messages: Record<string, { payload: object }> };
};

describe('AsyncAPI document', () => {
  it('matches docs/asyncapi.json (regenerate after a contract change)', () => {
    const checkedIn = readFileSync(CHECKED_IN, 'utf8');
    const current = formatAsyncApiDocument();
    expect(
      checkedIn === current,
      `docs/asyncapi.json is out of date with packages/contracts: run \`${ASYNCAPI_REGENERATE_COMMAND}\` and commit it`,
    ).toBe(true);
  });

  it('validates against the official AsyncAPI 3.0.0 schema', () => {
    const validate = officialValidator();
    const valid = validate(buildAsyncApiDocument());
    expect(validate.errors ?? [], JSON.stringify(validate.errors?.slice(0, 5), null, 2)).toEqual([]);
    expect(valid).toBe(true);
  });

  it('is refused by the same validator when an operation is malformed', () => {
    const validate = officialValidator();
    const doc = buildAsyncApiDocument() as unknown as Doc;
    const [first] = Object.keys(doc.operations);
    (doc.operations[first!] as unknown as { action: string }).action = 'publish';
    expect(validate(doc)).toBe(false);
  });

  it('describes every event type at every schema version on its subject pattern', () => {
    const doc = buildAsyncApiDocument() as unknown as Doc;
    for (const type of EVENT_TYPES) {
      for (const version of Object.keys(EVENT_CATALOG[type].versions)) {
        expect(doc.components.messages[`${type}.v${version}`], `${type} v${version}`).toBeDefined();
      }
      const channel = Object.values(doc.channels).find((c) => c.address === subjectPatternOf(type).address);
      expect(channel, type).toBeDefined();
    }
    expect(subjectPatternOf('inventory.low_stock').address).toBe(
      'inventory.product.{productId}.warehouse.{warehouseId}.variant.{variantId}.uom.{uomId}.low_stock',
    );
    expect(subjectPatternOf('transfer.shipped').address).toBe(
      'transfer.{transferId}.from.{sourceWarehouseId}.to.{destinationWarehouseId}.shipped',
    );
  });

  it('resolves every internal reference', () => {
    const doc = buildAsyncApiDocument();
    const refs = JSON.stringify(doc).match(/"\$ref":"#\/[^"]+"/g) ?? [];
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of refs) {
      const path = ref.slice('"$ref":"#/'.length, -1).split('/');
      let node: unknown = doc;
      for (const key of path) node = (node as Record<string, unknown> | undefined)?.[key];
      expect(node, ref).toBeDefined();
    }
  });

  it('keeps the payload schema of a version that producers no longer write', () => {
    const doc = buildAsyncApiDocument() as unknown as Doc;
    const v1 = JSON.stringify(doc.components.messages['inventory.updated.v1']!.payload);
    const v2 = JSON.stringify(doc.components.messages['inventory.updated.v2']!.payload);
    expect(v1).toContain('"const":1');
    expect(v2).toContain('"previousReserved"');
    expect(v1).not.toContain('"previousReserved"');
  });
});
