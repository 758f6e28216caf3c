import { describe, expect, it } from 'vitest';
import { shutdownNotice } from './frames.js';

describe('the shutdown notice', () => {
  it('asks for a reconnect at once without a spread', () => {
    expect(shutdownNotice(0, () => 0.7)).toEqual({ type: 'reconnect', reason: 'shutdown' });
  });

  it('draws each delay from the spread, below its end', () => {
    expect(shutdownNotice(1000, () => 0)).toEqual({ type: 'reconnect', reason: 'shutdown', afterMs: 0 });
    expect(shutdownNotice(1000, () => 0.25).afterMs).toBe(250);
    expect(shutdownNotice(1000, () => 0.99999).afterMs).toBe(999);
  });
});
