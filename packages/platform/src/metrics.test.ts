import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { counter, gauge, histogram } from './metrics.js';

describe('metrics', () => {
  it('declares a metric once per registry: a second component gets the same one and adds its labels', async () => {
    const registry = new Registry();
    const first = counter(registry, {
      name: 'inbox_applied_total',
      help: 'Events applied',
      labelNames: ['consumer'],
    });
    const second = counter(registry, {
      name: 'inbox_applied_total',
      help: 'Events applied',
      labelNames: ['consumer'],
    });
    expect(second).toBe(first);
    first.inc({ consumer: 'a' });
    second.inc({ consumer: 'b' }, 2);
    const values = (await registry.getSingleMetric('inbox_applied_total')!.get()).values;
    expect(values.map((v) => [v.labels.consumer, v.value])).toEqual([
      ['a', 1],
      ['b', 2],
    ]);
  });

  it('keeps registries apart', () => {
    const config = { name: 'outbox_relay_lag_seconds', help: 'lag', buckets: [1] };
    const a = histogram(new Registry(), config);
    const b = histogram(new Registry(), config);
    expect(a).not.toBe(b);
    expect(gauge(new Registry(), { name: 'g', help: 'g' })).not.toBe(
      gauge(new Registry(), { name: 'g', help: 'g' }),
    );
  });
});
