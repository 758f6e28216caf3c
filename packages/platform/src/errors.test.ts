import { describe, expect, it } from 'vitest';
import { ConfigError } from './config.js';
import { DatabaseUnreachableError } from './db/database.js';
import { InfrastructureError } from './errors.js';
import { NatsUnreachableError } from './nats/connect.js';
import { TimeoutError } from './retry.js';

describe('infrastructure errors', () => {
  it('share one base with a code for programs, a message for people and the underlying cause', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    const errors = [
      new ConfigError(['PORT: too big']),
      new DatabaseUnreachableError('postgres://app:secret@db:5432/inventory', refused),
      new NatsUnreachableError(['nats://127.0.0.1:4222'], refused),
      new TimeoutError('loading a session', 500),
    ];
    expect(errors.every((error) => error instanceof InfrastructureError)).toBe(true);
    expect(errors.map((error) => [error.name, error.code])).toEqual([
      ['ConfigError', 'CONFIG_INVALID'],
      ['DatabaseUnreachableError', 'DATABASE_UNREACHABLE'],
      ['NatsUnreachableError', 'NATS_UNREACHABLE'],
      ['TimeoutError', 'TIMEOUT'],
    ]);
    expect(errors[1]!.cause).toBe(refused);
    expect(errors[2]!.cause).toBe(refused);
    expect(errors[1]!.message).not.toContain('secret');
    expect(errors[1]!.message).toContain('ECONNREFUSED');
  });
});
