import { WS_CLOSE } from '@inv/contracts';
import { AuthError, type TokenVerifier } from '@inv/platform';
import { decodeJwt } from 'jose';
import type { Logger } from 'pino';
import type { Authenticate } from '../../app/ports.js';

/**
 * Verifies a token and reads when it expires, for a connection (on connect and on `refresh`). The expiry is read
 * from the token only once its signature and claims are verified. Verification failures are values, never
 * exceptions: an AuthError names what is wrong, anything else (a JWKS that cannot be fetched) is "unavailable".
 */
export function authenticator(verifyToken: TokenVerifier, logger: Logger): Authenticate {
  return async (token) => {
    try {
      const claims = await verifyToken(token);
      return { ok: true, claims, expiresAt: expiryOf(token) };
    } catch (error) {
      if (error instanceof AuthError)
        return { ok: false, code: WS_CLOSE.unauthorized, reason: error.message, label: error.reason };
      logger.warn({ err: error }, 'token verification failed');
      return {
        ok: false,
        code: WS_CLOSE.tryAgainLater,
        reason: 'authentication unavailable',
        label: 'unavailable',
      };
    }
  };
}

function expiryOf(token: string | undefined | null): number | null {
  if (!token) return null; // development mode without tokens
  const { exp } = decodeJwt(token);
  return typeof exp === 'number' ? exp * 1000 : null;
}
