import { WS_LIMITS } from '@inv/contracts';
import { BaseConfig, loadConfig, requireAuthSettings } from '@inv/platform';
import { z } from 'zod';

const positiveInt = z.coerce.number().int().positive();

export const GatewayConfig = BaseConfig.extend({
  PORT: z.coerce.number().int().min(0).max(65_535).default(3000),
  /** Idle connections get a WebSocket ping this often; one that has not answered by the next sweep is closed. */
  HEARTBEAT_MS: positiveInt.default(30_000),
  WS_MAX_FRAME_BYTES: positiveInt.max(WS_LIMITS.hardMaxFrameBytes).default(WS_LIMITS.maxFrameBytes),
  WS_MAX_CHANNELS: positiveInt.default(WS_LIMITS.maxChannelsPerConnection),
  WS_MAX_MESSAGES_PER_SECOND: positiveInt.default(WS_LIMITS.maxMessagesPerSecond),
  WS_MAX_SEND_QUEUE_BYTES: positiveInt.default(WS_LIMITS.maxSendQueueBytes),
  /**
   * While the process is busier than WS_WRITE_DELAY_BUSY_ABOVE (share of its event loop's time), frames are held
   * up to this long (ms) so that a busy channel's events leave together: fewer system calls and messages for the
   * same events, at most this much later. When the process is not that busy frames leave at once. 0: never held.
   */
  WS_WRITE_DELAY_MS: z.coerce.number().int().min(0).max(1_000).default(10),
  WS_WRITE_DELAY_BUSY_ABOVE: z.coerce.number().min(0).max(1).default(0.5),
  /** A durable session's positions are forgotten after this long without a write (KV bucket TTL). */
  SESSION_TTL_HOURS: z.coerce.number().positive().default(24),
  /** Client replays reading the stream at the same time; more wait their turn. */
  MAX_CONCURRENT_REPLAYS: positiveInt.default(64),
  /** Live channels filling a gap from the stream (after a NATS reconnect) at once: never behind client replays. */
  MAX_CONCURRENT_BACKFILLS: positiveInt.default(16),
  /** Replays one connection may run at once; its further resumes wait for them, holding nothing. */
  WS_MAX_REPLAYS_PER_CONNECTION: positiveInt.max(8).default(2),
  /** Open connections per token subject on this instance; more are closed with 4409. */
  WS_MAX_CONNECTIONS_PER_USER: positiveInt.default(20),
  /** Open connections per client address on this instance; more are closed with 4409. */
  WS_MAX_CONNECTIONS_PER_IP: positiveInt.default(1_000),
  /** Live channels (NATS subscriptions) of this instance; a new channel beyond it gets LIVE_CHANNEL_LIMIT. */
  WS_MAX_LIVE_CHANNELS: positiveInt.default(20_000),
  /** Durable sessions with stored positions per token subject; another one gets TOO_MANY_SESSIONS. */
  WS_MAX_SESSIONS_PER_USER: positiveInt.default(10),
  /** A channel nobody subscribes to any more keeps its live NATS subscription this long (reconnects, churn). */
  CHANNEL_LINGER_MS: z.coerce.number().int().min(0).default(10_000),
  /** Positions of durable sessions are written at most this often per channel (and on close). */
  SESSION_FLUSH_MS: positiveInt.default(1_000),
  /**
   * The live feed's position is compared with the stream's end this often; a message lost on its way with none
   * after it is read back within two intervals.
   */
  LIVE_AUDIT_MS: positiveInt.default(500),
  /**
   * The recent-events window of this instance (one, shared by every channel): resumes from a cursor it covers
   * are served from memory. Bounded by both; 0 turns it off (every resume reads the stream).
   */
  RECENT_WINDOW_EVENTS: z.coerce.number().int().min(0).default(10_000),
  RECENT_WINDOW_BYTES: z.coerce
    .number()
    .int()
    .min(0)
    .default(64 * 1024 * 1024),
  /**
   * On shutdown each client is told to wait a random delay below this before reconnecting (`afterMs` of the
   * `reconnect` frame), so that a deploy spreads the instance's clients out; 0 asks them to come back at once.
   */
  SHUTDOWN_RECONNECT_SPREAD_MS: z.coerce.number().int().min(0).max(60_000).default(1_000),
  /** How often connections are checked for an expired token (closed with 4401 at most this long after `exp`). */
  TOKEN_EXPIRY_CHECK_MS: positiveInt.max(60_000).default(1_000),
});
export type GatewayConfig = z.infer<typeof GatewayConfig>;

/** Reads the gateway's settings from the environment; auth must be configured or explicitly disabled. */
export function loadGatewayConfig(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  return requireAuthSettings(loadConfig(GatewayConfig, env));
}

/** The per-connection limits the protocol layer enforces, from the configuration. */
export interface ConnectionLimits {
  maxFrameBytes: number;
  maxChannels: number;
  maxMessagesPerSecond: number;
  maxSendQueueBytes: number;
  maxReplays: number;
}

export function connectionLimits(config: GatewayConfig): ConnectionLimits {
  return {
    maxFrameBytes: config.WS_MAX_FRAME_BYTES,
    maxChannels: config.WS_MAX_CHANNELS,
    maxMessagesPerSecond: config.WS_MAX_MESSAGES_PER_SECOND,
    maxSendQueueBytes: config.WS_MAX_SEND_QUEUE_BYTES,
    maxReplays: config.WS_MAX_REPLAYS_PER_CONNECTION,
  };
}
