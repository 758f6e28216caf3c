import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

export type ReadinessCheck = () => Promise<unknown>;

/** `/healthz`: the process answers. `/readyz`: every dependency answers within a second. */
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
            return [name, { ok: false, detail: (error as Error).message }] as const;
          }
        }),
      );
      const ok = entries.every(([, result]) => result.ok);
      return reply
        .code(ok ? 200 : 503)
        .send({ status: ok ? 'ok' : 'unavailable', checks: Object.fromEntries(entries) });
    });
  },
  { name: 'health' },
);
