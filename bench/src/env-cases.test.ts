import { afterEach, describe, expect, it } from 'vitest';
import { casesFromEnv } from './env-cases.js';

describe('cases named in the environment', () => {
  afterEach(() => {
    delete process.env.BENCH_TEST_CASES;
  });

  it('reads each <a>x<b> item as one case, in order', () => {
    process.env.BENCH_TEST_CASES = '10000x50,1000x20';
    expect(casesFromEnv('BENCH_TEST_CASES', ['clients', 'missed'])).toEqual([
      { clients: 10000, missed: 50 },
      { clients: 1000, missed: 20 },
    ]);
  });

  it('is null when the variable is not set', () => {
    expect(casesFromEnv('BENCH_TEST_CASES', ['clients', 'rate'])).toBeNull();
  });

  it('refuses an item that is not two positive numbers, naming the variable', () => {
    process.env.BENCH_TEST_CASES = '1000x';
    expect(() => casesFromEnv('BENCH_TEST_CASES', ['clients', 'rate'])).toThrow(/BENCH_TEST_CASES: "1000x"/);
  });
});
