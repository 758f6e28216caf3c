import { WS_CLOSE } from '@inv/contracts';
import { AuthError, type createTokenVerifier } from '@inv/platform';
import { decodeJwt } from 'jose';
import type { Logger } from 'pino';
import type { Authenticate } from '../../app/ports.js';

/**
 * Verifies a token and reads when it expires, for a connection (on connect and on `refresh`). The expiry is read
 * from the token only once its signature and claims are verified. Verification failures are values, never
 * exceptions: an AuthError names what is wrong, anything else (a JWKS that cannot be fetched) is "unavailable".
 */
/** A token verifier that also tells when a verified token expires. */
type ExpiringTokenVerifier = ReturnType<typeof createTokenVerifier>;

export function authenticator(verifyToken: ExpiringTokenVerifier, logger: Logger): Authenticate {
  return async (token) => {
    try {
      // The verifier knows the expiry of a token it verified (or remembered): no second decoding per connection.
      const { claims, expiresAt } = await verifyToken.verified(token);
      return { ok: true, claims, expiresAt: expiresAt?.getTime() ?? expiryOf(token) };
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

/** Development mode verifies nothing: a token given all the same still ends the connection at its `exp`. */
function expiryOf(token: string | undefined | null): number | null {
  if (!token) return null; // development mode without tokens
  const { exp } = decodeJwt(token);
  return typeof exp === 'number' ? exp * 1000 : null;
}
