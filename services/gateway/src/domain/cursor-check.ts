import type { CursorPosition, ResetReason } from '@inv/contracts';

/** What the gateway knows of the EVENTS stream at one moment. */
export interface StreamState {
  /** Creation time (ms): a cursor from another epoch belongs to a stream that no longer exists. */
  epoch: number;
  /** First sequence still stored (0 on a stream that never held a message). */
  firstSeq: number;
  lastSeq: number;
}

/**
 * Whether a client can resume from a cursor, or must reload over REST: the stream was recreated, events after
 * the cursor have been removed by retention, or the cursor names a position the stream never reached.
 */
export function resetReasonFor(cursor: CursorPosition, stream: StreamState): ResetReason | null {
  if (cursor.epoch !== stream.epoch) return 'stream_recreated';
  if (cursor.seq > stream.lastSeq) return 'cursor_ahead';
  if (cursor.seq + 1 < stream.firstSeq) return 'cursor_expired';
  return null;
}
