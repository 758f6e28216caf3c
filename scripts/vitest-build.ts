import { execFileSync } from 'node:child_process';

/**
 * Fault and end-to-end tests run services from their build: bring it up to date first (incremental `tsc -b`, and
 * the dashboard's browser bundle). SKIP_BUILD=1 skips it when the build is known to be current.
 */
export default function setup(): void {
  if (process.env.SKIP_BUILD === '1') return;
  execFileSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit' });
}
