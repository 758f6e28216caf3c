import { pino } from 'pino';

/** Quiet unless TEST_LOG_LEVEL asks for more. */
export function testLogger(name = 'test') {
  return pino({ name, level: process.env.TEST_LOG_LEVEL ?? 'silent' });
}
