import { fork } from 'node:child_process';
import { resolve } from 'node:path';
import type { ChildMessage, ClientsConfig, ClientsResult } from './protocol.js';

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
export function startClients(config: ClientsConfig, timeoutMs = 180_000): Promise<ClientPool> {
  // `npm run bench -- --profile` profiles the clients too, to tell a slow server from a slow load generator.
  const profileDir = process.env.BENCH_PROFILE_DIR;
  const profile = profileDir
    ? [
        '--cpu-prof',
        `--cpu-prof-dir=${profileDir}`,
        `--cpu-prof-name=clients-${config.target}-${config.count}.cpuprofile`,
      ]
    : [];
  const child = fork(CLIENTS_ENTRY, [JSON.stringify(config)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    execArgv: ['--max-old-space-size=2048', ...profile],
  });
  const next = () =>
    new Promise<ChildMessage>((resolveMessage, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(
          new Error(`clients (${config.target}, ${config.count}) did not answer within ${timeoutMs} ms`),
        );
      }, timeoutMs);
      const onExit = (code: number | null) => {
        clearTimeout(timer);
        reject(new Error(`clients (${config.target}) exited with ${code} before answering`));
      };
      child.once('exit', onExit);
      child.once('message', (message: ChildMessage) => {
        clearTimeout(timer);
        child.off('exit', onExit);
        resolveMessage(message);
      });
    });
  return next().then((first) => {
    if (first.type !== 'ready') {
      child.kill('SIGKILL');
      throw new Error(
        `clients (${config.target}) failed: ${first.type === 'error' ? first.message : first.type}`,
      );
    }
    return {
      connectMs: first.connectMs,
      pid: child.pid!,
      async stop(expected?: number) {
        const answer = next();
        child.send({ type: 'stop', expected });
        const message = await answer;
        if (message.type !== 'result') throw new Error(`clients (${config.target}) did not report a result`);
        return message.result;
      },
    };
  });
}
