import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../../..');

describe('AUTH_DISABLED with NODE_ENV=production', () => {
  it.each(['inventory', 'transfer', 'gateway'])(
    'stops the %s service at start-up with a clear message and a non-zero exit',
    (service) => {
      const started = spawnSync(process.execPath, [resolve(ROOT, `services/${service}/dist/main.js`)], {
        env: { PATH: process.env.PATH, NODE_ENV: 'production', AUTH_DISABLED: 'true', PORT: '0' },
        encoding: 'utf8',
        timeout: 30_000,
      });
      expect(started.status).toBe(1);
      expect(started.stderr).toContain(
        `${service} failed to start: invalid configuration: AUTH_DISABLED: must not be true with NODE_ENV=production`,
      );
    },
  );
});
