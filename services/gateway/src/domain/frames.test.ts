import { describe, expect, it } from 'vitest';
import { handOverDelay } from './frames.js';

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
