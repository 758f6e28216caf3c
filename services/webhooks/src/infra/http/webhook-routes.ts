import { type AccessClaims, DomainError, EVENT_TYPES, Id } from '@inv/contracts';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { publicEndpoint, type WebhookBridge } from '../nats/bridge.js';

const RegisterBody = z.strictObject({
  url: z.string().max(2048),
  eventTypes: z
    .array(z.enum(EVENT_TYPES as [string, ...string[]]))
    .min(1)
    .max(64),
  warehouses: z
    .array(z.union([Id, z.literal('*')]))
    .min(1)
    .max(1000),
  secret: z.string().min(16, { error: 'must be at least 16 characters' }).max(256),
});
const EndpointParams = z.object({ endpointId: z.uuid() });
const DeadLetterParams = EndpointParams.extend({ deadLetterId: z.string().regex(/^\d{1,18}$/) });

function assertAdmin(claims: AccessClaims): void {
  if (!claims.roles.includes('admin')) {
    throw new DomainError('FORBIDDEN', 'webhooks are managed by admins', { required: 'admin' });
  }
}

/** `/api/webhooks`: admins register, list, remove and resume endpoints and see and redrive their dead letters. */
export async function webhookRoutes(
  app: FastifyInstance,
  options: { bridge: WebhookBridge; allowPrivate: boolean },
) {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const { bridge } = options;
  api.addHook('onRequest', async (request) => assertAdmin(request.claims));

  api.post('/api/webhooks', { schema: { body: RegisterBody } }, async (request, reply) => {
    const endpoint = await bridge.register(request.body, request.claims, options.allowPrivate);
    return reply.code(201).send(publicEndpoint(endpoint));
  });
  api.get('/api/webhooks', async () => ({
    items: (await bridge.list()).map(publicEndpoint),
  }));
  api.get('/api/webhooks/:endpointId', { schema: { params: EndpointParams } }, async (request) =>
    publicEndpoint(await bridge.require(request.params.endpointId)),
  );
  api.delete('/api/webhooks/:endpointId', { schema: { params: EndpointParams } }, async (request, reply) => {
    if (!(await bridge.remove(request.params.endpointId))) {
      throw new DomainError('NOT_FOUND', 'no such webhook endpoint', {}, 'endpointId');
    }
    return reply.code(204).send();
  });
  api.post('/api/webhooks/:endpointId/resume', { schema: { params: EndpointParams } }, async (request) =>
    publicEndpoint(
      await bridge.resume(request.params.endpointId, {
        actor: request.claims.sub,
        correlationId: request.correlationId,
      }),
    ),
  );
  api.get(
    '/api/webhooks/:endpointId/dead-letters',
    { schema: { params: EndpointParams } },
    async (request) => ({
      items: await bridge.deadLetters(request.params.endpointId),
    }),
  );
  api.post(
    '/api/webhooks/:endpointId/dead-letters/:deadLetterId/redrive',
    { schema: { params: DeadLetterParams } },
    async (request) => bridge.redrive(request.params.endpointId, request.params.deadLetterId),
  );
}
