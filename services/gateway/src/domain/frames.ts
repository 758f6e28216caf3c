import { type ControlFrame, encodeCursor, WS_BATCH } from '@inv/contracts';
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

/** A frame's size in bytes, as it goes on the wire. */
export function frameBytes(frame: Frame): number {
  return typeof frame === 'string' ? Buffer.byteLength(frame) : frame.length;
}

/**
 * Several frames as one batched message: one per line, in order (see `WS_BATCH`). The clients of a channel hold
 * the same frames in a burst (a fan-out; a storm of resumes from one cursor), so a batch equal to the previous
 * one, frame by frame, reuses its bytes instead of copying them again for each client.
 */
export function joinFrames(frames: readonly Frame[]): Buffer {
  if (lastJoined && sameFrames(lastJoined.frames, frames)) return lastJoined.message;
  const parts: Buffer[] = [];
  for (const frame of frames) {
    if (parts.length > 0) parts.push(NEWLINE);
    parts.push(typeof frame === 'string' ? Buffer.from(frame) : frame);
  }
  const message = Buffer.concat(parts);
  lastJoined = { frames, message };
  return message;
}

let lastJoined: { frames: readonly Frame[]; message: Buffer } | null = null;

function sameFrames(a: readonly Frame[], b: readonly Frame[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

const NEWLINE = Buffer.from(WS_BATCH.separator);

export function controlFrame(frame: ControlFrame): string {
  return JSON.stringify(frame);
}

export function errorFrame(error: ProtocolError): string {
  return controlFrame({ type: 'error', ...error });
}

/** What a client is told when its instance shuts down: reconnect (to another instance) and resume by cursor. */
export const SHUTDOWN_NOTICE: Extract<ControlFrame, { type: 'reconnect' }> = {
  type: 'reconnect',
  reason: 'shutdown',
};

/**
 * When, within the shutdown's spread, one connection is handed over: drawn uniformly from `[0, spreadMs)`, so
 * that an instance's clients reach the other instances (and read the stream) spread over the window, not all at
 * once.
 */
export function handOverDelay(spreadMs: number, random = Math.random): number {
  return spreadMs > 0 ? Math.floor(random() * spreadMs) : 0;
}
