import { type ReadGate, trustedJsonSerializer } from '@inv/platform';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/**
 * The options of every inventory GET: its permission; a place at the read gate from its handler until its answer
 * is written (`close` comes once the response is sent or the client has gone), so the places bound the
 * serialization and socket writes too, the larger part of a read's CPU; and its answer, built by the DTO
 * functions, written without a zod pass.
 */
export function readRouteOptions(gate: ReadGate) {
  return {
    config: { permission: 'inventory:read' } as const,
    serializerCompiler: trustedJsonSerializer,
    preHandler: async (_request: FastifyRequest, reply: FastifyReply) => {
      const release = await gate.hold();
      reply.raw.once('close', release);
    },
  };
}

/**
 * Tells the gate about every write from the moment its request arrives until its answer is written, so reads
 * get fewer places meanwhile (READ_CONCURRENCY_BESIDE_WRITES). Adjusts, reservations and batches are the
 * requests that are not GETs; the saga's events come over NATS, not HTTP.
 */
export function countWritesAt(app: FastifyInstance, gate: ReadGate): void {
  app.addHook('onRequest', async (request, reply) => {
    if (request.method === 'GET' || request.method === 'HEAD' || request.method === 'OPTIONS') return;
    gate.writeStarted();
    reply.raw.once('close', () => gate.writeEnded());
  });
}
