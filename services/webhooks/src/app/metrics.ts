import { counter, gauge } from '@inv/platform';
import type { Counter, Gauge, Registry } from 'prom-client';

export interface WebhookMetrics {
  deliveries: Counter<'endpoint'>;
  failures: Counter<'endpoint'>;
  deadLetters: Counter<'endpoint'>;
  paused: Counter<'endpoint'>;
  lag: Gauge<'endpoint'>;
  workers: Gauge;
}

/**
 * Per endpoint: delivered events, failed attempts, dead-lettered events, pauses, and events not yet delivered;
 * and how many endpoints this instance is delivering for.
 */
export function createWebhookMetrics(
  registry: Registry,
  lagOf: () => Promise<Map<string, number>>,
  workersRunning: () => number,
): WebhookMetrics {
  const labelNames = ['endpoint'] as const;
  return {
    deliveries: counter(registry, {
      name: 'webhook_deliveries_total',
      help: 'Events delivered (2xx)',
      labelNames,
    }),
    failures: counter(registry, {
      name: 'webhook_delivery_failures_total',
      help: 'Failed delivery attempts',
      labelNames,
    }),
    deadLetters: counter(registry, {
      name: 'webhook_dead_letters_total',
      help: 'Events set aside after their retries ran out',
      labelNames,
    }),
    paused: counter(registry, {
      name: 'webhook_endpoint_pauses_total',
      help: 'Endpoints paused for failing too long',
      labelNames,
    }),
    lag: gauge(registry, {
      name: 'webhook_lag_events',
      help: 'Events of the stream not yet handled by the endpoint consumer',
      labelNames,
      async collect() {
        this.reset();
        for (const [endpoint, lag] of await lagOf()) this.set({ endpoint }, lag);
      },
    }),
    workers: gauge(registry, {
      name: 'webhook_endpoint_workers',
      help: 'Active endpoints this instance runs a delivery loop for',
      collect() {
        this.set(workersRunning());
      },
    }),
  };
}
