import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { eventually, freePort } from './ports.js';
import { type Spawned, spawnServer, stopChild } from './processes.js';

export interface ServiceProcessOptions {
  /** Path of the built entry point, e.g. `services/inventory/dist/main.js` (relative to the repository root). */
  entry: string;
  env: Record<string, string>;
  /** Environment variable that carries the HTTP port; a free port is chosen. */
  portVariable?: string;
  port?: number;
}

const ROOT = resolve(import.meta.dirname, '../../..');

/**
 * A service run as its own Node process from its build, so a test can kill it with SIGKILL mid-work and
 * start it again on the same port. The test command builds (`tsc -b`) before tests run.
 */
export class ServiceProcess {
  private process: Spawned | null = null;

  private constructor(
    private readonly entry: string,
    private readonly env: Record<string, string>,
    readonly port: number,
  ) {}

  static async start(options: ServiceProcessOptions): Promise<ServiceProcess> {
    const entry = resolve(ROOT, options.entry);
    if (!existsSync(entry)) throw new Error(`${options.entry} is not built; run \`npm run build\` first`);
    const port = options.port ?? (await freePort());
    const env = { ...options.env, [options.portVariable ?? 'PORT']: String(port), HOST: '127.0.0.1' };
    const service = new ServiceProcess(entry, env, port);
    await service.launch();
    return service;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    const child = this.process?.child;
    return !!child && child.exitCode === null && child.signalCode === null;
  }

  /** The process id while running (benchmarks read its resident memory). */
  get pid(): number | undefined {
    return this.process?.child.pid;
  }

  async launch(): Promise<void> {
    if (this.running) return;
    this.process = spawnServer(process.execPath, [this.entry], {
      env: { ...process.env, LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn', ...this.env },
    });
    const proc = this.process;
    await eventually(
      async () => {
        if (proc.child.exitCode !== null)
          throw new Error(`${this.entry} exited: ${proc.output().slice(-3000)}`);
        const response = await fetch(`${this.url}/readyz`).catch(() => null);
        return response?.ok ?? false;
      },
      // Generous: on a busy machine a service run as several workers takes a while to start.
      { timeoutMs: 60_000, message: `${this.entry} to be ready` },
    );
  }

  /** SIGKILL by default: a crash, with no graceful shutdown. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (this.process) await stopChild(this.process.child, signal);
  }

  async restart(): Promise<void> {
    await this.kill('SIGTERM');
    await this.launch();
  }

  output(): string {
    return this.process?.output() ?? '';
  }

  stop(): Promise<void> {
    return this.kill('SIGTERM');
  }
}
