import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { freePort, NatsServer, natsServerBinary, type Stack, startStack } from '@inv/testkit';

export const ROOT = resolve(import.meta.dirname, '../..');

const BUILT_ENTRIES = [
  'infra/dist/setup.js',
  'services/inventory/dist/main.js',
  'services/transfer/dist/main.js',
  'services/gateway/dist/main.js',
  'bench/dist/load/clients.js',
  'bench/dist/peers/socketio-relay.js',
];

/** What keeps the benchmarks from running at all, in words a person can act on; empty when ready. */
export function preflightProblems(): string[] {
  const problems = BUILT_ENTRIES.filter((entry) => !existsSync(resolve(ROOT, entry))).map(
    (entry) => `${entry} is missing: build first with \`npx tsc -b\` (or \`npm run build\`)`,
  );
  if (!natsServerBinary())
    problems.push('nats-server is not on PATH (or NATS_SERVER_BIN): it runs the stream');
  return problems;
}

/** The servers under test: a nats-server of its own with a WebSocket listener (the NATS-direct peer), and the stack. */
export interface BenchStack {
  stack: Stack;
  nats: NatsServer;
  natsWsUrl: string;
  stop(): Promise<void>;
}

/** `env` goes to every service of the stack (e.g. NODE_OPTIONS for a CPU profile). */
export async function startBenchStack(env: Record<string, string> = {}): Promise<BenchStack> {
  const wsPort = await freePort();
  const nats = await NatsServer.start({
    config: `websocket { listen: "127.0.0.1:${wsPort}", no_tls: true, compression: false }\nmax_connections: 64K`,
  });
  try {
    const stack = await startStack({ gateways: 1, natsUrl: nats.url, env });
    return {
      stack,
      nats,
      natsWsUrl: `ws://127.0.0.1:${wsPort}`,
      async stop() {
        await stack.stop();
        await nats.stop();
      },
    };
  } catch (error) {
    await nats.stop();
    throw error;
  }
}
