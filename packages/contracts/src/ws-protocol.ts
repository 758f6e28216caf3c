import { z } from 'zod';
import { Id } from './ids.js';

/**
 * The WebSocket protocol of `/ws` and `/ws/warehouses`: JSON text frames. Clients written against the original
 * contract send only `subscribe`, `unsubscribe` and `ping` and read `type` and `data`; everything else is
 * additive.
 */
export const WS_PATHS = { inventory: '/ws', warehouses: '/ws/warehouses' } as const;

export const WS_LIMITS = {
  /** A frame larger than this gets an error frame and is ignored. */
  maxFrameBytes: 4 * 1024,
  /** A frame larger than this closes the connection with 1009 (the socket library refuses to buffer it). */
  hardMaxFrameBytes: 64 * 1024,
  maxChannelsPerConnection: 100,
  /** Client messages per second per connection; excess messages get RATE_LIMITED error frames. */
  maxMessagesPerSecond: 50,
  /** Bytes queued for a client before it is closed as a slow consumer. */
  maxSendQueueBytes: 1024 * 1024,
} as const;

/**
 * Batched frames, for clients that ask with `?batch=1` on the connection URL (as Centrifugo's JSON protocol
 * does): the gateway may then put several frames in one WebSocket message, one per line. A frame is JSON, which
 * never holds a raw newline, so splitting a message on `\n` gives its frames in order (`framesOfMessage`). What
 * a fan-out or a replay costs is mostly per message, on both ends; a client that does not ask gets one frame per
 * message, as the original contract has it.
 */
export const WS_BATCH = {
  /** The query parameter that asks for batched frames (`1` or `true`). */
  query: 'batch',
  separator: '\n',
  /** A message holds frames up to about this many bytes; a single larger frame goes alone. */
  maxMessageBytes: 256 * 1024,
} as const;

/** The frames of one message, batched or not, in order. */
export function framesOfMessage(text: string): string[] {
  return text.includes(WS_BATCH.separator) ? text.split(WS_BATCH.separator) : [text];
}

/** Close codes the gateway uses; 4xxx are private to this protocol. */
export const WS_CLOSE = {
  /** Server shutting down: reconnect (to another instance) and resume with cursors. */
  goingAway: 1001,
  /** The client kept sending far faster than `maxMessagesPerSecond` after being told RATE_LIMITED. */
  policyViolation: 1008,
  /** A frame exceeded `hardMaxFrameBytes`. */
  messageTooBig: 1009,
  /** An unexpected failure in the gateway: reconnect and resume with cursors. */
  internalError: 1011,
  /** The events stream was recreated under the gateway: reconnect; old cursors get `reset`. */
  serviceRestart: 1012,
  /** The gateway could not reach the event stream for a subscription: reconnect (with backoff) and resume. */
  tryAgainLater: 1013,
  /** Missing, malformed, expired or wrongly signed token; also sent at the token's `exp` unless refreshed. */
  unauthorized: 4401,
  /** No pong to the server's ping in time. */
  heartbeatTimeout: 4408,
  /** A newer connection bound the same durable session: this one must not reconnect with it on its own. */
  sessionTakenOver: 4409,
  /** The token's subject or the client's address already holds the maximum of connections on this instance. */
  tooManyConnections: 4430,
  /** The client did not read fast enough and its send queue overflowed; resume with cursors. */
  slowConsumer: 4429,
} as const;

export const WsErrorCode = z.enum([
  'INVALID_JSON',
  'INVALID_MESSAGE',
  'UNKNOWN_MESSAGE_TYPE',
  'INVALID_CHANNEL',
  'CHANNEL_NOT_ALLOWED_HERE',
  'FORBIDDEN_CHANNEL',
  'INVALID_CURSOR',
  'INVALID_SESSION',
  'FRAME_TOO_LARGE',
  'TOO_MANY_CHANNELS',
  'RATE_LIMITED',
  'NOT_SUBSCRIBED',
  /** A `refresh` token that does not verify (or names another subject): the connection keeps its old claims. */
  'INVALID_TOKEN',
  /** This gateway instance serves its maximum of live channels: a new channel is refused, existing ones go on. */
  'LIVE_CHANNEL_LIMIT',
  /** The user holds the maximum of durable sessions: the connection goes on without one. */
  'TOO_MANY_SESSIONS',
  /** The event stream is unreachable; the connection is closed with 1013 right after. */
  'UNAVAILABLE',
]);
export type WsErrorCode = z.infer<typeof WsErrorCode>;

const RequestId = z.string().max(64).optional();
const ChannelName = z.string().max(200);

const CursorText = z.string().max(64);
/** One entry of a batched subscribe: a channel name, or a channel with the cursor to resume it from. */
export const SubscribeEntry = z.union([
  ChannelName,
  z.object({ channel: ChannelName, cursor: CursorText.optional() }),
]);
export type SubscribeEntry = z.infer<typeof SubscribeEntry>;
/**
 * `channel` (the original contract), or `channels`: up to `maxChannelsPerConnection` channels in one message,
 * which counts once against the message rate; each channel is answered on its own frame.
 */
export const SubscribeMessage = z
  .object({
    type: z.literal('subscribe'),
    channel: ChannelName.optional(),
    channels: z.array(SubscribeEntry).min(1).max(WS_LIMITS.maxChannelsPerConnection).optional(),
    cursor: CursorText.optional(),
    requestId: RequestId,
  })
  .refine((message) => (message.channel === undefined) !== (message.channels === undefined), {
    error: 'give either "channel" or "channels"',
    path: ['channel'],
  });
