import { Counter, Gauge, type Registry } from 'prom-client';

export interface WebhookMetrics {
  deliveries: Counter<'endpoint'>;
  failures: Counter<'endpoint'>;
  deadLetters: Counter<'endpoint'>;
  paused: Counter<'endpoint'>;
  lag: Gauge<'endpoint'>;
}

/** Per endpoint: delivered events, failed attempts, dead-lettered events, pauses, and events not yet delivered. */
export function createWebhookMetrics(
  registry: Registry,
  lagOf: () => Promise<Map<string, number>>,
): WebhookMetrics {
  const labelNames = ['endpoint'] as const;
  return {
    deliveries: new Counter({
      name: 'webhook_deliveries_total',
      help: 'Events delivered (2xx)',
      labelNames,
      registers: [registry],
    }),
    failures: new Counter({
      name: 'webhook_delivery_failures_total',
      help: 'Failed delivery attempts',
      labelNames,
      registers: [registry],
    }),
    deadLetters: new Counter({
      name: 'webhook_dead_letters_total',
      help: 'Events set aside after their retries ran out',
      labelNames,
      registers: [registry],
    }),
    paused: new Counter({
      name: 'webhook_endpoint_pauses_total',
      help: 'Endpoints paused for failing too long',
      labelNames,
      registers: [registry],
    }),
    lag: new Gauge({
      name: 'webhook_lag_events',
      help: 'Events of the stream not yet handled by the endpoint consumer',
      labelNames,
      registers: [registry],
      async collect() {
        this.reset();
        for (const [endpoint, lag] of await lagOf()) this.set({ endpoint }, lag);
      },
    }),
  };
}
