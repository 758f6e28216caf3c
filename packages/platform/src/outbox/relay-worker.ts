/**
 * The outbox relay on a thread of its own (see RelayThread): its reads, publishes and acks are handled as they
 * arrive instead of waiting in the service's event loop behind its HTTP requests.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { natsServers } from '../config.js';
import { createLogger } from '../logger.js';
import { connectNats } from '../nats/connect.js';
import { streamRestorer } from '../runtime.js';
import { OutboxRelay } from './relay.js';
import { RelayReportBuffer } from './relay-metrics.js';
import type { RelayThreadData, ToRelayThread } from './relay-thread.js';

const REPORT_EVERY_MS = 250;

async function main(port: NonNullable<typeof parentPort>, data: RelayThreadData): Promise<void> {
  const logger = createLogger(data.service, data.logLevel).child({ thread: 'outbox-relay' });
  const nc = await connectNats({
    servers: natsServers(data.eventBus.config),
    name: `${data.service}-outbox-relay`,
    logger,
    user: data.eventBus.config.NATS_USER,
    pass: data.eventBus.config.NATS_PASSWORD,
  });
  const metrics = new RelayReportBuffer();
  const relay = new OutboxRelay({
    databaseUrl: data.databaseUrl,
    nc,
    logger,
    metrics,
    lockKey: data.lockKey,
    restoreStreams: streamRestorer(nc, data.eventBus.config, { deadLetters: data.eventBus.deadLetters }),
  });
  const report = () => {
    const taken = metrics.take();
    if (taken) port.postMessage({ type: 'report', report: taken });
  };
  const reporter = setInterval(report, REPORT_EVERY_MS);
  let leader = false;
  const leadership = setInterval(() => {
    if (relay.isLeader === leader) return;
    leader = relay.isLeader;
    port.postMessage({ type: 'leader', leader });
  }, 50);
  port.on('message', (message: ToRelayThread) => {
    if (message === 'notify') relay.notify();
    else if (message === 'stop') {
      void (async () => {
        await relay.stop();
        clearInterval(reporter);
        clearInterval(leadership);
        report();
        await nc.close().catch(() => undefined);
        port.close();
      })();
    }
  });
  relay.start();
}

if (parentPort) {
  const port = parentPort;
  main(port, workerData as RelayThreadData).catch((error: unknown) => {
    // The process restarts the thread; what it had read stays unpublished in the outbox until then.
    port.postMessage({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
    process.exitCode = 1;
    port.close();
  });
}
