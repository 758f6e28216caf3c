export interface Column<T> {
  header: string;
  value: (row: T) => unknown;
  /** Numbers read better right-aligned. */
  align?: 'left' | 'right';
}

export function cellText(value: unknown): string {
  if (value === null || value === undefined) return '-';
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** A plain-text table with a header row, columns padded to their widest cell. */
export function formatTable<T>(columns: Column<T>[], rows: T[]): string {
  const cells = rows.map((row) => columns.map((c) => cellText(c.value(row))));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((r) => r[i]!.length)));
  const line = (texts: string[]) =>
    texts
      .map((text, i) => (columns[i]!.align === 'right' ? text.padStart(widths[i]!) : text.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return `${[line(columns.map((c) => c.header)), ...cells.map(line)].join('\n')}\n`;
}

/**
 * Lines of a table whose rows arrive one by one (a live tail has no end to measure), with fixed widths; the
 * last column is free.
 */
export function streamingTable(columns: { header: string; width: number; align?: 'left' | 'right' }[]) {
  const line = (cells: string[]) =>
    `${cells
      .map((cell, i) => {
        const { width, align } = columns[i]!;
        return align === 'right' ? cell.padStart(width) : cell.padEnd(width);
      })
      .join('  ')
      .trimEnd()}\n`;
  return { header: line(columns.map((c) => c.header)), line };
}
