import { z } from 'zod';

export const ReorderConfig = z
  .object({
    NATS_URL: z.string().default('nats://127.0.0.1:4222'),
    DATABASE_URL: z.string().default('postgres://postgres@127.0.0.1:5432/reorder'),
    INVENTORY_URL: z.url().default('http://127.0.0.1:3001'),
    TRANSFER_URL: z.url().default('http://127.0.0.1:3002'),
    /** A service token issued to this service (roles clerk, the warehouses it may move stock between)… */
    SERVICE_TOKEN: z.string().optional(),
    /** …or, in development, the shared HS256 secret to mint one. */
    JWT_SECRET: z.string().min(32).optional(),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  })
  .refine((c) => c.SERVICE_TOKEN || c.JWT_SECRET, {
    error: 'set SERVICE_TOKEN (or JWT_SECRET in development)',
  });
export type ReorderConfig = z.infer<typeof ReorderConfig>;

export function loadReorderConfig(env: NodeJS.ProcessEnv = process.env): ReorderConfig {
  const parsed = ReorderConfig.safeParse(env);
  if (!parsed.success) {
    throw new Error(
      `invalid configuration: ${parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}`,
    );
  }
  return parsed.data;
}
