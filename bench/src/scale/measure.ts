import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { httpRequest } from '../http.js';
import { residentBytes } from '../proc.js';
import { ROOT } from '../stack.js';
import { now, Samples } from '../stats.js';

/** What a run of GETs saw: latency of the 200s, the largest body, refusals by the read gate, other failures. */
export interface ReadTally {
  latency: Samples;
  maxBytes: number;
  ok: number;
  busy: number;
  failed: number;
}

export const newTally = (): ReadTally => ({ latency: new Samples(), maxBytes: 0, ok: 0, busy: 0, failed: 0 });

export async function timedGet(
  baseUrl: string,
  token: string,
  path: string,
  tally: ReadTally,
): Promise<void> {
  const started = now();
  const answer = await httpRequest(`${baseUrl}${path}`, { headers: { authorization: `Bearer ${token}` } });
  const bytes = Buffer.byteLength(answer.text);
  const ms = now() - started;
  if (answer.status === 200) {
    tally.ok++;
    tally.latency.push(ms);
    tally.maxBytes = Math.max(tally.maxBytes, bytes);
  } else if (answer.status === 503) tally.busy++;
  else tally.failed++;
}

/** Peak resident memory of a process while `work` runs, sampled every 50 ms. */
export async function peakRss<T>(pid: number, work: () => Promise<T>): Promise<{ result: T; peak: number }> {
  let peak = residentBytes(pid);
  const timer = setInterval(() => {
    try {
      peak = Math.max(peak, residentBytes(pid));
    } catch {
      // The process ended between two samples.
    }
  }, 50);
  try {
    return { result: await work(), peak };
  } finally {
    clearInterval(timer);
  }
}

export interface RebuildRun {
  ms: number;
  /** VmHWM of the invctl process: its peak resident memory. */
  peakRss: number;
  code: number;
  /** `differenceCount` of its JSON report; null when there was none. */
  differences: number | null;
}

/** `invctl rebuild inventory --json` from its build. */
export async function runRebuild(databaseUrl: string): Promise<RebuildRun> {
  const started = now();
  const child = spawn(
    process.execPath,
    [
      resolve(ROOT, 'tools/invctl/bin/invctl.js'),
      'rebuild',
      'inventory',
      '--database',
      databaseUrl,
      '--json',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  child.stderr.resume();
  let peakRss = 0;
  const timer = setInterval(() => {
    try {
      const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1];
      if (hwm) peakRss = Math.max(peakRss, Number(hwm) * 1024);
    } catch {
      // Ended.
    }
  }, 25);
  const code = await new Promise<number>((done) => child.on('close', (c) => done(c ?? -1)));
  clearInterval(timer);
  let differences: number | null = null;
  try {
    differences = (JSON.parse(out) as { differenceCount: number }).differenceCount;
  } catch {
    // No report: the caller shows the exit code.
  }
  return { ms: now() - started, peakRss, code, differences };
}
