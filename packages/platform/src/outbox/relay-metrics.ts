import type { Registry } from 'prom-client';
import { counter, histogram } from '../metrics.js';

/**
 * Where a row's lag goes: `pickup` from its write (commit included) until the relay read it, `queue` from then
 * until its publish began (behind its aggregate's earlier rows, or waiting for a publisher), `publish` the
 * publish's round trip until JetStream's ack. Their sum is the row's lag.
 */
export type RelayPhase = 'pickup' | 'queue' | 'publish';

/** What the relay measures; in Prometheus in its process, or forwarded from a relay thread to its process's. */
export interface RelayMetrics {
  published(count: number): void;
  failed(): void;
  /** Seconds from a row's write to its ack. */
  lag(seconds: number): void;
  phase(phase: RelayPhase, seconds: number): void;
}

export function promRelayMetrics(registry: Registry): RelayMetrics {
  const published = counter(registry, { name: 'outbox_published_total', help: 'Events published' });
  const failures = counter(registry, { name: 'outbox_publish_failures_total', help: 'Failed publishes' });
  const lag = histogram(registry, {
    name: 'outbox_relay_lag_seconds',
    help: 'Time from writing an event to the outbox to its JetStream ack',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30],
  });
  const phases = histogram(registry, {
    name: 'outbox_relay_phase_seconds',
    help: 'Parts of the relay lag: pickup (write to read), queue (read to publish), publish (publish to ack)',
    labelNames: ['phase'],
    buckets: [
      0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05, 0.075, 0.1, 0.25, 0.5, 1, 5,
    ],
  });
  return {
    published: (count) => published.inc(count),
    failed: () => failures.inc(),
    lag: (seconds) => lag.observe(seconds),
    phase: (phase, seconds) => phases.observe({ phase }, seconds),
  };
}

/** Measurements of a relay thread since its last report, posted to its process in one message. */
export interface RelayReport {
  published: number;
  failed: number;
  lags: number[];
  phases: Array<[RelayPhase, number]>;
}

/** Collects a relay thread's measurements for `take()`, which hands them over and starts afresh. */
export class RelayReportBuffer implements RelayMetrics {
  private report: RelayReport = emptyReport();

  published(count: number): void {
    this.report.published += count;
  }
  failed(): void {
    this.report.failed++;
  }
  lag(seconds: number): void {
    this.report.lags.push(seconds);
  }
  phase(phase: RelayPhase, seconds: number): void {
    this.report.phases.push([phase, seconds]);
  }

  /** What was measured since the last take, or null when nothing was. */
  take(): RelayReport | null {
    const report = this.report;
    if (
      report.published === 0 &&
      report.failed === 0 &&
      report.lags.length === 0 &&
      report.phases.length === 0
    )
      return null;
    this.report = emptyReport();
    return report;
  }
}

export function applyRelayReport(metrics: RelayMetrics, report: RelayReport): void {
  if (report.published > 0) metrics.published(report.published);
  for (let i = 0; i < report.failed; i++) metrics.failed();
  for (const seconds of report.lags) metrics.lag(seconds);
  for (const [phase, seconds] of report.phases) metrics.phase(phase, seconds);
}

const emptyReport = (): RelayReport => ({ published: 0, failed: 0, lags: [], phases: [] });
