import { AccessClaims } from '@inv/contracts';
import { createRemoteJWKSet, type JWTPayload, errors as joseErrors, jwtVerify } from 'jose';
import { VerifiedTokenCache } from './token-cache.js';

/** A token may live at most this long (`exp - iat`) unless the configuration says otherwise. */
export const DEFAULT_MAX_TOKEN_LIFETIME_SECONDS = 24 * 60 * 60;
/** Verified tokens remembered per verifier (see VerifiedTokenCache). */
export const DEFAULT_TOKEN_CACHE_SIZE = 10_000;

export interface AuthSettings {
  /** Development only: every caller is an all-warehouse admin. */
  disabled: boolean;
  secret?: string;
  jwksUrl?: string;
  /** When set, a token's `iss` must equal it. */
  issuer?: string;
  /** When set, a token's `aud` must name it. */
  audience?: string;
  /** Longest accepted `exp - iat` (or `exp - now` without `iat`); DEFAULT_MAX_TOKEN_LIFETIME_SECONDS if unset. */
  maxLifetimeSeconds?: number;
  /** How many verified tokens to remember; 0 turns the cache off. DEFAULT_TOKEN_CACHE_SIZE if unset. */
  cacheSize?: number;
  /** Milliseconds since the epoch; tests move it to expire a cached token. */
  now?: () => number;
}

export function authSettingsFrom(config: {
  AUTH_DISABLED: boolean;
  JWT_SECRET?: string;
  JWKS_URL?: string;
  JWT_ISSUER?: string;
  JWT_AUDIENCE?: string;
  JWT_MAX_TOKEN_LIFETIME_SECONDS?: number;
  JWT_CACHE_SIZE?: number;
}): AuthSettings {
  return {
    disabled: config.AUTH_DISABLED,
    secret: config.JWT_SECRET,
    jwksUrl: config.JWKS_URL,
    issuer: config.JWT_ISSUER,
    audience: config.JWT_AUDIENCE,
    maxLifetimeSeconds: config.JWT_MAX_TOKEN_LIFETIME_SECONDS,
    cacheSize: config.JWT_CACHE_SIZE,
  };
}

export const DEV_CLAIMS: AccessClaims = { sub: 'dev', warehouses: ['*'], roles: ['admin'] };

/** Why a token was refused; sent as `details.reason` of a 401 and used as a metrics label. */
export type AuthFailure =
  | 'missing'
  | 'invalid'
  | 'expired'
  | 'missing_expiry'
  | 'lifetime_too_long'
  | 'wrong_issuer'
  | 'wrong_audience';

export class AuthError extends Error {
  constructor(
    readonly reason: AuthFailure,
    message: string,
  ) {
    super(message);
    this.name = 'AuthError';
  }
}

export type TokenVerifier = (token: string | undefined | null) => Promise<AccessClaims>;

/** A verified token: its claims and when it stops being valid (null: never, in development mode only). */
export interface VerifiedToken {
  claims: AccessClaims;
  expiresAt: Date | null;
}

/** A TokenVerifier that can also tell when the token expires (for connections that outlive a request). */
export type ExpiringTokenVerifier = TokenVerifier & {
  verified: (token: string | undefined | null) => Promise<VerifiedToken>;
};

function refusal(error: unknown): AuthError {
  if (error instanceof AuthError) return error;
  if (error instanceof joseErrors.JWTExpired) return new AuthError('expired', 'the access token has expired');
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    if (error.claim === 'iss')
      return new AuthError('wrong_issuer', 'the access token has the wrong issuer (iss)');
    if (error.claim === 'aud') {
      return new AuthError('wrong_audience', 'the access token is not meant for this audience (aud)');
    }
    if (error.claim === 'exp' && error.reason === 'missing') return missingExpiry();
  }
  return new AuthError('invalid', 'the access token is not valid');
}

function missingExpiry(): AuthError {
  return new AuthError('missing_expiry', 'the access token has no expiry (exp); tokens must expire');
}

/** `exp` is required, and a token may not promise to stay valid longer than the configured lifetime. */
function assertLifetime(payload: JWTPayload, maxLifetimeSeconds: number, nowSeconds: number): number {
  if (typeof payload.exp !== 'number') throw missingExpiry();
  const issuedAt = typeof payload.iat === 'number' ? payload.iat : nowSeconds;
  if (payload.exp - issuedAt > maxLifetimeSeconds) {
    throw new AuthError(
      'lifetime_too_long',
      `the access token lives longer than the ${maxLifetimeSeconds} s this service accepts (exp - iat)`,
    );
  }
  return payload.exp;
}

/**
 * Verifies an HS256 token (shared secret) or an asymmetric one against a JWKS, and reads its claims. `exp` is
 * required, `iss`/`aud` are checked when configured, and the lifetime is bounded. A token verified once is
 * remembered until its `exp` (bounded LRU), so a client sending it on every request is verified once.
 */
export function createTokenVerifier(settings: AuthSettings): ExpiringTokenVerifier {
  const verified = tokenVerification(settings);
  return Object.assign(async (token: string | undefined | null) => (await verified(token)).claims, {
    verified,
  });
}

function tokenVerification(settings: AuthSettings): ExpiringTokenVerifier['verified'] {
  if (settings.disabled) return async () => ({ claims: DEV_CLAIMS, expiresAt: null });
  if (!settings.jwksUrl && !settings.secret) throw new Error('auth needs JWT_SECRET or JWKS_URL');
  const key = settings.jwksUrl
    ? createRemoteJWKSet(new URL(settings.jwksUrl))
    : new TextEncoder().encode(settings.secret ?? '');
  const maxLifetime = settings.maxLifetimeSeconds ?? DEFAULT_MAX_TOKEN_LIFETIME_SECONDS;
  const now = settings.now ?? Date.now;
  const cache = new VerifiedTokenCache(settings.cacheSize ?? DEFAULT_TOKEN_CACHE_SIZE);
  const options = {
    algorithms: settings.jwksUrl ? ['RS256', 'ES256', 'EdDSA', 'PS256'] : ['HS256'],
    issuer: settings.issuer || undefined,
    audience: settings.audience || undefined,
    requiredClaims: ['exp'],
  };
  const verify = async (token: string, nowMs: number) => {
    try {
      const { payload } = await jwtVerify(token, key as Parameters<typeof jwtVerify>[1], {
        ...options,
        currentDate: new Date(nowMs),
      });
      const exp = assertLifetime(payload, maxLifetime, Math.floor(nowMs / 1000));
      return { payload, exp };
    } catch (error) {
      throw refusal(error);
    }
  };
  return async (token) => {
    if (!token) throw new AuthError('missing', 'an access token is required');
    const nowMs = now();
    const cached = cache.get(token, Math.floor(nowMs / 1000));
    if (cached === 'expired') throw new AuthError('expired', 'the access token has expired');
    if (cached) return { claims: cached.claims, expiresAt: new Date(cached.exp * 1000) };
    const { payload, exp } = await verify(token, nowMs);
    const claims = AccessClaims.safeParse(payload);
    if (!claims.success)
      throw new AuthError('invalid', 'the access token lacks valid claims (sub, warehouses, roles)');
    cache.set(token, { claims: claims.data, exp });
    return { claims: claims.data, expiresAt: new Date(exp * 1000) };
  };
}

export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  return match?.[1];
}
