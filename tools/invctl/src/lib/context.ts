import type { Command } from 'commander';
import type { Io } from './io.js';
import { Output } from './output.js';

export interface GlobalOptions {
  nats: string;
  json?: boolean;
}

/** What every command action gets: where to write, how to format, where NATS is. */
export interface CommandContext {
  io: Io;
  out: Output;
  natsUrl: string;
}

/** Runs a command's body with its context and records its exit code. */
export type Runner = (command: Command, body: (ctx: CommandContext) => Promise<number>) => Promise<void>;

export function contextOf(io: Io, command: Command): CommandContext {
  const globals = command.optsWithGlobals<GlobalOptions>();
  return { io, out: new Output(io, globals.json === true), natsUrl: globals.nats };
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`;
}
