import { type ChildProcess, spawn, spawnSync } from 'node:child_process';

const children = new Set<ChildProcess>();
let cleanupInstalled = false;

/** Kills every server a test started when the test process exits, even on a crash. */
function installCleanup(): void {
  if (cleanupInstalled) return;
  cleanupInstalled = true;
  process.once('exit', () => {
    for (const child of children) child.kill('SIGKILL');
  });
}

export interface Spawned {
  child: ChildProcess;
  output: () => string;
}

export interface SpawnOptions {
  env?: NodeJS.ProcessEnv;
  uid?: number;
  gid?: number;
}

/** Enough of a service's log to find what it threw during a fault test, bounded for a chatty one. */
const OUTPUT_KEPT_CHARS = 500_000;

/** The last `limit` characters of a stream, kept as chunks so that a chunk costs no copy of what came before. */
class OutputTail {
  private chunks: string[] = [];
  private length = 0;

  constructor(private readonly limit: number) {}

  push(chunk: string): void {
    this.chunks.push(chunk);
    this.length += chunk.length;
    while (this.chunks.length > 1 && this.length - this.chunks[0]!.length >= this.limit) {
      this.length -= this.chunks.shift()!.length;
    }
  }

  text(): string {
    return this.chunks.join('').slice(-this.limit);
  }
}

export function spawnServer(command: string, args: string[], options: SpawnOptions = {}): Spawned {
  installCleanup();
  const child = spawn(command, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: options.env ?? process.env,
    uid: options.uid,
    gid: options.gid,
  });
  children.add(child);
  const output = new OutputTail(OUTPUT_KEPT_CHARS);
  const keep = (chunk: Buffer) => output.push(chunk.toString());
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  child.once('exit', () => children.delete(child));
  return { child, output: () => output.text() };
}

export async function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

export function onPath(binary: string): string | null {
  const found = spawnSync('sh', ['-c', `command -v ${binary}`], { encoding: 'utf8' });
  return found.status === 0 ? found.stdout.trim() : null;
}
