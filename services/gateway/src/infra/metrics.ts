import { CHANNEL_KINDS, type ChannelKind } from '@inv/contracts';
import { counter, gauge, histogram } from '@inv/platform';
import type { Registry } from 'prom-client';
import type { GatewayMetrics } from '../app/ports.js';

/** What the gateway counts; live figures (connections, subscriptions, channels) are read at scrape time. */
export function createGatewayMetrics(registry: Registry): GatewayMetrics {
  const subscriptionsByKind = new Map<ChannelKind, number>(CHANNEL_KINDS.map((kind) => [kind, 0]));
  const live = { connections: { inventory: 0, warehouses: 0 }, hubs: 0, replays: 0 };

  gauge(registry, {
    name: 'gateway_connections',
    help: 'Open WebSocket connections',
    labelNames: ['endpoint'],
    collect() {
      this.set({ endpoint: '/ws' }, live.connections.inventory);
      this.set({ endpoint: '/ws/warehouses' }, live.connections.warehouses);
    },
  });
  gauge(registry, {
    name: 'gateway_subscriptions',
    help: 'Channel subscriptions of connected clients, by channel kind',
    labelNames: ['kind'],
    collect() {
      for (const [kind, count] of subscriptionsByKind) this.set({ kind }, count);
    },
  });
  gauge(registry, {
    name: 'gateway_live_channels',
    help: 'Channels with a live NATS subscription in this process (shared by all their clients)',
    collect() {
      this.set(live.hubs);
    },
  });
  gauge(registry, {
    name: 'gateway_active_replays',
    help: 'Replays from the stream in progress',
    collect() {
      this.set(live.replays);
    },
  });

  return {
    live,
    subscribed(kind: ChannelKind, delta: 1 | -1) {
      subscriptionsByKind.set(kind, (subscriptionsByKind.get(kind) ?? 0) + delta);
    },
    framesOut: counter(registry, { name: 'gateway_frames_out_total', help: 'Frames sent to clients' }),
    replayedEvents: counter(registry, {
      name: 'gateway_replayed_events_total',
      help: 'Events sent to clients from the stream when resuming from a cursor',
    }),
    replayReads: counter(registry, {
      name: 'gateway_replay_reads_total',
      help: 'Stream reads for client resumes (one shared read serves every client resuming a channel from it)',
    }),
    windowReplays: counter(registry, {
      name: 'gateway_window_replays_total',
      help: 'Resumes served from the recent-events window in memory, without reading the stream',
    }),
    windowReplayedEvents: counter(registry, {
      name: 'gateway_window_replayed_events_total',
      help: 'Events sent to clients from the recent-events window when resuming from a cursor',
    }),
    slowConsumerCloses: counter(registry, {
      name: 'gateway_slow_consumer_closes_total',
      help: 'Connections closed because their send queue overflowed',
    }),
    heartbeatCloses: counter(registry, {
      name: 'gateway_heartbeat_closes_total',
      help: 'Connections closed because they stopped answering pings',
    }),
    deliveryLag: histogram(registry, {
      name: 'gateway_delivery_lag_seconds',
      help: 'Time from an event occurring to its live fan-out to clients',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    }),
    authFailures: counter(registry, {
      name: 'gateway_auth_failures_total',
      help: 'Connections refused for a missing, invalid or expired token',
      labelNames: ['reason'],
    }),
    connectionLimitCloses: counter(registry, {
      name: 'gateway_connection_limit_closes_total',
      help: 'Connections closed with 4409: their user or address already held the maximum on this instance',
    }),
    tokenExpiryCloses: counter(registry, {
      name: 'gateway_token_expiry_closes_total',
      help: 'Connections closed with 4401 because their token expired without a refresh',
    }),
    refreshes: counter(registry, {
      name: 'gateway_token_refreshes_total',
      help: 'Token refreshes on live connections, by outcome',
      labelNames: ['outcome'],
    }),
    resets: counter(registry, {
      name: 'gateway_resets_total',
      help: 'Cursors that could not be resumed (the client reloads over REST)',
      labelNames: ['reason'],
    }),
    errorFrames: counter(registry, {
      name: 'gateway_error_frames_total',
      help: 'Error frames sent to clients, by code',
      labelNames: ['code'],
    }),
    backfills: counter(registry, {
      name: 'gateway_backfills_total',
      help: 'Rounds in which the live feed read the stream: a hole, a NATS reconnect, a leader change, a rejected message',
    }),
    liveRejected: counter(registry, {
      name: 'gateway_live_rejected_total',
      help: "Messages on live subjects not delivered: without the stream's RePublish headers, or a sequence the stream does not have",
      labelNames: ['reason'],
    }),
    liveGaps: counter(registry, {
      name: 'gateway_live_gaps_total',
      help: 'Live messages found lost on their way, by how (the previous sequence on a subject, or the periodic audit)',
      labelNames: ['found_by'],
    }),
    undecodable: counter(registry, {
      name: 'gateway_undecodable_messages_total',
      help: 'Stream messages that are not events and were skipped',
    }),
    sessionTakeovers: counter(registry, {
      name: 'gateway_session_takeovers_total',
      help: 'Connections closed with 4409 because a newer connection bound their durable session',
    }),
    sessionWriteFailures: counter(registry, {
      name: 'gateway_session_write_failures_total',
      help: 'Failed writes of durable session positions (retried)',
    }),
  };
}
