import { describe, expect, it } from 'vitest';
import { redacted } from './store.js';

describe('redacted', () => {
  it('takes the secret out of an error, its stack and its causes, keeping its class and code', () => {
    const cause = Object.assign(new Error('bind failed for value my-endpoint-secret'), { code: '08006' });
    class DriverError extends Error {
      code = '57P01';
    }
    const error = new DriverError(
      "insert into webhook_endpoint values ('my-endpoint-secret') - connection lost",
      {
        cause,
      },
    );
    const result = redacted(error, 'my-endpoint-secret') as DriverError;
    expect(result).toBe(error);
    expect(result).toBeInstanceOf(DriverError);
    expect(result.code).toBe('57P01');
    expect(result.message).toBe("insert into webhook_endpoint values ('[secret]') - connection lost");
    expect(result.stack).not.toContain('my-endpoint-secret');
    expect((result.cause as Error).message).toBe('bind failed for value [secret]');
    expect((result.cause as { code: string }).code).toBe('08006');
  });
});
