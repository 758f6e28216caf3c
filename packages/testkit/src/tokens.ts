import type { AccessClaims } from '@inv/contracts';
import { SignJWT } from 'jose';

export const TEST_JWT_SECRET = 'test-secret-that-is-long-enough-for-hs256-0123456789';

/** Signs an HS256 access token the way an identity provider would. */
export async function mintToken(
  claims: Partial<AccessClaims> & { sub?: string },
  options: { secret?: string; expiresIn?: string | number; issuedAt?: number } = {},
): Promise<string> {
  const secret = new TextEncoder().encode(options.secret ?? TEST_JWT_SECRET);
  const jwt = new SignJWT({ warehouses: claims.warehouses ?? ['*'], roles: claims.roles ?? ['admin'] })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(claims.sub ?? 'test-user')
    .setIssuedAt(options.issuedAt)
    .setExpirationTime(options.expiresIn ?? '1h');
  return jwt.sign(secret);
}
