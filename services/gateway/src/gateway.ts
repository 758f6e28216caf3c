import { EVENTS_STREAM, WS_CLOSE } from '@inv/contracts';
import {
  type AppServer,
  authSettingsFrom,
  closeNats,
  connectEventBus,
  createHttpServer,
  createLogger,
  createMetricsRegistry,
  createTokenVerifier,
  listenOn,
} from '@inv/platform';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import type { Logger } from 'pino';
import { ConnectionRegistry } from './app/connections.js';
import { HubRegistry } from './app/hub.js';
import { LiveRouter } from './app/live-router.js';
import type { LiveFeed } from './app/ports.js';
import { Protocol } from './app/protocol.js';
import { Semaphore } from './app/semaphore.js';
import { SessionTracker } from './app/sessions.js';
import { Subscriptions } from './app/subscriptions.js';
import { eventLoopLoad, WriteFlusher } from './app/write-flusher.js';
import { connectionLimits, type GatewayConfig } from './config.js';
import { RecentWindow } from './domain/recent-window.js';
import { RecentEvents } from './domain/stored-event.js';
import { authenticator } from './infra/http/authenticate.js';
import { wsRoutes } from './infra/http/ws-routes.js';
import { createGatewayMetrics } from './infra/metrics.js';
import { lastMatching } from './infra/nats/last-visible.js';
import { natsLiveFeed } from './infra/nats/live-feed.js';
import { openSessionBucket } from './infra/nats/session-kv.js';
import { natsStreamLookup } from './infra/nats/stream-lookup.js';
import { natsStreamReader } from './infra/nats/stream-reader.js';
import { EventsStreamState } from './infra/nats/stream-state.js';

export interface Gateway {
  url: string;
  port: number;
  app: AppServer;
  nc: NatsConnection;
  /** Open WebSocket connections of this instance. */
  connections(): number;
  /** Tells every client to reconnect elsewhere, closes them with 1001, stores session positions, drains NATS. */
  stop(): Promise<void>;
}

export interface StartGatewayOptions {
  logger?: Logger;
  /** Wraps the live feed (tests make it lose messages on purpose). */
  wrapLiveFeed?: (feed: LiveFeed) => LiveFeed;
}

/** How long clients get to close after the shutdown notice before they are cut off. */
const CLOSE_GRACE_MS = 2_000;

