import { REST_LIMITS } from '@inv/contracts';
import Fastify, { type FastifyBaseLogger, LogController } from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { TokenVerifier } from '../auth.js';
import { authPlugin } from './plugins/auth.js';
import { contextPlugin } from './plugins/context.js';
import { docsPlugin } from './plugins/docs.js';
import { errorsPlugin } from './plugins/errors.js';
import { healthPlugin, type ReadinessCheck } from './plugins/health.js';
import { metricsPlugin } from './plugins/metrics.js';
import { requestLogPlugin } from './plugins/request-log.js';

export interface HttpServerOptions {
  logger: Logger;
  registry: Registry;
  verifyToken: TokenVerifier;
  readiness: Record<string, ReadinessCheck>;
  docs: { title: string; description: string };
  /** Requests slower than this are logged at `warn` (the others at `debug`); default 500. */
  slowRequestMs?: number;
}

/**
 * A Fastify server with what every service needs, one plugin per concern: errors, correlation ids, request
 * logs, auth, metrics, health, OpenAPI docs, and zod validation of every route schema from the contracts.
 */
export async function createHttpServer(options: HttpServerOptions) {
  const app = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger,
    bodyLimit: REST_LIMITS.maxBodyBytes,
    logController: new LogController({ disableRequestLogging: true }),
    requestIdHeader: 'x-request-id',
    return503OnClosing: true,
    forceCloseConnections: 'idle',
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  await app.register(errorsPlugin);
  await app.register(contextPlugin);
  await app.register(requestLogPlugin, { slowRequestMs: options.slowRequestMs ?? 500 });
  await app.register(authPlugin, { verify: options.verifyToken });
  await app.register(metricsPlugin, { registry: options.registry });
  await app.register(healthPlugin, { checks: options.readiness });
  await app.register(docsPlugin, options.docs);
  return app;
}

export type AppServer = Awaited<ReturnType<typeof createHttpServer>>;

/**
 * A route's `serializerCompiler` for answers built field by field by the service's own typed code (its DTO
 * functions) from database rows: plain `JSON.stringify`, without the zod parse of the whole answer the default
 * serializer runs (a copy of every object of a 50-record page, the largest share of a hot read's CPU after the
 * socket writes). The route keeps its response schema for the OpenAPI document; tests check answers against it.
 */
export function trustedJsonSerializer(): (data: unknown) => string {
  return (data) => JSON.stringify(data);
}
