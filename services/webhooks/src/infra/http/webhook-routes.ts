import { type AccessClaims, DomainError, EVENT_TYPES, Id, Text } from '@inv/contracts';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { managesEndpoint } from '../../domain/endpoint.js';
import { publicEndpoint, type WebhookBridge } from '../nats/bridge.js';

const RegisterBody = z.strictObject({
  url: Text(2048),
  eventTypes: z
    .array(z.enum(EVENT_TYPES as [string, ...string[]]))
    .min(1)
    .max(64),
  warehouses: z
    .array(z.union([Id, z.literal('*')]))
    .min(1)
    .max(1000),
  // Stored as given and never shown again: a control character (a NUL the database refuses) is a 400, not a 500.
  secret: Text(256).min(16, { error: 'must be at least 16 characters' }),
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
  /** The endpoint, if this admin manages it; one they do not is answered as if it did not exist. */
  const managed = async (claims: AccessClaims, endpointId: string) => {
    const endpoint = await bridge.require(endpointId);
    if (!managesEndpoint(claims, endpoint)) {
      throw new DomainError('NOT_FOUND', `no webhook endpoint ${endpointId}`, {}, 'endpointId');
    }
    return endpoint;
  };
  api.get('/api/webhooks', async (request) => ({
    items: (await bridge.list())
      .filter((endpoint) => managesEndpoint(request.claims, endpoint))
      .map(publicEndpoint),
  }));
  api.get('/api/webhooks/:endpointId', { schema: { params: EndpointParams } }, async (request) =>
    publicEndpoint(await managed(request.claims, request.params.endpointId)),
  );
  api.delete('/api/webhooks/:endpointId', { schema: { params: EndpointParams } }, async (request, reply) => {
    await managed(request.claims, request.params.endpointId);
    if (!(await bridge.remove(request.params.endpointId))) {
      throw new DomainError('NOT_FOUND', 'no such webhook endpoint', {}, 'endpointId');
    }
    return reply.code(204).send();
  });
  api.post('/api/webhooks/:endpointId/resume', { schema: { params: EndpointParams } }, async (request) => {
    await managed(request.claims, request.params.endpointId);
    return publicEndpoint(
      await bridge.resume(request.params.endpointId, {
        actor: request.claims.sub,
        correlationId: request.correlationId,
      }),
    );
  });
  api.get(
    '/api/webhooks/:endpointId/dead-letters',
    { schema: { params: EndpointParams } },
    async (request) => {
      await managed(request.claims, request.params.endpointId);
      return { items: await bridge.deadLetters(request.params.endpointId) };
    },
  );
  api.post(
    '/api/webhooks/:endpointId/dead-letters/:deadLetterId/redrive',
    { schema: { params: DeadLetterParams } },
    async (request) => {
      await managed(request.claims, request.params.endpointId);
      return bridge.redrive(request.params.endpointId, request.params.deadLetterId);
    },
  );
}
