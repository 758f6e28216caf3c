import { z } from 'zod';

const flag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', ''])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

/** Settings every service shares; each service extends this with its own. */
export const BaseConfig = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  HOST: z.string().default('127.0.0.1'),
  /** One URL or a comma-separated list (several nodes of a cluster). */
  NATS_URL: z.string().default('nats://127.0.0.1:4222'),
  /** This service's NATS user where the server has users (infra/nats/nats-accounts.conf); none by default. */
  NATS_USER: z.string().min(1).optional(),
  NATS_PASSWORD: z.string().min(1).optional(),
  STREAM_REPLICAS: z.coerce.number().int().min(1).max(5).default(1),
  STREAM_MAX_AGE_HOURS: z.coerce
    .number()
    .positive()
    .default(24 * 7),
  /** Development only: accept every request as an all-warehouse admin. */
  AUTH_DISABLED: flag.default(false),
  JWT_SECRET: z.string().min(32, { error: 'must be at least 32 characters' }).optional(),
  JWKS_URL: z.url().optional(),
  JWT_ISSUER: z.string().optional(),
  JWT_AUDIENCE: z.string().optional(),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
});
export type BaseConfig = z.infer<typeof BaseConfig>;

export function natsServers(config: Pick<BaseConfig, 'NATS_URL'>): string[] {
  return config.NATS_URL.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration: ${problems.join('; ')}`);
    this.name = 'ConfigError';
  }
}

/** Reads and validates configuration from the environment; throws a ConfigError naming every bad variable. */
export function loadConfig<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv = process.env): z.infer<S> {
  const result = schema.safeParse(env);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((i) => `${i.path.join('.') || 'environment'}: ${i.message}`),
    );
  }
  return result.data;
}

/** Auth must be configured unless it is explicitly disabled for development. */
export function requireAuthSettings<T extends BaseConfig>(config: T): T {
  if (!config.AUTH_DISABLED && !config.JWT_SECRET && !config.JWKS_URL) {
    throw new ConfigError(['JWT_SECRET or JWKS_URL: required unless AUTH_DISABLED=true (development only)']);
  }
  return config;
}
