import { DURABLE_CONSUMERS } from '@inv/contracts';
import { loadInventoryConfig, migrateInventoryDatabase } from '@inv/inventory';
import {
  connectNats,
  createLogger,
  ensureDeadLettersStream,
  ensureDurableConsumer,
  ensureEventsStream,
  InfrastructureError,
  loadConfig,
  natsServers,
} from '@inv/platform';
import { loadTransferConfig, migrateTransferDatabase } from '@inv/transfer';
import { jetstreamManager } from '@nats-io/jetstream';
import { InfraConfig } from './config.js';

/**
 * Prepares a fresh environment, idempotently: the EVENTS and DEAD_LETTERS streams and the services' durable consumers on NATS,
 * each service's database (created if missing) and its migrations.
 */
export async function setup(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const config = loadConfig(InfraConfig, env);
  const logger = createLogger('infra', config.LOG_LEVEL);
  const nc = await connectNats({
    servers: natsServers(config),
    name: 'infra-setup',
    logger,
    user: config.NATS_USER,
    pass: config.NATS_PASSWORD,
  });
  try {
    const jsm = await jetstreamManager(nc);
    const stream = await ensureEventsStream(jsm, {
      replicas: config.STREAM_REPLICAS,
      maxAgeMs: config.STREAM_MAX_AGE_HOURS * 3_600_000,
    });
    logger.info({ stream: stream.config.name, messages: stream.state.messages }, 'stream ready');
    const deadLetters = await ensureDeadLettersStream(jsm, { replicas: config.STREAM_REPLICAS });
    logger.info(
      { stream: deadLetters.config.name, messages: deadLetters.state.messages },
      'dead-letter stream ready',
    );
    for (const durable of Object.values(DURABLE_CONSUMERS)) {
      await ensureDurableConsumer(jsm, { name: durable.name, filterSubject: durable.filterSubject });
    }
    logger.info(
      { consumers: Object.values(DURABLE_CONSUMERS).map((d) => d.name) },
      'durable consumers ready',
    );
  } finally {
    await nc.close();
  }
  // Migrations serve no requests: the services' configurations are read for their database settings only, so
  // auth is off here whatever NODE_ENV says (a service refuses AUTH_DISABLED in production).
  const common = { ...env, NATS_URL: config.NATS_URL, AUTH_DISABLED: 'true', NODE_ENV: 'development' };
  const inventory = await migrateInventoryDatabase(
    loadInventoryConfig({ ...common, DATABASE_URL: config.INVENTORY_DATABASE_URL }),
  );
  logger.info({ applied: inventory }, 'inventory database ready');
  const transfer = await migrateTransferDatabase(
    loadTransferConfig({ ...common, DATABASE_URL: config.TRANSFER_DATABASE_URL }),
  );
  logger.info({ applied: transfer }, 'transfer database ready');
}

const isMain = import.meta.url === `file://${process.argv[1]}`;
if (isMain) {
  setup().catch((error: unknown) => {
    console.error(error instanceof InfrastructureError ? `setup failed: ${error.message}` : error);
    process.exit(1);
  });
}
