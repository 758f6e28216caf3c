import { BaseConfig, loadConfig, requireAuthSettings } from '@inv/platform';
import { z } from 'zod';

const flag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', ''])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

export const WebhooksConfig = BaseConfig.extend({
  PORT: z.coerce.number().int().min(0).max(65_535).default(3003),
  DATABASE_URL: z.string().default('postgres://postgres@127.0.0.1:5432/webhooks'),
  DB_POOL_SIZE: z.coerce.number().int().min(2).max(100).default(5),
  /** Tests and development only: allow endpoints on loopback, link-local and private addresses. */
  WEBHOOK_ALLOW_PRIVATE: flag.default(false),
  WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
  WEBHOOK_RETRY_BASE_MS: z.coerce.number().int().min(1).default(1_000),
  WEBHOOK_RETRY_MAX_DELAY_MS: z.coerce
    .number()
    .int()
    .min(1)
    .default(60 * 60 * 1000),
  /** How long one event is retried before it goes to the endpoint's dead-letter list. */
  WEBHOOK_RETRY_FOR_MS: z.coerce
    .number()
    .int()
    .min(1)
    .default(24 * 60 * 60 * 1000),
  WEBHOOK_PAUSE_AFTER_DEAD_LETTERS: z.coerce.number().int().min(1).default(3),
  /** How often each instance matches its delivery workers to the endpoints in the database (several instances). */
  WEBHOOK_SYNC_MS: z.coerce.number().int().min(100).default(2_000),
});
export type WebhooksConfig = z.infer<typeof WebhooksConfig>;

export function loadWebhooksConfig(env: NodeJS.ProcessEnv = process.env): WebhooksConfig {
  return requireAuthSettings(loadConfig(WebhooksConfig, env));
}
