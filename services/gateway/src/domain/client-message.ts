import { isUtf8 } from 'node:buffer';
import {
  type Channel,
  CLIENT_MESSAGE_TYPES,
  ClientMessage,
  type CursorPosition,
  decodeCursor,
  formatChannel,
  parseChannel,
  type WsErrorCode,
} from '@inv/contracts';

export interface ProtocolError {
  code: WsErrorCode;
  message: string;
  channel?: string;
  requestId?: string;
}

export interface SubscribeTarget {
  name: string;
  channel: Channel;
  cursor: CursorPosition | null;
}

/** One entry of a batched subscribe: a channel to subscribe, or what is wrong with it (answered on its own). */
export type BatchEntry = ({ ok: true } & SubscribeTarget) | { ok: false; error: ProtocolError };

/** A client message that passed every check that needs no state: shape, channel grammar, cursor encoding. */
export type ParsedClientMessage =
  | ({ type: 'subscribe'; requestId?: string } & SubscribeTarget)
  | { type: 'subscribe-batch'; entries: BatchEntry[]; requestId?: string }
  | { type: 'refresh'; token: string; requestId?: string }
  | { type: 'unsubscribe'; name: string; requestId?: string }
  | { type: 'ping'; requestId?: string }
  | { type: 'session'; sessionId: string; requestId?: string }
  | { type: 'ack'; name: string; cursor: CursorPosition };

export type ParseResult = { ok: true; message: ParsedClientMessage } | { ok: false; error: ProtocolError };

const fail = (error: ProtocolError): ParseResult => ({ ok: false, error });

/** Reads what a client may echo back even from a message that fails validation. */
function echo(raw: Record<string, unknown>): Pick<ProtocolError, 'channel' | 'requestId'> {
  const out: Pick<ProtocolError, 'channel' | 'requestId'> = {};
  if (typeof raw.channel === 'string' && raw.channel.length <= 200) out.channel = raw.channel;
  if (typeof raw.requestId === 'string' && raw.requestId.length <= 64) out.requestId = raw.requestId;
  return out;
}

/**
 * Parses one WebSocket frame from a client into a protocol message, or says precisely what is wrong with it.
 * Never throws: every frame, however malformed, gets an answer.
 */
export function parseClientFrame(data: Buffer, isBinary: boolean, maxFrameBytes: number): ParseResult {
  if (data.length > maxFrameBytes) {
    return fail({
      code: 'FRAME_TOO_LARGE',
      message: `frames are limited to ${maxFrameBytes} bytes; this one has ${data.length}`,
    });
  }
  if (isBinary)
    return fail({ code: 'INVALID_MESSAGE', message: 'binary frames are not supported; send JSON text' });
  if (!isUtf8(data)) return fail({ code: 'INVALID_MESSAGE', message: 'the frame is not valid UTF-8 text' });
  let raw: unknown;
  try {
    raw = JSON.parse(data.toString('utf8'));
  } catch {
    return fail({ code: 'INVALID_JSON', message: 'the frame is not valid JSON' });
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return fail({ code: 'INVALID_MESSAGE', message: 'a message is a JSON object with a "type"' });
  }
  return parseClientObject(raw as Record<string, unknown>);
}

export function parseClientObject(raw: Record<string, unknown>): ParseResult {
  const context = echo(raw);
  if (typeof raw.type !== 'string') {
    return fail({ code: 'INVALID_MESSAGE', message: 'a message needs a string "type"', ...context });
  }
  if (!(CLIENT_MESSAGE_TYPES as readonly string[]).includes(raw.type)) {
    return fail({
      code: 'UNKNOWN_MESSAGE_TYPE',
      message: `unknown message type; expected one of ${CLIENT_MESSAGE_TYPES.join(', ')}`,
      ...context,
    });
  }
  const parsed = ClientMessage.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.join('.') || 'message';
    const code: WsErrorCode = issue?.path[0] === 'sessionId' ? 'INVALID_SESSION' : 'INVALID_MESSAGE';
    return fail({
      code,
      message: `invalid ${raw.type} message: ${where} ${issue?.message ?? ''}`.trim(),
      ...context,
    });
  }
  return interpret(parsed.data, context);
}

function interpret(
  message: ClientMessage,
  context: Pick<ProtocolError, 'channel' | 'requestId'>,
): ParseResult {
  switch (message.type) {
    case 'ping':
      return { ok: true, message: { type: 'ping', requestId: message.requestId } };
    case 'session':
      return {
        ok: true,
        message: { type: 'session', sessionId: message.sessionId, requestId: message.requestId },
      };
    case 'unsubscribe': {
      const channel = parseChannel(message.channel);
      if (!channel.ok) return fail({ code: 'INVALID_CHANNEL', message: channel.message, ...context });
      const name = formatChannel(channel.channel);
      return { ok: true, message: { type: 'unsubscribe', name, requestId: message.requestId } };
    }
    case 'refresh':
      return { ok: true, message: { type: 'refresh', token: message.token, requestId: message.requestId } };
    case 'subscribe': {
      if (message.channels) {
        if (message.cursor !== undefined) {
          return fail({
            code: 'INVALID_MESSAGE',
            message: 'invalid subscribe message: give each channel of "channels" its own cursor',
            ...context,
          });
        }
        const entries = message.channels.map((entry) =>
          typeof entry === 'string'
            ? subscribeTarget(entry, undefined)
            : subscribeTarget(entry.channel, entry.cursor),
        );
        return { ok: true, message: { type: 'subscribe-batch', entries, requestId: message.requestId } };
      }
      const target = subscribeTarget(message.channel ?? '', message.cursor);
      if (!target.ok) return fail({ ...target.error, ...context });
      const { name, channel, cursor } = target;
      return {
        ok: true,
        message: { type: 'subscribe', name, channel, cursor, requestId: message.requestId },
      };
    }
    case 'ack': {
      const channel = parseChannel(message.channel);
      if (!channel.ok) return fail({ code: 'INVALID_CHANNEL', message: channel.message, ...context });
      const cursor = decodeCursor(message.cursor);
      if (!cursor)
        return fail({
          code: 'INVALID_CURSOR',
          message: 'the cursor is not one the gateway issued',
          ...context,
        });
      return { ok: true, message: { type: 'ack', name: formatChannel(channel.channel), cursor } };
    }
  }
}

/** A channel and optional cursor of a subscribe, checked; an error names the channel as the client wrote it. */
function subscribeTarget(text: string, cursorText: string | undefined): BatchEntry {
  const channel = parseChannel(text);
  if (!channel.ok) {
    return { ok: false, error: { code: 'INVALID_CHANNEL', message: channel.message, channel: text } };
  }
  let cursor: CursorPosition | null = null;
  if (cursorText !== undefined) {
    cursor = decodeCursor(cursorText);
    if (!cursor) {
      const message = 'the cursor is not one the gateway issued';
      return { ok: false, error: { code: 'INVALID_CURSOR', message, channel: text } };
    }
  }
  return { ok: true, name: formatChannel(channel.channel), channel: channel.channel, cursor };
}
