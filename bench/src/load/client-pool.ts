import { resolve } from 'node:path';
import { startLoadChild } from './child.js';
import type { ChildMessage, ClientsConfig, ClientsResult, ParentMessage } from './protocol.js';

const CLIENTS_ENTRY = resolve(import.meta.dirname, 'clients.js');

export interface ClientPool {
  connectMs: number;
  pid: number;
  /** Tells the clients to stop (once `expected` timed frames arrived, if given) and returns what they measured. */
  stop(expected?: number): Promise<ClientsResult>;
}

/**
 * Starts the clients in a child process and resolves once every one is connected and subscribed. Bounded in
 * time: a pool that cannot connect within `timeoutMs` is killed and the benchmark fails.
 */
export async function startClients(config: ClientsConfig, timeoutMs = 180_000): Promise<ClientPool> {
  const label = `clients (${config.target}, ${config.count})`;
  const { child, connectMs } = await startLoadChild<ChildMessage, ParentMessage>(
    CLIENTS_ENTRY,
    config,
    `clients-${config.target}-${config.count}`,
    timeoutMs,
  );
  return {
    connectMs,
    pid: child.pid,
    async stop(expected?: number) {
      const answer = child.next();
      child.send({ type: 'stop', expected });
      const message = await answer;
      if (message.type !== 'result') throw new Error(`${label} did not report a result`);
      return message.result;
    },
  };
}
