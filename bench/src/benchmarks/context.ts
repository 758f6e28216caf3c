import type { NatsConnection } from '@nats-io/nats-core';
import type { BenchTable } from '../report.js';
import type { BenchStack } from '../stack.js';

/** What every benchmark gets: the servers under test, a NATS connection of the load generator, the mode. */
export interface BenchContext {
  bench: BenchStack;
  nc: NatsConnection;
  /** A token the gateway and the REST APIs accept (manager of every warehouse). */
  token: string;
  quick: boolean;
  /** Environment for server processes a benchmark starts itself (the Socket.IO relay), like the stack's. */
  serverEnv: Record<string, string>;
  log: (line: string) => void;
}

export interface Benchmark {
  name: string;
  description: string;
  run(ctx: BenchContext): Promise<BenchTable>;
}
