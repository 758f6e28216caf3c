import type { Io } from './io.js';
import { type Column, formatTable } from './table.js';

/** Renders a command's result as a table for people or as JSON for scripts (`--json`). */
export class Output {
  constructor(
    readonly io: Io,
    readonly json: boolean,
  ) {}

  /** A whole result: pretty JSON, or a table of `rows`. */
  result<T>(value: unknown, columns: Column<T>[], rows: T[]): void {
    if (this.json) this.io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
    else this.table(columns, rows);
  }

  table<T>(columns: Column<T>[], rows: T[]): void {
    this.io.stdout.write(formatTable(columns, rows));
  }

  /** One JSON object per line (NDJSON), for streams of records that may never end. */
  record(value: unknown): void {
    this.io.stdout.write(`${JSON.stringify(value)}\n`);
  }

  text(line: string): void {
    this.io.stdout.write(`${line}\n`);
  }

  /** Notes for the operator; stderr, so stdout stays machine-readable. */
  note(line: string): void {
    this.io.stderr.write(`${line}\n`);
  }
}
