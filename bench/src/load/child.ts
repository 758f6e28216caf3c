import { fork } from 'node:child_process';

/** A load-generator process of the run's own, spoken to over IPC one answer at a time. */
export interface LoadChild<Out, In> {
  pid: number;
  /** The child's next message; rejects (and kills the child) when it exits first or after `timeoutMs`. */
  next(timeoutMs?: number): Promise<Out>;
  send(message: In): void;
  kill(): void;
}

/**
 * Forks `entry` with its config as the first argument. `npm run bench -- --profile` profiles these processes
 * too, to tell a slow server from a slow load generator.
 */
export function forkLoadChild<Out, In>(
  entry: string,
  config: unknown,
  label: string,
  defaultTimeoutMs: number,
): LoadChild<Out, In> {
  const profileDir = process.env.BENCH_PROFILE_DIR;
  const profile = profileDir
    ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, `--cpu-prof-name=${label}.cpuprofile`]
    : [];
  const child = fork(entry, [JSON.stringify(config)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    execArgv: ['--max-old-space-size=2048', ...profile],
  });
  return {
    pid: child.pid!,
    next: (timeoutMs = defaultTimeoutMs) =>
      new Promise<Out>((resolveMessage, reject) => {
        const timer = setTimeout(() => {
          child.kill('SIGKILL');
          reject(new Error(`${label} did not answer within ${timeoutMs} ms`));
        }, timeoutMs);
        const onExit = (code: number | null) => {
          clearTimeout(timer);
          reject(new Error(`${label} exited with ${code} before answering`));
        };
        child.once('exit', onExit);
        child.once('message', (message: Out) => {
          clearTimeout(timer);
          child.off('exit', onExit);
          resolveMessage(message);
        });
      }),
    send: (message) => child.send(message as object),
    kill: () => child.kill('SIGKILL'),
  };
}

/**
 * `forkLoadChild`, resolved once the child says every client is connected (`ready`); a child that reports an
 * `error` (or anything else) first is killed and the start fails.
 */
export async function startLoadChild<Out extends { type: string }, In>(
  entry: string,
  config: unknown,
  label: string,
  timeoutMs: number,
): Promise<{ child: LoadChild<Out, In>; connectMs: number }> {
  const child = forkLoadChild<Out, In>(entry, config, label, timeoutMs);
  const first = (await child.next()) as Out & { connectMs?: number; message?: string };
  if (first.type !== 'ready') {
    child.kill();
    throw new Error(`${label} failed: ${first.type === 'error' ? first.message : first.type}`);
  }
  return { child, connectMs: first.connectMs ?? 0 };
}
