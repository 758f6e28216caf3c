import { formatAsyncApiDocument } from '@inv/contracts/internal';
import { TEST_JWT_SECRET, testLogger } from '@inv/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AppServer,
  createHttpServer,
  createMetricsRegistry,
  createTokenVerifier,
} from '../src/index.js';

describe('AsyncAPI routes', () => {
  let app: AppServer;

  beforeAll(async () => {
    app = await createHttpServer({
      logger: testLogger(),
      registry: createMetricsRegistry('test'),
      verifyToken: createTokenVerifier({ disabled: false, secret: TEST_JWT_SECRET }),
      readiness: {},
      docs: { title: 'test', description: 'test' },
    });
    await app.ready();
  });
  afterAll(() => app.close());

  it('serves the generated document at /asyncapi.json without a token', async () => {
    const response = await app.inject({ method: 'GET', url: '/asyncapi.json' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual(JSON.parse(formatAsyncApiDocument()));
  });

  it('renders every channel on a self-contained page at /asyncapi', async () => {
    const response = await app.inject({ method: 'GET', url: '/asyncapi' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toContain('text/html');
    expect(response.body).toContain(
      'inventory.product.{productId}.warehouse.{warehouseId}.variant.{variantId}.uom.{uomId}.low_stock',
    );
    expect(response.body).toContain('/ws/warehouses');
    expect(response.body).not.toMatch(/<script|https?:\/\/(?!json-schema)/);
  });
});
