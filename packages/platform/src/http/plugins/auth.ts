import { type AccessClaims, DomainError, hasPermission, type Permission } from '@inv/contracts';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { AuthError, bearerToken, type TokenVerifier } from '../../auth.js';

declare module 'fastify' {
  interface FastifyRequest {
    claims: AccessClaims;
  }
  interface FastifyContextConfig {
    /** The permission a route needs; routes without one only need a valid token. */
    permission?: Permission;
    /** Health, metrics and docs: no token needed. */
    public?: boolean;
  }
}

/** Verifies the bearer token of every non-public route and checks the route's permission. */
export const authPlugin = fp(
  async (app: FastifyInstance, options: { verify: TokenVerifier }) => {
    app.decorateRequest('claims', null as unknown as AccessClaims);
    app.addHook('onRequest', async (request) => {
      const config = request.routeOptions.config;
      if (config?.public || !request.routeOptions.url) return;
      try {
        request.claims = await options.verify(bearerToken(request.headers.authorization));
      } catch (error) {
        if (error instanceof AuthError)
          throw new DomainError('UNAUTHORIZED', error.message, { reason: error.reason });
        throw error;
      }
      if (config?.permission && !hasPermission(request.claims, config.permission)) {
        throw new DomainError('FORBIDDEN', `this action needs the ${config.permission} permission`, {
          permission: config.permission,
        });
      }
    });
  },
  { name: 'auth', dependencies: ['errors'] },
);
