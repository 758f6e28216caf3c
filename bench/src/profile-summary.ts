/**
 * `node bench/dist/profile-summary.js <dir or .cpuprofile>…`: the functions with the most self time in each
 * CPU profile (from `npm run bench -- --profile`), so a missed goal can be traced to code without a GUI.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

function label(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const where = url
    .replace(/^file:\/\//, '')
    .replace(/.*\/node_modules\//, '~/')
    .replace(/.*\/work\/main\//, '');
  return `${functionName || '(anonymous)'} ${where ? `${where}:${lineNumber + 1}` : ''}`.trim();
}

/** Where a function comes from: an npm package, Node itself, this repository's workspace, or native code. */
function origin(url: string): string {
  const path = url.replace(/^file:\/\//, '');
  const inModules = /.*\/node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
  if (inModules) return inModules[1]!;
  if (path.startsWith('node:')) return 'node internals';
  const own = /\/work\/main\/([^/]+\/[^/]+)/.exec(path);
  if (own) return own[1]!;
  return path ? path : 'native (GC, I/O, program)';
}

/** Self time per function and per origin (ms) and total sampled time, from the sample deltas. */
export function selfTimes(profile: CpuProfile): {
  total: number;
  byFunction: Map<string, number>;
  byPackage: Map<string, number>;
} {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const byFunction = new Map<string, number>();
  const byPackage = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    const node = nodes.get(id);
    if (!node) return;
    total += ms;
    const key = label(node);
    byFunction.set(key, (byFunction.get(key) ?? 0) + ms);
    if (key !== '(idle)') {
      const from = origin(node.callFrame.url);
      byPackage.set(from, (byPackage.get(from) ?? 0) + ms);
    }
  });
  return { total, byFunction, byPackage };
}

function summarizeFile(file: string, top: number, names: Map<string, string>): void {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const { total, byFunction, byPackage } = selfTimes(profile);
  const idle = byFunction.get('(idle)') ?? 0;
  const pid = /\.(\d+)(?:\.\d+\.\d+)?\.cpuprofile$/.exec(file)?.[1] ?? '';
  console.log(
    `\n== ${names.get(pid) ?? basename(file)} (pid ${pid}): ${(total / 1000).toFixed(1)} s sampled, ${((100 * (total - idle)) / Math.max(1, total)).toFixed(0)}% busy`,
  );
  const packages = [...byPackage].sort((a, b) => b[1] - a[1]).slice(0, 12);
  console.log(
    `by package: ${packages.map(([p, ms]) => `${p} ${((100 * ms) / Math.max(1, total - idle)).toFixed(0)}%`).join(', ')}`,
  );
  const rows = [...byFunction]
    .filter(([k]) => k !== '(idle)')
    .sort((a, b) => b[1] - a[1])
    .slice(0, top);
  for (const [name, ms] of rows) {
    console.log(`${((100 * ms) / Math.max(1, total - idle)).toFixed(1).padStart(5)}%  ${name}`);
  }
}

const args = process.argv.slice(2);
const top = Number(process.env.TOP ?? 25);
for (const arg of args.length ? args : ['.tmp/bench-profiles']) {
  const files = statSync(arg).isDirectory()
    ? readdirSync(arg)
        .filter((f) => f.endsWith('.cpuprofile'))
        .map((f) => join(arg, f))
    : [arg];
  const pidsFile = join(statSync(arg).isDirectory() ? arg : join(arg, '..'), 'pids.json');
  const names = new Map<string, string>();
  if (existsSync(pidsFile)) {
    for (const [role, pid] of Object.entries(
      JSON.parse(readFileSync(pidsFile, 'utf8')) as Record<string, number>,
    )) {
      names.set(String(pid), role);
    }
  }
  for (const file of files) summarizeFile(file, top, names);
}
