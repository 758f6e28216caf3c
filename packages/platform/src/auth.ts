import { AccessClaims } from '@inv/contracts';
import { createRemoteJWKSet, type JWTPayload, errors as joseErrors, jwtVerify } from 'jose';

export interface AuthSettings {
  /** Development only: every caller is an all-warehouse admin. */
  disabled: boolean;
  secret?: string;
  jwksUrl?: string;
  issuer?: string;
  audience?: string;
}

export function authSettingsFrom(config: {
  AUTH_DISABLED: boolean;
  JWT_SECRET?: string;
  JWKS_URL?: string;
  JWT_ISSUER?: string;
  JWT_AUDIENCE?: string;
}): AuthSettings {
  return {
    disabled: config.AUTH_DISABLED,
    secret: config.JWT_SECRET,
    jwksUrl: config.JWKS_URL,
    issuer: config.JWT_ISSUER,
    audience: config.JWT_AUDIENCE,
  };
}

export const DEV_CLAIMS: AccessClaims = { sub: 'dev', warehouses: ['*'], roles: ['admin'] };

export class AuthError extends Error {
  constructor(
    readonly reason: 'missing' | 'invalid' | 'expired',
    message: string,
  ) {
    super(message);
    this.name = 'AuthError';
  }
}

export type TokenVerifier = (token: string | undefined | null) => Promise<AccessClaims>;

/** Verifies an HS256 token (shared secret) or an asymmetric one against a JWKS, and reads its claims. */
export function createTokenVerifier(settings: AuthSettings): TokenVerifier {
  if (settings.disabled) return async () => DEV_CLAIMS;
  const key = settings.jwksUrl
    ? createRemoteJWKSet(new URL(settings.jwksUrl))
    : new TextEncoder().encode(settings.secret ?? '');
  if (!settings.jwksUrl && !settings.secret) throw new Error('auth needs JWT_SECRET or JWKS_URL');
  const verifyOptions = {
    algorithms: settings.jwksUrl ? ['RS256', 'ES256', 'EdDSA', 'PS256'] : ['HS256'],
    issuer: settings.issuer,
    audience: settings.audience,
  };
  return async (token) => {
    if (!token) throw new AuthError('missing', 'an access token is required');
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, key as Parameters<typeof jwtVerify>[1], verifyOptions));
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired)
        throw new AuthError('expired', 'the access token has expired');
      throw new AuthError('invalid', 'the access token is not valid');
    }
    const claims = AccessClaims.safeParse(payload);
    if (!claims.success)
      throw new AuthError('invalid', 'the access token lacks valid claims (sub, warehouses, roles)');
    return claims.data;
  };
}

export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  return match?.[1];
}
