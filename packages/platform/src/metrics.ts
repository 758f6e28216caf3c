import {
  Counter,
  type CounterConfiguration,
  collectDefaultMetrics,
  Gauge,
  type GaugeConfiguration,
  Histogram,
  type HistogramConfiguration,
  type Metric,
  Registry,
} from 'prom-client';

export function createMetricsRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return registry;
}

type Config<C> = Omit<C, 'registers'>;

/**
 * The one way metrics are declared: in `registry`, or the metric of that name already there (several
 * components of one process, e.g. two inbox consumers, share a metric and tell themselves apart by labels).
 */
function metric<M extends Metric<string>>(registry: Registry, name: string, create: () => M): M {
  return (registry.getSingleMetric(name) as M | undefined) ?? create();
}

export function counter<L extends string = string>(
  registry: Registry,
  config: Config<CounterConfiguration<L>>,
): Counter<L> {
  return metric(registry, config.name, () => new Counter<L>({ ...config, registers: [registry] }));
}

export function gauge<L extends string = string>(
  registry: Registry,
  config: Config<GaugeConfiguration<L>>,
): Gauge<L> {
  return metric(registry, config.name, () => new Gauge<L>({ ...config, registers: [registry] }));
}

export function histogram<L extends string = string>(
  registry: Registry,
  config: Config<HistogramConfiguration<L>>,
): Histogram<L> {
  return metric(registry, config.name, () => new Histogram<L>({ ...config, registers: [registry] }));
}