/** Starts the realtime gateway: `/ws`, `/ws/warehouses`, `/metrics`, `/healthz`, `/readyz`. */
export async function startGateway(
  config: GatewayConfig,
  options: StartGatewayOptions = {},
): Promise<Gateway> {
  const logger = options.logger ?? createLogger('gateway', config.LOG_LEVEL);
  const registry = createMetricsRegistry('gateway');
  const metrics = createGatewayMetrics(registry);
  const nc = await connectEventBus(config, 'gateway', logger);
  let stopping = false;

  try {
    const jsm = await jetstreamManager(nc);
    const events = new RecentEvents();
    const connections = new ConnectionRegistry(metrics, config.HEARTBEAT_MS, {
      perUser: config.WS_MAX_CONNECTIONS_PER_USER,
      perIp: config.WS_MAX_CONNECTIONS_PER_IP,
    });
    const stream = await EventsStreamState.open(jsm, (state) => {
      // Sequences start again in a recreated stream: every position held is void. Clients reconnect and
      // their old cursors get `reset`.
      logger.error('the EVENTS stream was recreated; closing every connection');
      events.clear();
      router.rebase(state.lastSeq);
      hubs.closeAll();
      for (const connection of connections.all()) {
        connection.close(WS_CLOSE.serviceRestart, 'event stream recreated; reconnect');
      }
    });
    const reader = natsStreamReader(jetstream(nc), jsm);
    const readSlots = new Semaphore(config.MAX_CONCURRENT_REPLAYS);
    const feed = natsLiveFeed(nc, logger);
    const hubs = new HubRegistry(config.CHANNEL_LINGER_MS);
    // Backfills of the live feed (a gap, a reconnect, a leader change) have slots of their own: client replays,
    // however many and however slow, never delay what every client of the instance depends on.
    const backfillSlots = new Semaphore(config.MAX_CONCURRENT_BACKFILLS);
    const router = new LiveRouter(
      {
        feed: options.wrapLiveFeed?.(feed) ?? feed,
        reader,
        lookup: natsStreamLookup(jsm),
        stream,
        readSlots: backfillSlots,
        metrics,
        logger,
        recent: new RecentWindow(config.RECENT_WINDOW_EVENTS, config.RECENT_WINDOW_BYTES),
      },
      hubs,
    );
    hubs.bind({ router, stream, events, metrics });
    await router.ready;
    const repository = await openSessionBucket(nc, {
      ttlMs: config.SESSION_TTL_HOURS * 3_600_000,
      replicas: config.STREAM_REPLICAS,
    });
    const sessions = new SessionTracker(
      repository,
      stream,
      metrics,
      logger,
      config.SESSION_FLUSH_MS,
      config.WS_MAX_SESSIONS_PER_USER,
    );
    const subscriptions = new Subscriptions({
      hubs,
      reader,
      stream,
      readSlots,
      recent: router,
      maxLiveChannels: config.WS_MAX_LIVE_CHANNELS,
      lastMatching: lastMatching(jsm),
      metrics,
      logger,
      onUnsubscribed: (connection, name) => sessions.forget(connection, name),
      onPositioned: (connection, name) => sessions.positioned(connection, name),
    });
    const verifyToken = createTokenVerifier(authSettingsFrom(config));
    const authenticate = authenticator(verifyToken, logger);
    const protocol = new Protocol({
      subscriptions,
      sessions,
      connections,
      authenticate,
      metrics,
      logger,
      heartbeatMs: config.HEARTBEAT_MS,
    });
    fillGapsAfterReconnects(nc, router, logger).catch((error: unknown) =>
      logger.error({ err: error }, 'watching the NATS connection failed'),
    );
    fillGapsAfterLeaderChanges(nc, router, logger);

    const load = eventLoopLoad(config.WS_WRITE_DELAY_BUSY_ABOVE);
    const app = await createHttpServer({
      logger,
      registry,
      slowRequestMs: config.SLOW_REQUEST_MS,
      verifyToken,
      readiness: {
        nats: async () => {
          if (nc.isClosed()) throw new Error('connection closed');
          await nc.flush();
        },
        stream: () => jsm.streams.info(EVENTS_STREAM),
        accepting: async () => {
          if (stopping) throw new Error('shutting down');
        },
      },
      docs: {
        title: 'Realtime gateway',
        description:
          'WebSocket endpoints /ws and /ws/warehouses (see docs/gateway.md for the protocol); health and metrics.',
      },
    });
    await app.register(wsRoutes, {
      protocol,
      authenticate,
      limits: connectionLimits(config),
      metrics,
      writes: new WriteFlusher(config.WS_WRITE_DELAY_MS, load.busy),
      stopping: () => stopping,
    });
    await sessions.start();
    connections.startHeartbeat();
    router.startAudits(config.LIVE_AUDIT_MS);
    connections.startExpiryCheck(config.TOKEN_EXPIRY_CHECK_MS);
    const { url, port } = await listenOn(app, config);
    logger.info({ port }, 'gateway listening');

    let stopped: Promise<void> | null = null;
    const stop = () => {
      stopped ??= (async () => {
        stopping = true;
        connections.stopHeartbeat();
        await connections.handOver(config.SHUTDOWN_RECONNECT_SPREAD_MS);
        await sessions.stop();
        await connections.drain(CLOSE_GRACE_MS);
        await app.close();
        hubs.closeAll();
        router.close();
        load.stop();
        await closeNats(nc);
      })();
      return stopped;
    };
    return { url, port, app, nc, connections: () => connections.size, stop };
  } catch (error) {
    await closeNats(nc);
    throw error;
  }
}

/**
 * Core subscriptions lose what is published while the connection is down. On a disconnect every channel holds
 * its live messages back; on the reconnect it reads the gap from the stream, then releases them.
 */
async function fillGapsAfterReconnects(
  nc: NatsConnection,
  router: LiveRouter,
  logger: Logger,
): Promise<void> {
  for await (const status of nc.status()) {
    if (status.type === 'disconnect') router.suspend();
    else if (status.type === 'reconnect') {
      logger.info({ position: router.position }, 'filling the live feed from the stream after a reconnect');
      void router.recover();
    }
  }
}

/**
 * The stream republishes a stored message at most once, from its leader: a leader that dies between storing and
 * republishing loses that live message while this process's own connection stays up. A new leader therefore
 * makes every channel fill from the stream exactly as after a reconnect (duplicates are dropped by sequence).
 */
function fillGapsAfterLeaderChanges(nc: NatsConnection, router: LiveRouter, logger: Logger): void {
  nc.subscribe(`$JS.EVENT.ADVISORY.STREAM.LEADER_ELECTED.${EVENTS_STREAM}`, {
    callback: (error) => {
      if (error) return;
      logger.info(
        { position: router.position },
        'filling the live feed from the stream after a leader change',
      );
      void router.recover();
    },
  });
}
