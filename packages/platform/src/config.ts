import { z } from 'zod';
import { InfrastructureError } from './errors.js';

const flag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', ''])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

/** An optional text setting; empty (as `${VAR:-}` in compose gives) means unset. */
const optionalText = z
  .string()
  .optional()
  .transform((v) => (v?.trim() ? v.trim() : undefined));

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
  /** When set, tokens must carry this `iss`. */
  JWT_ISSUER: optionalText,
  /** When set, tokens must name this `aud`. */
  JWT_AUDIENCE: optionalText,
  /** Longest accepted token lifetime (`exp - iat`); every token must have `exp`. */
  JWT_MAX_TOKEN_LIFETIME_SECONDS: z.coerce
    .number()
    .int()
    .min(60)
    .max(30 * 24 * 3600)
    .default(24 * 3600),
  /** Verified tokens remembered until their `exp`, per process; 0 verifies every request. */
  JWT_CACHE_SIZE: z.coerce.number().int().min(0).max(1_000_000).default(10_000),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
  /** Requests slower than this are logged at `warn`; every other request only at `debug`. */
  SLOW_REQUEST_MS: z.coerce.number().int().positive().default(500),
  /** First and longest pause between two attempts at an event that failed for an infrastructure reason. */
  INBOX_RETRY_BASE_MS: z.coerce.number().int().positive().default(250),
  INBOX_RETRY_MAX_MS: z.coerce.number().int().positive().default(30_000),
  /**
   * The outbox relay on a worker thread of its own (reads, publishes and acks not queued behind requests); off,
   * it shares the service's event loop. Tests that run the TypeScript sources always use the in-process relay.
   */
  OUTBOX_RELAY_THREAD: flag.default(true),
  /** Time between purges of expired idempotency keys and inbox rows; 0 turns them off. */
  PURGE_INTERVAL_SECONDS: z.coerce.number().int().min(0).default(3_600),
  /** How long an Idempotency-Key is remembered: a retry after that is a new request. */
  IDEMPOTENCY_KEY_RETENTION_HOURS: z.coerce.number().positive().default(24),
  /** Time between checks of the service's durable consumers against the stream's retention limits; 0 off. */
  RETENTION_WATCH_INTERVAL_SECONDS: z.coerce.number().int().min(0).default(60),
});
export type BaseConfig = z.infer<typeof BaseConfig>;

export function natsServers(config: Pick<BaseConfig, 'NATS_URL'>): string[] {
  return config.NATS_URL.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

export class ConfigError extends InfrastructureError {
  constructor(readonly problems: string[]) {
    super('CONFIG_INVALID', `invalid configuration: ${problems.join('; ')}`);
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

/**
 * Auth must be configured unless it is explicitly disabled for development; it is never disabled in
 * production (NODE_ENV=production), where the service refuses to start instead.
 */
export function requireAuthSettings<T extends BaseConfig>(config: T): T {
  if (config.AUTH_DISABLED && config.NODE_ENV === 'production') {
    throw new ConfigError([
      'AUTH_DISABLED: must not be true with NODE_ENV=production (it lets every caller act as an admin)',
    ]);
  }
  if (!config.AUTH_DISABLED && !config.JWT_SECRET && !config.JWKS_URL) {
    throw new ConfigError(['JWT_SECRET or JWKS_URL: required unless AUTH_DISABLED=true (development only)']);
  }
  return config;
}
