/**
 * A Prometheus histogram read from a service's `/metrics`, and quantiles of what it counted between two reads:
 * the services time their own phases (e.g. the outbox relay's pickup, queue and publish) where the bench cannot.
 */

/** Cumulative counts by upper bound (`le`, in the metric's unit; +Inf last) of one series. */
export type Buckets = Array<{ le: number; count: number }>;

/** The buckets of `name` whose labels include `labels`, from a text exposition. */
export function parseBuckets(text: string, name: string, labels: Record<string, string>): Buckets {
  const buckets: Buckets = [];
  const wanted = Object.entries(labels).map(([key, value]) => `${key}="${value}"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}_bucket{`)) continue;
    const close = line.lastIndexOf('}');
    const labelText = line.slice(name.length + '_bucket{'.length, close);
    if (!wanted.every((label) => labelText.split(',').includes(label))) continue;
    const le = /(?:^|,)le="([^"]+)"/.exec(labelText)?.[1];
    if (le === undefined) continue;
    buckets.push({ le: le === '+Inf' ? Infinity : Number(le), count: Number(line.slice(close + 1).trim()) });
  }
  return buckets.sort((a, b) => a.le - b.le);
}

/**
 * The `q` quantile of what was counted between `before` and `after` (same series), as the upper bound of the
 * bucket it falls in: an "at most" figure, as fine as the buckets. Null when nothing was counted.
 */
export function quantileBetween(before: Buckets, after: Buckets, q: number): number | null {
  const counted = after.map(({ le, count }) => ({
    le,
    count: count - (before.find((b) => b.le === le)?.count ?? 0),
  }));
  const total = counted.at(-1)?.count ?? 0;
  if (total <= 0) return null;
  return counted.find((bucket) => bucket.count >= q * total)?.le ?? null;
}

/** The service's metrics page, or '' when it cannot be read (the phases then print as unknown). */
export async function scrapeMetrics(baseUrl: string): Promise<string> {
  try {
    const response = await fetch(`${baseUrl}/metrics`);
    return response.ok ? await response.text() : '';
  } catch {
    return '';
  }
}
