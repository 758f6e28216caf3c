import {
  type AppServer,
  authSettingsFrom,
  closeConnections,
  connectEventBus,
  createHttpServer,
  createLogger,
  createMetricsRegistry,
  createOrm,
  createTokenVerifier,
  databaseAndNatsReadiness,
  listenOn,
  migrateDatabase,
  type Orm,
  OutboxRelay,
  registerOutboxGauges,
  relayLockKey,
  streamRestorer,
} from '@inv/platform';
import type { NatsConnection } from '@nats-io/nats-core';
import type { Logger } from 'pino';
import type { WebhooksConfig } from './config.js';
import { WEBHOOK_MIGRATIONS } from './infra/db/migrations/index.js';
import { WebhookStore } from './infra/db/store.js';
import { webhookRoutes } from './infra/http/webhook-routes.js';
import { WebhookBridge } from './infra/nats/bridge.js';

function ormOptions(config: WebhooksConfig, logger: Logger) {
  return {
    url: config.DATABASE_URL,
    entities: [],
    migrations: WEBHOOK_MIGRATIONS,
    logger,
    poolSize: config.DB_POOL_SIZE,
  };
}

export async function migrateWebhooksDatabase(config: WebhooksConfig, logger?: Logger): Promise<string[]> {
  return migrateDatabase(ormOptions(config, logger ?? createLogger('webhooks-migrate', config.LOG_LEVEL)));
}

export interface WebhooksService {
  url: string;
  port: number;
  app: AppServer;
  orm: Orm;
  nc: NatsConnection;
  bridge: WebhookBridge;
  relay: OutboxRelay;
  stop(): Promise<void>;
}

/**
 * The webhook bridge: HTTP API for endpoints, one durable consumer and delivery loop per active endpoint, and the
 * outbox relay that publishes its `webhooks.endpoint_*` events.
 */
export async function startWebhooksService(
  config: WebhooksConfig,
  options: { logger?: Logger; migrate?: boolean } = {},
): Promise<WebhooksService> {
  const logger = options.logger ?? createLogger('webhooks', config.LOG_LEVEL);
  if (options.migrate ?? true) await migrateWebhooksDatabase(config, logger);
  const registry = createMetricsRegistry('webhooks');
  const nc = await connectEventBus(config, 'webhooks', logger);
  const orm = await createOrm(ormOptions(config, logger));
  const relay = new OutboxRelay({
    databaseUrl: config.DATABASE_URL,
    nc,
    logger,
    registry,
    lockKey: relayLockKey('webhooks'),
    restoreStreams: streamRestorer(nc, config),
  });
  registerOutboxGauges(registry, orm);
  const bridge = new WebhookBridge({
    nc,
    store: new WebhookStore(orm),
    logger,
    registry,
    settings: {
      retry: {
        baseMs: config.WEBHOOK_RETRY_BASE_MS,
        maxDelayMs: config.WEBHOOK_RETRY_MAX_DELAY_MS,
        giveUpAfterMs: config.WEBHOOK_RETRY_FOR_MS,
      },
      timeoutMs: config.WEBHOOK_TIMEOUT_MS,
      allowPrivate: config.WEBHOOK_ALLOW_PRIVATE,
      pauseAfterDeadLetters: config.WEBHOOK_PAUSE_AFTER_DEAD_LETTERS,
    },
    notify: () => relay.notify(),
    syncMs: config.WEBHOOK_SYNC_MS,
  });
  const app = await createHttpServer({
    logger,
    registry,
    verifyToken: createTokenVerifier(authSettingsFrom(config)),
    readiness: databaseAndNatsReadiness(orm, nc),
    docs: {
      title: 'Webhook bridge',
      description:
        'Signed webhooks for the platform events: endpoints, deliveries, dead letters (admins only).',
    },
  });
  await app.register(webhookRoutes, { bridge, allowPrivate: config.WEBHOOK_ALLOW_PRIVATE });

  let stopping: Promise<void> | null = null;
  const stop = () => {
    stopping ??= (async () => {
      await app.close();
      await bridge.stop();
      await relay.stop();
      await closeConnections(nc, orm);
    })();
    return stopping;
  };
  try {
    relay.start();
    await bridge.start();
    const { url, port } = await listenOn(app, config);
    logger.info({ port }, 'webhooks service listening');
    return { url, port, app, orm, nc, bridge, relay, stop };
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }
}
