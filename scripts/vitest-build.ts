import { execFileSync } from 'node:child_process';

/** Fault and end-to-end tests run services from their build: bring it up to date first (incremental). */
export default function setup(): void {
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-b'], { stdio: 'inherit' });
}
