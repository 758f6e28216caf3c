import { BaseConfig } from '@inv/platform';
import { z } from 'zod';

const flag = z.enum(['true', 'false', '1', '0', '']).transform((v) => v === 'true' || v === '1');

export const DashboardConfig = BaseConfig.pick({
  LOG_LEVEL: true,
  HOST: true,
  JWT_SECRET: true,
  JWT_ISSUER: true,
  JWT_AUDIENCE: true,
  SLOW_REQUEST_MS: true,
}).extend({
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  INVENTORY_URL: z.url().default('http://127.0.0.1:3001'),
  TRANSFER_URL: z.url().default('http://127.0.0.1:3002'),
  /** Gateway base URL as the browser reaches it (ws:// or wss://). */
  GATEWAY_URL: z
    .string()
    .regex(/^wss?:\/\//)
    .default('ws://127.0.0.1:3000'),
  /**
   * Demo login: the server signs a token for a demo manager with JWT_SECRET. For local trials only; in
   * production the dashboard gets its token from the identity provider.
   */
  DASHBOARD_DEMO_LOGIN: flag.default(false),
  DASHBOARD_PUBLIC_DIR: z.string().optional(),
  /** With the demo login: run the activity simulator from the start (it can be toggled in the page too). */
  DASHBOARD_DEMO_ACTIVITY: flag.default(false),
  /** One simulated adjust, reservation step or transfer step per this many milliseconds. */
  DASHBOARD_ACTIVITY_INTERVAL_MS: z.coerce.number().int().min(100).max(60_000).default(1_500),
});
export type DashboardConfig = z.infer<typeof DashboardConfig>;
