import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { canConnect, eventually, freePort } from './ports.js';
import { type Spawned, spawnServer, stopChild } from './processes.js';

export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

export function adminDatabaseUrl(): string {
  return process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL;
}

export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

export interface TestDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/** A fresh, empty database on the PostgreSQL server of `DATABASE_URL` (or the local default), dropped after. */
export async function createTestDatabase(
  prefix = 'test',
  serverUrl = adminDatabaseUrl(),
): Promise<TestDatabase> {
  const name = `${prefix}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`.toLowerCase();
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  return {
    name,
    url: withDatabase(serverUrl, name),
    async drop() {
      const client = new pg.Client({ connectionString: serverUrl });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

function postgresBinDir(): string {
  if (process.env.PG_BIN_DIR) return process.env.PG_BIN_DIR;
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
  const dir = versions.map((v) => join(root, v, 'bin')).find((d) => existsSync(join(d, 'postgres')));
  if (!dir) throw new Error('PostgreSQL server binaries not found (set PG_BIN_DIR)');
  return dir;
}

/** PostgreSQL refuses to run as root; as root the test's own server runs as the `postgres` user. */
function postgresUser(): { uid?: number; gid?: number } {
  return process.getuid?.() === 0 ? postgresUserIds() : {};
}

/**
 * A PostgreSQL server that a test owns, so that it can be stopped and restarted under load without touching the
 * machine's own server.
 */
export class PostgresServer {
  private process: Spawned | null = null;

  private constructor(
    readonly port: number,
    readonly dataDir: string,
  ) {}

  static async start(): Promise<PostgresServer> {
    const port = await freePort();
    const dataDir = mkdtempSync(join(tmpdir(), `pg-${port}-`));
    const user = postgresUser();
    if (user.uid !== undefined) chownSync(dataDir, user.uid, user.gid!);
    chmodSync(dataDir, 0o700);
    execFileSync(
      join(postgresBinDir(), 'initdb'),
      ['-D', dataDir, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8'],
      { stdio: 'pipe', ...user },
    );
    const server = new PostgresServer(port, dataDir);
    await server.launch();
    return server;
  }

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  async launch(): Promise<void> {
    const args = [
      '-D',
      this.dataDir,
      '-p',
      String(this.port),
      '-h',
      '127.0.0.1',
      '-k',
      this.dataDir,
      '-c',
      'fsync=off',
      '-c',
      'max_connections=200',
    ];
    this.process = spawnServer(join(postgresBinDir(), 'postgres'), args, postgresUser());
    const proc = this.process;
    await eventually(
      async () => {
        if (proc.child.exitCode !== null) throw new Error(`postgres exited: ${proc.output().slice(-2000)}`);
        if (!(await canConnect(this.port))) return false;
        const client = new pg.Client({ connectionString: this.url });
        try {
          await client.connect();
          await client.query('select 1');
          return true;
        } catch {
          return false;
        } finally {
          await client.end().catch(() => undefined);
        }
      },
      { timeoutMs: 30_000, message: `postgres on port ${this.port}` },
    );
  }

  /** Fast shutdown (SIGINT) by default; SIGKILL for a crash. */
  async kill(signal: NodeJS.Signals = 'SIGINT'): Promise<void> {
    if (this.process) await stopChild(this.process.child, signal);
  }

  async restart(): Promise<void> {
    await this.kill('SIGINT');
    await this.launch();
  }

  /**
   * Freezes the server with SIGSTOP (postmaster first, so it forks no new backend, then every backend): queries
   * hang and connections are neither accepted nor refused, like a stalled disk or a VM paused by its host.
   */
  pause(): void {
    const postmaster = this.process?.child.pid;
    if (postmaster === undefined) return;
    process.kill(postmaster, 'SIGSTOP');
    for (const pid of childrenOf(postmaster)) process.kill(pid, 'SIGSTOP');
  }

  /** Lets a paused server run again (SIGCONT to the backends, then the postmaster). */
  resume(): void {
    const postmaster = this.process?.child.pid;
    if (postmaster === undefined) return;
    for (const pid of childrenOf(postmaster)) process.kill(pid, 'SIGCONT');
    process.kill(postmaster, 'SIGCONT');
  }

  async stop(): Promise<void> {
    await this.kill('SIGINT');
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

function postgresUserIds(): { uid: number; gid: number } {
  const out = execFileSync('id', ['postgres'], { encoding: 'utf8' });
  const uid = Number(/uid=(\d+)/.exec(out)?.[1]);
  const gid = Number(/gid=(\d+)/.exec(out)?.[1]);
  return { uid, gid };
}

/** Process ids whose parent is `parent` (Linux /proc). */
function childrenOf(parent: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Field 4 is the parent pid; the command (field 2) may contain spaces, so split after its ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === parent) children.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return children;
}
