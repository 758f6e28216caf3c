import { BaseConfig, loadConfig, requireAuthSettings } from '@inv/platform';
import { z } from 'zod';

const flag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', ''])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

export const TransferConfig = BaseConfig.extend({
  PORT: z.coerce.number().int().min(0).max(65_535).default(3002),
  DATABASE_URL: z.string().default('postgres://postgres@127.0.0.1:5432/transfer'),
  DB_POOL_SIZE: z.coerce.number().int().min(2).max(100).default(10),
  /** Segregation of duties: the requester of a transfer may not approve it. */
  TRANSFER_SEPARATE_APPROVER: flag.default(false),
});
export type TransferConfig = z.infer<typeof TransferConfig>;

/** Reads the transfer service's settings from the environment; auth must be configured or disabled. */
export function loadTransferConfig(env: NodeJS.ProcessEnv = process.env): TransferConfig {
  return requireAuthSettings(loadConfig(TransferConfig, env));
}
