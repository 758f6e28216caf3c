import {
  JetStreamApiError,
  type JetStreamClient,
  type JetStreamManager,
  jetstream,
  jetstreamManager,
} from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { CliError } from './errors.js';

export const DEFAULT_NATS_URL = 'nats://127.0.0.1:4222';

export const API_ERRORS = {
  streamNotFound: 10059,
  consumerNotFound: 10014,
  noMessageFound: 10037,
} as const;

export interface Broker {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
}

/** Connects for one command and always closes; `--follow` keeps reconnecting while it runs. */
export async function withBroker<T>(
  url: string,
  work: (broker: Broker) => Promise<T>,
  options: { reconnect?: boolean } = {},
): Promise<T> {
  const servers = url
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  let nc: NatsConnection;
  try {
    nc = await connect({
      servers,
      name: 'invctl',
      // The operator user where the server has users (infra/nats/nats-accounts.conf).
      user: process.env.NATS_USER,
      pass: process.env.NATS_PASSWORD,
      timeout: 5_000,
      maxReconnectAttempts: options.reconnect ? -1 : 10,
      reconnectTimeWait: 250,
    });
  } catch (error) {
    throw new CliError(`NATS is not reachable at ${servers.join(', ')}: ${(error as Error).message}`);
  }
  try {
    const jsm = await jetstreamManager(nc, { timeout: 10_000 });
    return await work({ nc, js: jetstream(nc, { timeout: 10_000 }), jsm });
  } finally {
    await nc.close().catch(() => undefined);
  }
}

export function isApiError(error: unknown, code: number): boolean {
  return error instanceof JetStreamApiError && error.code === code;
}

/** Rethrows "not found" API errors as a CLI error that names the missing thing. */
export async function orNotFound<T>(promise: Promise<T>, what: string): Promise<T> {
  try {
    return await promise;
  } catch (error) {
    if (isApiError(error, API_ERRORS.streamNotFound) || isApiError(error, API_ERRORS.consumerNotFound)) {
      throw new CliError(`${what} not found`);
    }
    throw error;
  }
}

/** NATS reports times as nanoseconds in integers and RFC 3339 strings; the zero time means "never". */
export function natsTime(text: string | undefined): Date | null {
  if (!text || text.startsWith('0001-01-01')) return null;
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? null : date;
}
