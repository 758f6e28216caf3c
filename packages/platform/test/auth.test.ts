import { mintToken, TEST_JWT_SECRET } from '@inv/testkit';
import { describe, expect, it } from 'vitest';
import { type AuthSettings, DEFAULT_MAX_TOKEN_LIFETIME_SECONDS } from '../src/auth.js';
import {
  authSettingsFrom,
  BaseConfig,
  ConfigError,
  createTokenVerifier,
  loadConfig,
  requireAuthSettings,
} from '../src/index.js';

const base: AuthSettings = { disabled: false, secret: TEST_JWT_SECRET };
const nowSeconds = () => Math.floor(Date.now() / 1000);

async function refusalOf(promise: Promise<unknown>): Promise<{ name: string; reason: string }> {
  try {
    await promise;
  } catch (error) {
    return { name: (error as Error).name, reason: (error as { reason: string }).reason };
  }
  throw new Error('the token was accepted');
}

describe('token verification', () => {
  it('accepts a token with exp and tells when it expires', async () => {
    const exp = nowSeconds() + 600;
    const verify = createTokenVerifier(base);
    const verified = await verify.verified(await mintToken({ sub: 'ann' }, { expiresIn: exp }));
    expect(verified.claims).toMatchObject({ sub: 'ann', warehouses: ['*'] });
    expect(verified.expiresAt?.getTime()).toBe(exp * 1000);
  });

  it('refuses a token without exp, naming the missing expiry', async () => {
    const verify = createTokenVerifier(base);
    const token = await mintToken({}, { expiresIn: null });
    expect(await refusalOf(verify(token))).toEqual({ name: 'AuthError', reason: 'missing_expiry' });
  });

  it('refuses a token that lives longer than the maximum lifetime, by default 24 hours', async () => {
    const verify = createTokenVerifier(base);
    const day = DEFAULT_MAX_TOKEN_LIFETIME_SECONDS;
    const issuedAt = nowSeconds();
    const tooLong = await mintToken({}, { issuedAt, expiresIn: issuedAt + day + 1 });
    expect(await refusalOf(verify(tooLong))).toMatchObject({ reason: 'lifetime_too_long' });
    const noIat = await mintToken({}, { issuedAt: undefined, expiresIn: '30d' });
    expect(await refusalOf(verify(noIat))).toMatchObject({ reason: 'lifetime_too_long' });
    await expect(verify(await mintToken({}, { issuedAt, expiresIn: issuedAt + day }))).resolves.toBeTruthy();
  });

  it('applies a configured maximum lifetime', async () => {
    const verify = createTokenVerifier({ ...base, maxLifetimeSeconds: 3600 });
    expect(await refusalOf(verify(await mintToken({}, { expiresIn: '2h' })))).toMatchObject({
      reason: 'lifetime_too_long',
    });
    await expect(verify(await mintToken({}, { expiresIn: '1h' }))).resolves.toBeTruthy();
  });

  it('enforces the issuer and the audience when they are configured', async () => {
    const verify = createTokenVerifier({ ...base, issuer: 'https://idp.example', audience: 'inventory' });
    const right = { issuer: 'https://idp.example', audience: 'inventory' };
    await expect(verify(await mintToken({}, right))).resolves.toBeTruthy();
    const wrongIssuer = await mintToken({}, { ...right, issuer: 'https://evil.example' });
    expect(await refusalOf(verify(wrongIssuer))).toMatchObject({ reason: 'wrong_issuer' });
    const noIssuer = await mintToken({}, { audience: 'inventory' });
    expect(await refusalOf(verify(noIssuer))).toMatchObject({ reason: 'wrong_issuer' });
    const wrongAudience = await mintToken({}, { ...right, audience: 'billing' });
    expect(await refusalOf(verify(wrongAudience))).toMatchObject({ reason: 'wrong_audience' });
  });

  it('ignores iss and aud when neither is configured', async () => {
    const verify = createTokenVerifier(base);
    const token = await mintToken({}, { issuer: 'anyone', audience: 'anything' });
    await expect(verify(token)).resolves.toMatchObject({ sub: 'test-user' });
  });
});

