import { type ControlFrame, encodeCursor } from '@inv/contracts';
import type { ProtocolError } from './client-message.js';
import type { StoredEvent } from './stored-event.js';

/** A JSON text frame; event frames are UTF-8 bytes already, so that a fan-out encodes them once, not per client. */
export type Frame = string | Buffer;

/**
 * An event frame: the original contract's `{type, data}` plus `channel`, `id`, `cursor` and `occurredAt`. Built
 * once per event and channel, and the same bytes are sent to every client of the channel.
 */
export function eventFrame(event: StoredEvent, channelJson: string, epoch: number): Buffer {
  const cursor = encodeCursor({ seq: event.seq, epoch });
  return Buffer.from(
    `{"type":${JSON.stringify(event.type)},"channel":${channelJson},"id":${JSON.stringify(event.id)},` +
      `"cursor":"${cursor}","occurredAt":${JSON.stringify(event.occurredAt)},"data":${event.dataJson}}`,
  );
}

export function controlFrame(frame: ControlFrame): string {
  return JSON.stringify(frame);
}

export function errorFrame(error: ProtocolError): string {
  return controlFrame({ type: 'error', ...error });
}

/**
 * The `reconnect` frame of one client at shutdown: with a spread, a delay drawn uniformly from it, so that the
 * instance's clients reach the other instances (and read the stream) spread over the window, not all at once.
 */
export function shutdownNotice(
  spreadMs: number,
  random = Math.random,
): Extract<ControlFrame, { type: 'reconnect' }> {
  if (spreadMs <= 0) return { type: 'reconnect', reason: 'shutdown' };
  return { type: 'reconnect', reason: 'shutdown', afterMs: Math.floor(random() * spreadMs) };
}
