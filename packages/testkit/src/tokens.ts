import type { AccessClaims } from '@inv/contracts';
import { SignJWT } from 'jose';

export const TEST_JWT_SECRET = 'test-secret-that-is-long-enough-for-hs256-0123456789';

export interface MintOptions {
  secret?: string;
  /** A jose time span ('1h') or an absolute `exp` in seconds; null mints a token without `exp`. */
  expiresIn?: string | number | null;
  issuedAt?: number;
  issuer?: string;
  audience?: string;
}

/** Signs an HS256 access token the way an identity provider would: it expires in an hour unless told. */
export async function mintToken(
  claims: Partial<AccessClaims> & { sub?: string },
  options: MintOptions = {},
): Promise<string> {
  const secret = new TextEncoder().encode(options.secret ?? TEST_JWT_SECRET);
  const jwt = new SignJWT({ warehouses: claims.warehouses ?? ['*'], roles: claims.roles ?? ['admin'] })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(claims.sub ?? 'test-user')
    .setIssuedAt(options.issuedAt);
  if (options.expiresIn !== null) jwt.setExpirationTime(options.expiresIn ?? '1h');
  if (options.issuer) jwt.setIssuer(options.issuer);
  if (options.audience) jwt.setAudience(options.audience);
  return jwt.sign(secret);
}