describe('verified token cache', () => {
  it('verifies a token once and answers later requests from the cache', async () => {
    const token = await mintToken({});
    const cached = createTokenVerifier(base);
    expect(await cached(token)).toBe(await cached(token));
    const uncached = createTokenVerifier({ ...base, cacheSize: 0 });
    expect(await uncached(token)).not.toBe(await uncached(token));
  });

  it('refuses a cached token once its exp has passed', async () => {
    let now = Date.now();
    const verify = createTokenVerifier({ ...base, now: () => now });
    const exp = Math.floor(now / 1000) + 60;
    const token = await mintToken({}, { expiresIn: exp });
    await expect(verify(token)).resolves.toBeTruthy();
    now = exp * 1000 - 1;
    await expect(verify(token)).resolves.toBeTruthy();
    now = exp * 1000;
    expect(await refusalOf(verify(token))).toEqual({ name: 'AuthError', reason: 'expired' });
    expect(await refusalOf(verify(token))).toEqual({ name: 'AuthError', reason: 'expired' });
  });

  it('keeps at most cacheSize tokens, dropping the least recently used', async () => {
    const verify = createTokenVerifier({ ...base, cacheSize: 2 });
    const [a, b, c] = await Promise.all(['a', 'b', 'c'].map((sub) => mintToken({ sub })));
    const first = { a: await verify(a!), b: await verify(b!) };
    expect(await verify(a!)).toBe(first.a); // a is now the most recent
    await verify(c!); // evicts b
    expect(await verify(a!)).toBe(first.a);
    expect(await verify(b!)).not.toBe(first.b);
  });

  it('never caches a refused token', async () => {
    const verify = createTokenVerifier(base);
    const forged = await mintToken({}, { secret: 'another-secret-that-is-long-enough-0123456789' });
    expect(await refusalOf(verify(forged))).toMatchObject({ reason: 'invalid' });
    expect(await refusalOf(verify(forged))).toMatchObject({ reason: 'invalid' });
  });
});

describe('auth configuration', () => {
  const env = { JWT_SECRET: TEST_JWT_SECRET };

  it('refuses AUTH_DISABLED in production with a message naming both settings', () => {
    const config = loadConfig(BaseConfig, { AUTH_DISABLED: 'true', NODE_ENV: 'production' });
    expect(() => requireAuthSettings(config)).toThrow(ConfigError);
    expect(() => requireAuthSettings(config)).toThrow(/AUTH_DISABLED.*NODE_ENV=production/);
    const dev = loadConfig(BaseConfig, { AUTH_DISABLED: 'true', NODE_ENV: 'development' });
    expect(requireAuthSettings(dev).AUTH_DISABLED).toBe(true);
  });

  it('reads the token rules from the environment, with defaults', () => {
    const defaults = authSettingsFrom(loadConfig(BaseConfig, env));
    expect(defaults).toMatchObject({ maxLifetimeSeconds: 86_400, cacheSize: 10_000, issuer: undefined });
    const set = authSettingsFrom(
      loadConfig(BaseConfig, {
        ...env,
        JWT_ISSUER: 'https://idp.example',
        JWT_AUDIENCE: '',
        JWT_MAX_TOKEN_LIFETIME_SECONDS: '3600',
        JWT_CACHE_SIZE: '0',
      }),
    );
    expect(set).toMatchObject({
      issuer: 'https://idp.example',
      audience: undefined,
      maxLifetimeSeconds: 3600,
    });
    expect(set.cacheSize).toBe(0);
  });

  it('names a bad lifetime or cache size', () => {
    expect(() => loadConfig(BaseConfig, { ...env, JWT_MAX_TOKEN_LIFETIME_SECONDS: 'forever' })).toThrow(
      /JWT_MAX_TOKEN_LIFETIME_SECONDS/,
    );
    expect(() => loadConfig(BaseConfig, { ...env, JWT_CACHE_SIZE: '-1' })).toThrow(/JWT_CACHE_SIZE/);
  });
});
