import { encodeCursor } from '@inv/contracts';
import { describe, expect, it } from 'vitest';
import { parseClientFrame } from './client-message.js';

const parse = (value: unknown, isBinary = false) =>
  parseClientFrame(
    Buffer.isBuffer(value) ? value : Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)),
    isBinary,
    4096,
  );

describe('client frames', () => {
  it("reads the original contract's messages", () => {
    expect(parse({ type: 'subscribe', channel: 'product:prod-123' })).toEqual({
      ok: true,
      message: {
        type: 'subscribe',
        name: 'product:prod-123',
        channel: { kind: 'product', productId: 'prod-123' },
        cursor: null,
      },
    });
    expect(parse({ type: 'unsubscribe', channel: 'product:prod-123' })).toMatchObject({
      ok: true,
      message: { name: 'product:prod-123' },
    });
    expect(parse({ type: 'ping' })).toEqual({ ok: true, message: { type: 'ping' } });
  });

  it('reads cursors, sessions and acknowledgements', () => {
    const cursor = encodeCursor({ seq: 42, epoch: 1_700_000_000_000 });
    expect(parse({ type: 'subscribe', channel: 'global', cursor, requestId: 'r1' })).toMatchObject({
      message: { cursor: { seq: 42, epoch: 1_700_000_000_000 }, requestId: 'r1' },
    });
    expect(parse({ type: 'session', sessionId: 's-1' })).toMatchObject({ message: { sessionId: 's-1' } });
    expect(parse({ type: 'ack', channel: 'global', cursor })).toMatchObject({
      message: { type: 'ack', name: 'global' },
    });
  });

  it.each([
    ['{', 'INVALID_JSON'],
    ['"text"', 'INVALID_MESSAGE'],
    [{ kind: 'ping' }, 'INVALID_MESSAGE'],
    [{ type: 'shout' }, 'UNKNOWN_MESSAGE_TYPE'],
    [{ type: 'subscribe', channel: 7 }, 'INVALID_MESSAGE'],
    [{ type: 'subscribe', channel: 'aisle:1' }, 'INVALID_CHANNEL'],
    [{ type: 'subscribe', channel: 'global', cursor: 'v2.x' }, 'INVALID_CURSOR'],
    [{ type: 'ack', channel: 'global', cursor: '' }, 'INVALID_CURSOR'],
    [{ type: 'session', sessionId: 'a b' }, 'INVALID_SESSION'],
    ['x'.repeat(4097), 'FRAME_TOO_LARGE'],
  ])('answers %j with %s', (frame, code) => {
    expect(parse(frame)).toMatchObject({ ok: false, error: { code } });
  });

  it('refuses binary frames and invalid UTF-8', () => {
    expect(parse(Buffer.from('{"type":"ping"}'), true)).toMatchObject({ error: { code: 'INVALID_MESSAGE' } });
    expect(parse(Buffer.from([0x7b, 0xc3, 0x28, 0x7d]))).toMatchObject({
      error: { code: 'INVALID_MESSAGE' },
    });
  });

  it('echoes the channel and request id of a refused message', () => {
    expect(parse({ type: 'subscribe', channel: 'aisle:1', requestId: 'r9' })).toMatchObject({
      error: { channel: 'aisle:1', requestId: 'r9' },
    });
  });
});
