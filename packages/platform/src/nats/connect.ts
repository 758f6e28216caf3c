import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import { InfrastructureError } from '../errors.js';

export class NatsUnreachableError extends InfrastructureError {
  constructor(servers: string[], cause: unknown) {
    super(
      'NATS_UNREACHABLE',
      `NATS is not reachable at ${servers.join(', ')} (${(cause as Error)?.message ?? cause}). ` +
        'Start it with `nats-server -js` (installed package) or `docker compose up -d nats-1 nats-2 nats-3`.',
      { cause },
    );
  }
}

/**
 * Connects to NATS and keeps reconnecting forever: a broker outage delays events, it never ends the process.
 * The first connection must succeed, so a misconfigured URL fails fast at start-up.
 */
export async function connectNats(options: {
  servers: string[];
  name: string;
  logger: Logger;
  /** Credentials where the server has users (infra/nats/nats-accounts.conf). */
  user?: string;
  pass?: string;
}): Promise<NatsConnection> {
  let nc: NatsConnection;
  try {
    nc = await connect({
      servers: options.servers,
      name: options.name,
      user: options.user,
      pass: options.pass,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      reconnectJitter: 100,
      pingInterval: 10_000,
      maxPingOut: 3,
      timeout: 5_000,
      // nats.js otherwise builds two error objects with stack traces for every request and JetStream publish, in
      // case it fails (8–9% of the inventory service's CPU under load); a failure still raises the same errors.
      noAsyncTraces: true,
    });
  } catch (error) {
    throw new NatsUnreachableError(options.servers, error);
  }
  void (async () => {
    for await (const status of nc.status()) {
      if (status.type === 'disconnect' || status.type === 'error') {
        options.logger.warn({ status }, 'nats connection problem');
      } else if (status.type === 'reconnect') {
        options.logger.info({ status }, 'nats reconnected');
      }
    }
  })();
  return nc;
}
