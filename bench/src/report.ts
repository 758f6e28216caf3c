import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';

export type Cell = string | number | null;

/** A goal of the issue, checked against this run's figures; a missed goal is reported, never a failure. */
export interface Goal {
  text: string;
  /** The measured value against the goal, e.g. "p99 1.3× NATS-direct". */
  measured: string;
  met: boolean | null;
}

/** One benchmark's outcome: a table plus the goals it checks and what to know when reading it. */
export interface BenchTable {
  name: string;
  title: string;
  columns: string[];
  rows: Record<string, Cell>[];
  goals: Goal[];
  notes: string[];
}

export interface RunInfo {
  startedAt: string;
  quick: boolean;
  node: string;
  cpus: string;
  durationS?: number;
}

export function runInfo(quick: boolean): RunInfo {
  const cores = cpus();
  return {
    startedAt: new Date().toISOString(),
    quick,
    node: process.version,
    cpus: `${cores.length} × ${cores[0]?.model.trim() ?? 'unknown'}`,
  };
}

function formatCell(cell: Cell): string {
  if (cell === null || (typeof cell === 'number' && Number.isNaN(cell))) return '–';
  if (typeof cell === 'number') {
    if (Number.isInteger(cell)) return String(cell);
    return Math.abs(cell) >= 100 ? cell.toFixed(0) : cell.toFixed(Math.abs(cell) >= 10 ? 1 : 2);
  }
  return cell;
}

function goalLine(goal: Goal): string {
  const mark = goal.met === null ? '?' : goal.met ? 'met' : 'MISSED';
  return `${mark}: ${goal.text} — measured ${goal.measured}`;
}

export function toMarkdown(table: BenchTable): string {
  const header = `| ${table.columns.join(' | ')} |`;
  const rule = `| ${table.columns.map(() => '---').join(' | ')} |`;
  const body = table.rows.map(
    (row) => `| ${table.columns.map((c) => formatCell(row[c] ?? null)).join(' | ')} |`,
  );
  const goals = table.goals.map((g) => `- ${goalLine(g)}`);
  const notes = table.notes.map((n) => `- ${n}`);
  return [`### ${table.title}`, '', header, rule, ...body, '', ...goals, ...notes, ''].join('\n');
}

/** A plain-text table for the terminal, columns padded to their widest cell. */
export function toText(table: BenchTable): string {
  const cells = [
    table.columns,
    ...table.rows.map((row) => table.columns.map((c) => formatCell(row[c] ?? null))),
  ];
  const widths = table.columns.map((_, i) => Math.max(...cells.map((line) => line[i]!.length)));
  const lines = cells.map((line) => line.map((cell, i) => cell.padEnd(widths[i]!)).join('  '));
  lines.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('  '));
  return [
    `== ${table.title}`,
    ...lines,
    ...table.goals.map(goalLine),
    ...table.notes.map((n) => `note: ${n}`),
    '',
  ].join('\n');
}

/** Writes one benchmark's table as `<name>.json` and `<name>.md`. */
export function writeTable(dir: string, table: BenchTable, info: RunInfo): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${table.name}.json`), `${JSON.stringify({ ...info, ...table }, null, 2)}\n`);
  writeFileSync(join(dir, `${table.name}.md`), `${runHeading(info)}\n\n${toMarkdown(table)}`);
}

/** Writes the whole run as `latest.json` and `latest.md`. */
export function writeRun(dir: string, tables: BenchTable[], info: RunInfo): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'latest.json'), `${JSON.stringify({ ...info, benchmarks: tables }, null, 2)}\n`);
  writeFileSync(join(dir, 'latest.md'), [runHeading(info), '', ...tables.map(toMarkdown)].join('\n'));
}

function runHeading(info: RunInfo): string {
  const kind = info.quick ? 'quick (smoke) run' : 'full run';
  const took = info.durationS === undefined ? '' : `, ${info.durationS} s`;
  return `Benchmarks, ${kind} of ${info.startedAt} (Node ${info.node}, ${info.cpus}${took}). Ratios within one run are what count: the machine is shared.`;
}
