import { NatsServer, natsServerBinary } from './nats-server.js';
import { canConnect } from './ports.js';

export interface TestNats {
  url: string;
  /** The server process when this test owns one (it can then kill and restart it). */
  server: NatsServer | null;
  stop(): Promise<void>;
}

/**
 * NATS for one test file: its own `nats-server` on a free port when the binary is on PATH; otherwise a container
 * where Docker runs; otherwise the shared server of `NATS_URL`.
 */
export async function startTestNats(): Promise<TestNats> {
  if (natsServerBinary()) {
    const server = await NatsServer.start();
    return { url: server.url, server, stop: () => server.stop() };
  }
  const container = await startNatsContainer();
  if (container) return container;
  const url = process.env.NATS_URL;
  if (!url)
    throw new Error('no nats-server on PATH, no Docker and no NATS_URL: cannot give the tests a NATS server');
  const port = Number(new URL(url.replace(/^nats:/, 'http:')).port || 4222);
  if (!(await canConnect(port))) throw new Error(`NATS_URL ${url} is not reachable`);
  return { url, server: null, stop: async () => undefined };
}

async function startNatsContainer(): Promise<TestNats | null> {
  try {
    const { GenericContainer, Wait } = await import('testcontainers');
    const container = await new GenericContainer('nats:2.9.10')
      .withCommand(['-js'])
      .withExposedPorts(4222)
      .withWaitStrategy(Wait.forLogMessage(/Server is ready/))
      .start();
    const url = `nats://${container.getHost()}:${container.getMappedPort(4222)}`;
    return { url, server: null, stop: async () => void (await container.stop()) };
  } catch {
    return null;
  }
}
