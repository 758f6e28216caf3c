import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { buildAsyncApiDocument } from '@inv/contracts/internal';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { jsonSchemaTransform } from 'fastify-type-provider-zod';
import { renderAsyncApiPage } from './asyncapi-page.js';

/**
 * OpenAPI generated from the routes' zod schemas, browsable at `/docs`; the event API's AsyncAPI document
 * (generated from the contracts) at `/asyncapi.json`, rendered at `/asyncapi`.
 */
export const docsPlugin = fp(
  async (app: FastifyInstance, options: { title: string; description: string; version?: string }) => {
    await app.register(swagger, {
      openapi: {
        info: { title: options.title, description: options.description, version: options.version ?? '1.0.0' },
        components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
        security: [{ bearer: [] }],
      },
      transform: jsonSchemaTransform,
    });
    // The documentation itself needs no token.
    app.addHook('onRoute', (route) => {
      if (route.url.startsWith('/docs') || route.url.startsWith('/asyncapi'))
        route.config = { ...route.config, public: true };
    });
    // Built on first request: generating the JSON Schemas costs start-up time every service (and test) would pay.
    let asyncapi: { doc: Record<string, unknown>; page: string } | null = null;
    const asyncapiOnce = () => {
      if (!asyncapi) {
        const doc = buildAsyncApiDocument({ version: options.version });
        asyncapi = { doc, page: renderAsyncApiPage(doc) };
      }
      return asyncapi;
    };
    app.get('/asyncapi.json', { schema: { hide: true } }, async () => asyncapiOnce().doc);
    app.get('/asyncapi', { schema: { hide: true } }, async (_request, reply) =>
      reply.type('text/html; charset=utf-8').send(asyncapiOnce().page),
    );
    await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { docExpansion: 'list' } });
  },
  { name: 'docs' },
);
