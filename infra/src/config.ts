import { BaseConfig } from '@inv/platform';
import { z } from 'zod';

export const InfraConfig = BaseConfig.pick({
  NATS_URL: true,
  NATS_USER: true,
  NATS_PASSWORD: true,
  STREAM_REPLICAS: true,
  STREAM_MAX_AGE_HOURS: true,
  LOG_LEVEL: true,
}).extend({
  INVENTORY_DATABASE_URL: z.string().default('postgres://postgres@127.0.0.1:5432/inventory'),
  TRANSFER_DATABASE_URL: z.string().default('postgres://postgres@127.0.0.1:5432/transfer'),
});
export type InfraConfig = z.infer<typeof InfraConfig>;