export const UnsubscribeMessage = z.object({
  type: z.literal('unsubscribe'),
  channel: ChannelName,
  requestId: RequestId,
});
export const PingMessage = z.object({ type: z.literal('ping'), requestId: RequestId });
/** Binds the connection to a durable session (also possible with `?session=` on connect); first message only. */
export const SessionMessage = z.object({ type: z.literal('session'), sessionId: Id, requestId: RequestId });
/**
 * Replaces the claims of a live connection with a fresh token's, before the current one expires (the gateway
 * closes a connection with 4401 at its token's `exp`). Answered by `refreshed`, or an INVALID_TOKEN error.
 */
export const RefreshMessage = z.object({
  type: z.literal('refresh'),
  token: z.string().min(1).max(3_800),
  requestId: RequestId,
});
/** Tells the gateway what the client has processed, so a durable session resumes exactly there. */
export const AckMessage = z.object({
  type: z.literal('ack'),
  channel: ChannelName,
  cursor: z.string().max(64),
});

export const ClientMessage = z.discriminatedUnion('type', [
  SubscribeMessage,
  UnsubscribeMessage,
  PingMessage,
  SessionMessage,
  AckMessage,
  RefreshMessage,
]);
export type ClientMessage = z.infer<typeof ClientMessage>;
export const CLIENT_MESSAGE_TYPES = [
  'subscribe',
  'unsubscribe',
  'ping',
  'session',
  'ack',
  'refresh',
] as const;

export const WelcomeFrame = z.object({
  type: z.literal('welcome'),
  connectionId: z.string(),
  sessionId: z.string().nullable(),
  heartbeatMs: z.int(),
  limits: z.object({
    maxFrameBytes: z.int(),
    maxChannelsPerConnection: z.int(),
    maxMessagesPerSecond: z.int(),
  }),
  /** When the connection's token expires (ISO time): refresh before it, or the connection closes with 4401. */
  expiresAt: z.string().nullable().optional(),
  /** Present (true) when the client asked for batched frames (`?batch=1`) and gets them. */
  batching: z.boolean().optional(),
});
export const SubscribedFrame = z.object({
  type: z.literal('subscribed'),
  channel: z.string(),
  /** Position at subscription: resuming with it delivers exactly what happened after. */
  cursor: z.string(),
  requestId: RequestId,
});
export const UnsubscribedFrame = z.object({
  type: z.literal('unsubscribed'),
  channel: z.string(),
  requestId: RequestId,
  /** Why the gateway ended a channel the client did not leave (a refreshed token no longer grants it). */
  reason: z.enum(['FORBIDDEN_CHANNEL']).optional(),
});
/** Sent once a channel subscribed with a cursor has delivered everything missed; what follows is live. */
export const LiveFrame = z.object({ type: z.literal('live'), channel: z.string(), replayed: z.int() });
/**
 * Why a cursor cannot be resumed (the client reloads over REST): retention removed events after it, the stream
 * was recreated, or it names a position the stream never reached.
 */
export const ResetReason = z.enum(['cursor_expired', 'stream_recreated', 'cursor_ahead']);
export type ResetReason = z.infer<typeof ResetReason>;
export const ResetFrame = z.object({
  type: z.literal('reset'),
  channel: z.string(),
  reason: ResetReason,
  cursor: z.string(),
});
export const PongFrame = z.object({ type: z.literal('pong'), requestId: RequestId, time: z.string() });
export const ErrorFrame = z.object({
  type: z.literal('error'),
  code: WsErrorCode,
  message: z.string(),
  channel: z.string().optional(),
  requestId: RequestId,
});
/** A `refresh` was accepted: the connection now has the new token's claims and expiry. */
export const RefreshedFrame = z.object({
  type: z.literal('refreshed'),
  expiresAt: z.string().nullable(),
  requestId: RequestId,
});
/**
 * Graceful shutdown: the gateway asks a client to reconnect elsewhere right before it closes it with 1001. The
 * gateway spreads these hand-overs over a window itself (serving each client live until its turn), so a client
 * reconnects at once. `afterMs`, when present (gateways before 2026-12), asks it to wait that long first.
 */
export const ReconnectFrame = z.object({
  type: z.literal('reconnect'),
  reason: z.string(),
  afterMs: z.number().int().nonnegative().optional(),
});

/** One event as a client receives it: the original `{type, data}` plus routing and resume fields. */
export const EventFrame = z.object({
  type: z.string(),
  channel: z.string(),
  id: z.string(),
  cursor: z.string(),
  occurredAt: z.string(),
  data: z.record(z.string(), z.unknown()),
});
export type EventFrame = z.infer<typeof EventFrame>;

export const CONTROL_FRAME_TYPES = [
  'welcome',
  'subscribed',
  'unsubscribed',
  'live',
  'reset',
  'pong',
  'error',
  'reconnect',
  'refreshed',
] as const;

export const ControlFrame = z.discriminatedUnion('type', [
  WelcomeFrame,
  SubscribedFrame,
  UnsubscribedFrame,
  LiveFrame,
  ResetFrame,
  PongFrame,
  ErrorFrame,
  ReconnectFrame,
  RefreshedFrame,
]);
export type ControlFrame = z.infer<typeof ControlFrame>;
export type ServerFrame = ControlFrame | EventFrame;

export function isControlFrame(frame: { type: string }): frame is ControlFrame {
  return (CONTROL_FRAME_TYPES as readonly string[]).includes(frame.type);
}
