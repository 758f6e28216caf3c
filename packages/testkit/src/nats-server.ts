import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager, StorageType } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { canConnect, eventually, freePort } from './ports.js';
import { onPath, type Spawned, spawnServer, stopChild } from './processes.js';

export interface NatsServerOptions {
  /** Extra lines for the server's configuration file. */
  config?: string;
  name?: string;
  port?: number;
  storeDir?: string;
}

/**
 * A `nats-server` with JetStream that a test owns: it may kill it (-9 or gracefully) and restart it on the same
 * port and store directory, which is what the fault tests need. Never the machine's own server.
 */
export class NatsServer {
  private process: Spawned | null = null;

  private constructor(
    readonly name: string,
    readonly port: number,
    readonly storeDir: string,
    private readonly configFile: string,
    private readonly ownsStore: boolean,
  ) {}

  static async start(options: NatsServerOptions = {}): Promise<NatsServer> {
    const binary = natsServerBinary();
    if (!binary) throw new Error('nats-server is not on PATH');
    const port = options.port ?? (await freePort());
    const name = options.name ?? `test-${port}`;
    const storeDir = options.storeDir ?? mkdtempSync(join(tmpdir(), `nats-${port}-`));
    const configFile = join(storeDir, `${name}.conf`);
    writeFileSync(
      configFile,
      [
        `server_name: ${name}`,
        `listen: 127.0.0.1:${port}`,
        `jetstream { store_dir: "${join(storeDir, 'js')}", max_memory_store: 256MB, max_file_store: 4GB }`,
        'max_payload: 1MB',
        options.config ?? '',
      ].join('\n'),
    );
    const server = new NatsServer(name, port, storeDir, configFile, options.storeDir === undefined);
    await server.launch();
    return server;
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    const child = this.process?.child;
    return !!child && child.exitCode === null && child.signalCode === null;
  }

  get pid(): number | undefined {
    return this.process?.child.pid;
  }

  /** Kills the server with SIGKILL by default: no flush, no goodbye, like a crash. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (this.process) await stopChild(this.process.child, signal);
  }

  async restart(): Promise<void> {
    await this.kill('SIGTERM');
    await this.launch();
  }

  /** Starts the server again after `kill`, on the same port with the same store. */
  async launch(): Promise<void> {
    if (this.running) return;
    this.process = spawnServer(natsServerBinary()!, ['-c', this.configFile]);
    const proc = this.process;
    await eventually(
      async () => {
        if (proc.child.exitCode !== null) {
          throw new Error(`nats-server exited: ${proc.output().slice(-2000)}`);
        }
        return canConnect(this.port);
      },
      { timeoutMs: 20_000, message: `nats-server on port ${this.port}` },
    );
  }

  output(): string {
    return this.process?.output() ?? '';
  }

  async stop(): Promise<void> {
    await this.kill('SIGTERM');
    if (this.ownsStore) rmSync(this.storeDir, { recursive: true, force: true });
  }
}

export function natsServerBinary(): string | null {
  return process.env.NATS_SERVER_BIN ?? onPath('nats-server');
}

/** A 3-node (or n-node) JetStream cluster on loopback, each node its own process and store. */
export class NatsCluster {
  private constructor(
    readonly nodes: NatsServer[],
    /** Each node's monitoring port (`/jsz` names the JetStream meta leader). */
    private readonly monitorPorts: number[],
  ) {}

  static async start(size = 3, clusterName = 'test'): Promise<NatsCluster> {
    const clientPorts = await Promise.all(Array.from({ length: size }, freePort));
    const routePorts = await Promise.all(Array.from({ length: size }, freePort));
    const monitorPorts = await Promise.all(Array.from({ length: size }, freePort));
    const routes = routePorts.map((p) => `nats-route://127.0.0.1:${p}`).join(', ');
    const nodes = await Promise.all(
      clientPorts.map((port, i) =>
        NatsServer.start({
          port,
          name: `${clusterName}-n${i + 1}`,
          config: [
            `cluster { name: ${clusterName}, listen: 127.0.0.1:${routePorts[i]}, routes: [ ${routes} ] }`,
            `http: 127.0.0.1:${monitorPorts[i]}`,
          ].join('\n'),
        }),
      ),
    );
    const cluster = new NatsCluster(nodes, monitorPorts);
    await cluster.waitForJetStream();
    return cluster;
  }

  /**
   * Waits until the cluster has elected its JetStream meta leader and can place an asset on every node: a meta
   * leader answers API requests before it knows its peers are current, and then refuses an R3 stream with
   * `no suitable peers for placement` (seen on a loaded machine). A throwaway stream of the cluster's size proves it.
   */
  async waitForJetStream(timeoutMs = 30_000): Promise<void> {
    const nc = await connect({ servers: this.servers });
    const probe = 'TESTKIT_PLACEMENT_PROBE';
    try {
      await eventually(
        async () => {
          const jsm = await jetstreamManager(nc, { timeout: 2_000 });
          await jsm.streams.add({
            name: probe,
            subjects: ['testkit.placement-probe'],
            storage: StorageType.Memory,
            num_replicas: this.nodes.length,
          });
          await jsm.streams.delete(probe);
          return true;
        },
        { timeoutMs, message: `JetStream able to place an R${this.nodes.length} stream` },
      );
    } finally {
      await nc.close();
    }
  }

  /** The name of the JetStream meta leader as a running node reports it; undefined while there is none. */
  async metaLeader(): Promise<string | undefined> {
    for (const [i, node] of this.nodes.entries()) {
      if (!node.running) continue;
      const reply = await fetch(`http://127.0.0.1:${this.monitorPorts[i]}/jsz`).catch(() => null);
      if (!reply?.ok) continue;
      const jsz = (await reply.json()) as { meta_cluster?: { leader?: string } };
      if (jsz.meta_cluster?.leader) return jsz.meta_cluster.leader;
    }
    return undefined;
  }

  /** Client URLs of every node, for a client that should fail over between them. */
  get servers(): string[] {
    return this.nodes.map((n) => n.url);
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.stop()));
  }
}
