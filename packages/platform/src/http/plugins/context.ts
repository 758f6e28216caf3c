import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

declare module 'fastify' {
  interface FastifyRequest {
    correlationId: string;
  }
}

const CORRELATION_HEADER = 'x-correlation-id';

/** Carries a correlation id from the caller (or the request id) into logs, events and the response. */
export const contextPlugin = fp(
  async (app: FastifyInstance) => {
    app.decorateRequest('correlationId', '');
    app.addHook('onRequest', async (request, reply) => {
      const given = request.headers[CORRELATION_HEADER];
      const id = typeof given === 'string' && /^[\w.:-]{1,128}$/.test(given) ? given : request.id;
      request.correlationId = id;
      reply.header(CORRELATION_HEADER, id);
    });
  },
  { name: 'context' },
);
