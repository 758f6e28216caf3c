/**
 * The cases an environment variable names, to try or profile some alone: `BENCH_STORM_CASES=10000x50,1000x20`
 * with keys `['clients', 'missed']` is `[{ clients: 10000, missed: 50 }, { clients: 1000, missed: 20 }]`;
 * null when the variable is not set.
 */
export function casesFromEnv<K extends string>(
  variable: string,
  keys: readonly [K, K],
): Record<K, number>[] | null {
  const spec = process.env[variable];
  if (!spec) return null;
  return spec.split(',').map((item) => {
    const values = item.split('x').map(Number);
    if (values.length !== 2 || values.some((value) => !Number.isFinite(value) || value <= 0))
      throw new Error(`${variable}: "${item}" is not <${keys[0]}>x<${keys[1]}>`);
    return { [keys[0]]: values[0], [keys[1]]: values[1] } as Record<K, number>;
  });
}
