import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

export type ReadinessCheck = () => Promise<unknown>;

/**
 * Thrown by a readiness check whose part works but is behind (a consumer retrying an event): `/readyz` answers
 * 200 with status `degraded`, so the instance keeps serving requests while operators are told.
 */
export class DegradedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DegradedError';
  }
}

/**
 * `/healthz`: the process answers. `/readyz`: every dependency answers within a second (503 `unavailable`
 * otherwise); 200 `degraded` when the only problems are degraded parts.
 */
export const healthPlugin = fp(
  async (app: FastifyInstance, options: { checks: Record<string, ReadinessCheck> }) => {
    app.get('/healthz', { config: { public: true }, schema: { hide: true } }, async () => ({ status: 'ok' }));
    app.get('/readyz', { config: { public: true }, schema: { hide: true } }, async (_request, reply) => {
      const entries = await Promise.all(
        Object.entries(options.checks).map(async ([name, check]) => {
          try {
            await Promise.race([
              check(),
              new Promise((_, reject) => setTimeout(() => reject(new Error('timed out')), 1_000).unref()),
            ]);
            return [name, { ok: true }] as const;
          } catch (error) {
            const degraded = error instanceof DegradedError;
            return [name, { ok: false, degraded, detail: (error as Error).message }] as const;
          }
        }),
      );
      const failing = entries.filter(([, result]) => !result.ok);
      const down = failing.some(([, result]) => !('degraded' in result && result.degraded));
      const status = down ? 'unavailable' : failing.length > 0 ? 'degraded' : 'ok';
      return reply.code(down ? 503 : 200).send({ status, checks: Object.fromEntries(entries) });
    });
  },
  { name: 'health' },
);
