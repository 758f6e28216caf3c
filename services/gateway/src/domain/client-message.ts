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

/** A client message that passed every check that needs no state: shape, channel grammar, cursor encoding. */
export type ParsedClientMessage =
  | { type: 'subscribe'; name: string; channel: Channel; cursor: CursorPosition | null; requestId?: string }
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
    case 'subscribe': {
      const channel = parseChannel(message.channel);
      if (!channel.ok) return fail({ code: 'INVALID_CHANNEL', message: channel.message, ...context });
      const name = formatChannel(channel.channel);
      let cursor: CursorPosition | null = null;
      if (message.cursor !== undefined) {
        cursor = decodeCursor(message.cursor);
        if (!cursor)
          return fail({
            code: 'INVALID_CURSOR',
            message: 'the cursor is not one the gateway issued',
            ...context,
          });
      }
      return {
        ok: true,
        message: { type: 'subscribe', name, channel: channel.channel, cursor, requestId: message.requestId },
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
