import { describe, expect, it } from 'vitest';
import { handOverDelay, joinFrames } from './frames.js';

describe('the moment a connection is handed over at shutdown', () => {
  it('is at once without a spread', () => {
    expect(handOverDelay(0, () => 0.7)).toBe(0);
  });

  it('is drawn from the spread, below its end', () => {
    expect(handOverDelay(1000, () => 0)).toBe(0);
    expect(handOverDelay(1000, () => 0.25)).toBe(250);
    expect(handOverDelay(1000, () => 0.99999)).toBe(999);
  });
});

describe('a batched message', () => {
  const one = Buffer.from('{"type":"a"}');
  const two = Buffer.from('{"type":"b"}');

  it('holds its frames one per line, in order', () => {
    expect(joinFrames([one, '{"type":"pong"}', two]).toString()).toBe(
      '{"type":"a"}\n{"type":"pong"}\n{"type":"b"}',
    );
  });

  it('reuses the bytes of the batch joined last when the frames are the same ones', () => {
    const first = joinFrames([one, two]);
    expect(joinFrames([one, two])).toBe(first);
  });

  it('is joined anew when a frame differs, even with the same text', () => {
    const first = joinFrames([one, two]);
    const again = joinFrames([one, Buffer.from('{"type":"b"}')]);
    expect(again).not.toBe(first);
    expect(again.toString()).toBe(first.toString());
    expect(joinFrames([two, one]).toString()).toBe('{"type":"b"}\n{"type":"a"}');
  });
});
