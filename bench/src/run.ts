/**
 * `npm run bench [-- --quick] [-- --only <name>[,<name>]]`: starts the servers under test (testkit's stack from
 * the build, plus a nats-server WebSocket listener and a Socket.IO relay for the peers), runs the benchmarks one
 * after another, prints each table and writes it as JSON and Markdown under bench/results/ (quick runs under
 * bench/results/quick/). Exits non-zero only when something is broken, never because a goal is missed.
 */
import { resolve } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { connections } from './benchmarks/connections.js';
import { contention } from './benchmarks/contention.js';
import type { Benchmark, BenchContext } from './benchmarks/context.js';
import { endToEnd } from './benchmarks/end-to-end.js';
import { fanout } from './benchmarks/fanout.js';
import { relayLag } from './benchmarks/relay-lag.js';
import { replay } from './benchmarks/replay.js';
import { type BenchTable, runInfo, toText, writeRun, writeTable } from './report.js';
import { preflightProblems, ROOT, startBenchStack } from './stack.js';
import { now } from './stats.js';

const BENCHMARKS: Benchmark[] = [fanout, endToEnd, replay, connections, contention, relayLag];

interface Options {
  quick: boolean;
  only: string[] | null;
}

function parseArgs(argv: string[]): Options {
  const options: Options = { quick: false, only: null };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--quick') options.quick = true;
    else if (arg === '--only' || arg.startsWith('--only=')) {
      const value = arg.includes('=') ? arg.slice('--only='.length) : argv[++i];
      options.only = (value ?? '').split(',').filter(Boolean);
    } else if (arg === '--help' || arg === '-h') {
      console.log(
        `usage: npm run bench -- [--quick] [--only ${BENCHMARKS.map((b) => b.name).join(',')}]\n` +
          BENCHMARKS.map((b) => `  ${b.name.padEnd(12)} ${b.description}`).join('\n'),
      );
      process.exit(0);
    } else throw new Error(`unknown argument ${arg} (try --help)`);
  }
  const unknown = options.only?.filter((name) => !BENCHMARKS.some((b) => b.name === name)) ?? [];
  if (unknown.length) throw new Error(`unknown benchmark ${unknown.join(', ')} (try --help)`);
  return options;
}

async function main(): Promise<number> {
  const options = parseArgs(process.argv.slice(2));
  const problems = preflightProblems();
  if (problems.length) {
    console.error(`cannot run the benchmarks:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    return 2;
  }
  const selected = BENCHMARKS.filter((b) => !options.only || options.only.includes(b.name));
  const dir = resolve(ROOT, options.quick ? 'bench/results/quick' : 'bench/results');
  const info = runInfo(options.quick);
  const started = now();
  const log = (line: string) => console.log(`[${((now() - started) / 1000).toFixed(1)}s] ${line}`);
  log('starting nats-server, PostgreSQL databases, inventory, transfer and gateway');
  const bench = await startBenchStack();
  const nc = await connect({ servers: bench.nats.url, name: 'bench-load' });
  const ctx: BenchContext = { bench, nc, token: await bench.stack.token(), quick: options.quick, log };
  const tables: BenchTable[] = [];
  try {
    for (const benchmark of selected) {
      const table = await benchmark.run(ctx);
      tables.push(table);
      console.log(`\n${toText(table)}`);
      writeTable(dir, table, info);
    }
  } finally {
    await nc.close();
    await bench.stop();
  }
  info.durationS = Math.round((now() - started) / 1000);
  if (!options.only) writeRun(dir, tables, info);
  log(`done; results in ${dir}`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error('benchmark run failed:', error);
    process.exit(1);
  },
);
