import cliProgress from 'cli-progress';
import type { Io } from './io.js';

export interface Progress {
  /** `done` items of `total` (the total may grow as the estimate turns out low). */
  update(done: number): void;
  stop(): void;
}

const LINE_EVERY = 1_000;

/**
 * A progress bar on a terminal (cli-progress, on stderr); elsewhere a line every thousand items so that logs and
 * supervisors see it move; nothing with `--json`, whose stdout is for the result alone.
 */
export function startProgress(io: Io, options: { json: boolean; total: number; label: string }): Progress {
  let total = Math.max(options.total, 0);
  if (options.json) return { update: () => undefined, stop: () => undefined };
  if (io.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        stream: io.stderr as NodeJS.WritableStream,
        format: `${options.label} [{bar}] {percentage}% {value}/{total} {rate}/s eta {eta_formatted}`,
        hideCursor: true,
        etaBuffer: 200,
      },
      cliProgress.Presets.shades_classic,
    );
    const started = Date.now();
    bar.start(total, 0, { rate: 0 });
    return {
      update(done) {
        if (done > total) {
          total = done;
          bar.setTotal(total);
        }
        bar.update(done, { rate: Math.round(done / Math.max((Date.now() - started) / 1000, 0.001)) });
      },
      stop: () => bar.stop(),
    };
  }
  let reported = 0;
  return {
    update(done) {
      total = Math.max(total, done);
      if (done - reported >= LINE_EVERY) {
        reported = done - (done % LINE_EVERY);
        io.stderr.write(`${options.label}: ${done}/${total}\n`);
      }
    },
    stop: () => undefined,
  };
}
