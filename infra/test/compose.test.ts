import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const COMPOSE_TEXT = readFileSync(new URL('../../docker-compose.yml', import.meta.url), 'utf8');
const NATS_CONFIG = readFileSync(new URL('../nats/nats-accounts.conf', import.meta.url), 'utf8');
const SECRETS = [
  'JWT_SECRET',
  'POSTGRES_PASSWORD',
  'INVENTORY_NATS_PASSWORD',
  'TRANSFER_NATS_PASSWORD',
  'GATEWAY_NATS_PASSWORD',
  'WEBHOOKS_NATS_PASSWORD',
  'OPERATOR_NATS_PASSWORD',
];

interface Service {
  environment?: Record<string, string>;
  ports?: string[];
  command?: string[];
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
}
const compose = parse(COMPOSE_TEXT, { merge: true }) as { services: Record<string, Service> };

/** Compose's interpolation of `${VAR}`, `${VAR:-default}` and `${VAR:?message}` (which refuses to start). */
function interpolate(text: string, env: Record<string, string>): string {
  return text.replace(/\$\{(\w+)(?::([-?])([^}]*))?\}/g, (_, name: string, op?: string, arg?: string) => {
    const value = env[name];
    if (value) return value;
    if (op === '?') throw new Error(`${name}: ${arg}`);
    return op === '-' ? (arg ?? '') : '';
  });
}

describe('docker-compose.yml', () => {
  const secrets = Object.fromEntries(
    SECRETS.map((name) => [name, `${name.toLowerCase()}-value-0123456789abcdef0123`]),
  );

  it('refuses to start without each of its secrets, and has no fallback for any', () => {
    expect(() => interpolate(COMPOSE_TEXT, secrets)).not.toThrow();
    for (const name of SECRETS) {
      expect(() => interpolate(COMPOSE_TEXT, { ...secrets, [name]: '' }), name).toThrow(name);
    }
    const references = [...COMPOSE_TEXT.matchAll(/\$\{(\w+)(:?[-?])?/g)];
    expect(references.filter(([, name]) => SECRETS.includes(name!)).every(([, , op]) => op === ':?')).toBe(
      true,
    );
    expect(COMPOSE_TEXT).not.toMatch(/trust/);
  });

  it('publishes only the dashboard, the gateway and the REST ports (the webhook admin API among them)', () => {
    const published = Object.entries(compose.services).flatMap(([name, service]) =>
      (service.ports ?? []).map((port) => `${name} ${port}`),
    );
    expect(published.sort()).toEqual([
      'dashboard 8080:8080',
      'gateway 3000:3000',
      'inventory 3001:3001',
      'transfer 3002:3002',
      'webhooks 3003:3003',
    ]);
  });

  it('gives PostgreSQL a password and every database URL that password', () => {
    const resolved = parse(interpolate(COMPOSE_TEXT, secrets), { merge: true }) as typeof compose;
    expect(resolved.services.postgres!.environment).toEqual({ POSTGRES_PASSWORD: secrets.POSTGRES_PASSWORD });
    const urls = Object.values(resolved.services).flatMap((service) =>
      Object.entries(service.environment ?? {})
        .filter(([key]) => key.endsWith('DATABASE_URL'))
        .map(([, url]) => url),
    );
    // setup's two (it migrates inventory and transfer) and one per service with a database.
    expect(urls).toHaveLength(5);
    for (const url of urls) expect(new URL(url).password).toBe(secrets.POSTGRES_PASSWORD);
  });

  it('runs NATS with the users file and connects each service as its own user with that user’s password', () => {
    for (const node of ['nats-1', 'nats-2', 'nats-3']) {
      const service = compose.services[node]!;
      expect(service.command?.slice(0, 2)).toEqual(['-c', '/etc/nats/nats-accounts.conf']);
      expect(service.volumes).toContain('./infra/nats/nats-accounts.conf:/etc/nats/nats-accounts.conf:ro');
      expect(Object.keys(service.environment ?? {}).sort()).toEqual(
        SECRETS.filter((s) => s.includes('NATS')).sort(),
      );
    }
    const users = [...NATS_CONFIG.matchAll(/user: (\w+)\s+password: \$(\w+)/g)].map(([, user, variable]) => ({
      user: user!,
      variable: variable!,
    }));
    expect(users.map(({ user }) => user).sort()).toEqual([
      'gateway',
      'inventory',
      'operator',
      'transfer',
      'webhooks',
    ]);
    const expected = {
      setup: 'operator',
      inventory: 'inventory',
      transfer: 'transfer',
      gateway: 'gateway',
      webhooks: 'webhooks',
    };
    // Every service that connects to NATS has a user of its own in the file, and every user but the operator's
    // (invctl shares it with the setup) belongs to one service.
    const composeUsers = Object.values(compose.services).flatMap(
      (service) => service.environment?.NATS_USER ?? [],
    );
    expect([...composeUsers].sort()).toEqual(users.map(({ user }) => user).sort());
    for (const [name, user] of Object.entries(expected)) {
      const environment = compose.services[name]!.environment!;
      expect(environment.NATS_USER, name).toBe(user);
      const variable = users.find((entry) => entry.user === user)!.variable;
      expect(environment.NATS_PASSWORD, name).toMatch(new RegExp(`^\\$\\{${variable}:\\?`));
    }
  });

  it('runs the webhook bridge after the setup, on its own database, with a health check on /readyz', () => {
    const webhooks = compose.services.webhooks!;
    expect(webhooks.command).toEqual(['node', 'services/webhooks/dist/main.js']);
    expect(webhooks.depends_on).toEqual({ setup: { condition: 'service_completed_successfully' } });
    expect(webhooks.environment?.PORT).toBe('3003');
    expect(webhooks.environment?.DATABASE_URL).toMatch(/@postgres:5432\/webhooks$/);
    // Never private endpoints in a deployment: only tests and development allow them.
    expect(webhooks.environment).not.toHaveProperty('WEBHOOK_ALLOW_PRIVATE');
    expect(webhooks.healthcheck?.test.join(' ')).toContain('http://127.0.0.1:3003/readyz');
  });
});
