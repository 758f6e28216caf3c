/**
 * `npm run bench [-- --quick] [-- --only <name>[,<name>]]`: starts the servers under test (testkit's stack from
 * the build, plus a nats-server WebSocket listener and a Socket.IO relay for the peers), runs the benchmarks one
 * after another, prints each table and writes it as JSON and Markdown under bench/results/ (quick runs under
 * bench/results/quick/). Exits non-zero only when something is broken, never because a goal is missed.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { connections } from './benchmarks/connections.js';
import { contention } from './benchmarks/contention.js';
import type { BenchContext, Benchmark } from './benchmarks/context.js';
import { endToEnd } from './benchmarks/end-to-end.js';
import { fanout } from './benchmarks/fanout.js';
import { relayLag } from './benchmarks/relay-lag.js';
import { replay } from './benchmarks/replay.js';
import { reservations } from './benchmarks/reservations.js';
import { scale } from './benchmarks/scale.js';
import { statement } from './benchmarks/statement.js';
import { storm } from './benchmarks/storm.js';
import { type BenchTable, runInfo, toText, writeRun, writeTable } from './report.js';
import { type BenchStack, preflightProblems, ROOT, startBenchStack } from './stack.js';
import { now } from './stats.js';

const BENCHMARKS: Benchmark[] = [
  fanout,
  endToEnd,
  replay,
  storm,
  connections,
  contention,
  statement,
  relayLag,
  reservations,
  scale,
];

interface Options {
  quick: boolean;
  only: string[] | null;
  /** Write CPU profiles of the servers under test (node --cpu-prof) to this directory. */
  profileDir: string | null;
}

const PROFILE_DIR = resolve(ROOT, '.tmp/bench-profiles');

function parseArgs(argv: string[]): Options {
  const options: Options = { quick: false, only: null, profileDir: null };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--quick') options.quick = true;
    else if (arg === '--profile') options.profileDir = PROFILE_DIR;
    else if (arg === '--only' || arg.startsWith('--only=')) {
      const value = arg.includes('=') ? arg.slice('--only='.length) : argv[++i];
      options.only = (value ?? '').split(',').filter(Boolean);
    } else if (arg === '--help' || arg === '-h') {
      console.log(
        `usage: npm run bench -- [--quick] [--profile] [--only ${BENCHMARKS.map((b) => b.name).join(',')}]\n` +
          `  --profile    CPU profiles of the servers under test in ${PROFILE_DIR} (figures are then slower)\n` +
          BENCHMARKS.map((b) => `  ${b.name.padEnd(12)} ${b.description}`).join('\n'),
      );
      process.exit(0);
    } else throw new Error(`unknown argument ${arg} (try --help)`);
  }
  const unknown = options.only?.filter((name) => !BENCHMARKS.some((b) => b.name === name)) ?? [];
  if (unknown.length) throw new Error(`unknown benchmark ${unknown.join(', ')} (try --help)`);
  return options;
}

function profileEnv(dir: string): Record<string, string> {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const preload = resolve(ROOT, 'bench/dist/cpu-profile.js');
  process.env.BENCH_PROFILE_DIR = dir; // for the load generator's own processes (client-pool.ts)
  return { NODE_OPTIONS: `--import=${preload}`, BENCH_PROFILE_DIR: dir };
}

/** Profiles are named by process id; this says which process was which. */
function recordProfiledPids(dir: string, bench: BenchStack): void {
  const { stack } = bench;
  const pids = {
    gateway: stack.gateways[0]?.pid,
    inventory: stack.inventory.pid,
    transfer: stack.transfer.pid,
  };
  writeFileSync(resolve(dir, 'pids.json'), `${JSON.stringify(pids, null, 2)}\n`);
}

async function main(): Promise<number> {
  const options = parseArgs(process.argv.slice(2));
  const problems = preflightProblems();
  if (problems.length) {
    console.error(`cannot run the benchmarks:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    return 2;
  }
  const selected = BENCHMARKS.filter((b) => !options.only || options.only.includes(b.name));
  // Profiled figures are slower than real ones: they go beside the profiles, never over the results.
  const dir = options.profileDir ?? resolve(ROOT, options.quick ? 'bench/results/quick' : 'bench/results');
  const info = runInfo(options.quick);
  const started = now();
  const log = (line: string) => console.log(`[${((now() - started) / 1000).toFixed(1)}s] ${line}`);
  log('starting nats-server, PostgreSQL databases, inventory, transfer and gateway');
  const serverEnv = options.profileDir ? profileEnv(options.profileDir) : {};
  const bench = await startBenchStack(serverEnv);
  const nc = await connect({ servers: bench.nats.url, name: 'bench-load' });
  const ctx: BenchContext = {
    bench,
    nc,
    token: await bench.stack.token(),
    quick: options.quick,
    serverEnv,
    log,
  };
  if (options.profileDir) recordProfiledPids(options.profileDir, bench);
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
  if (!options.only && !options.profileDir) writeRun(dir, tables, info);
  if (options.profileDir)
    log(`CPU profiles in ${options.profileDir}: node bench/dist/profile-summary.js ${options.profileDir}`);
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
