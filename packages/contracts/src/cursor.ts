/**
 * A cursor is a client's opaque resume token: the EVENTS stream sequence of the last event it saw, and the
 * stream's creation time so that a cursor from a stream that was recreated is recognised and answered with
 * `reset` instead of a silent gap.
 */
export interface CursorPosition {
  seq: number;
  /** Creation time of the stream (ms since epoch) the sequence belongs to. */
  epoch: number;
}

const CURSOR_PATTERN = /^v1\.([0-9a-z]{1,11})\.([0-9a-z]{1,11})$/;

export function encodeCursor(position: CursorPosition): string {
  return `v1.${position.seq.toString(36)}.${position.epoch.toString(36)}`;
}

export function decodeCursor(cursor: unknown): CursorPosition | null {
  if (typeof cursor !== 'string') return null;
  const match = CURSOR_PATTERN.exec(cursor);
  if (!match) return null;
  const seq = Number.parseInt(match[1]!, 36);
  const epoch = Number.parseInt(match[2]!, 36);
  if (!Number.isSafeInteger(seq) || !Number.isSafeInteger(epoch)) return null;
  return { seq, epoch };
}
